// The platform-neutral part of cudnn_apply.hpp: whether a missing cuDNN stops the launch, and
// the confirmation of each choice by loading it.
#include <spdlog/spdlog.h>

#include "base/error.hpp"
#include "os/dynlib.hpp"
#include "start/cudnn_apply.hpp"

namespace alltalk {

void require_native(const LaunchPlan& plan, bool gpu_usable, bool warned_before) {
    std::string msg = missing_cudnn_message(plan.native, plan.env);
    if (msg.empty()) {
        return;
    }
    if (!gpu_usable && plan.native.override_problem.empty() && missing_only_on_gpu(plan.native)) {
        if (warned_before) {
            return;
        }
        spdlog::warn("warning: {} It is needed only on the GPU, and this run uses the CPU.", msg);
        return;
    }
    throw LaunchError(Stage::Cudnn, msg);
}

const EnvChange* library_path_change(const std::vector<EnvChange>& changes) {
    const EnvChange* last = nullptr;
    for (const auto& c : changes) {
        last = c.name == "LD_LIBRARY_PATH" ? &c : last;
    }
    return last && last->value ? last : nullptr;
}

std::vector<std::string> confirm_native(const NativeDecision& decision) {
    std::vector<std::string> out;
    for (const auto& c : decision.choices) {
        std::string& confirmed = out.emplace_back();
        const std::string main = c.candidate.main_library();
        if (main.empty()) {
            continue;
        }
        std::string err;
        dynlib::Library lib = dynlib::load(c.candidate.dir / main, false, err);
        if (!lib) {
            confirmed = "could not be loaded: " + err;
            continue;
        }
        // cuDNN's API is __stdcall on Windows (CUDNNWINAPI), which x64 ignores; one type serves.
#ifdef _WIN32
        using get_version_fn = std::size_t(__stdcall*)();
#else
        using get_version_fn = std::size_t (*)();
#endif
        auto fn = reinterpret_cast<get_version_fn>(dynlib::symbol(lib, "cudnnGetVersion"));
        confirmed = fn ? "cudnnGetVersion() = " + std::to_string(fn())
                       : std::string("has no cudnnGetVersion");
    }
    return out;
}

}  // namespace alltalk
