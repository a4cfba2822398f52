// Linux implementation of native_apply.hpp: LD_LIBRARY_PATH and one guarded re-exec.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dynlib.hpp"
#include "error.hpp"
#include "native_apply.hpp"
#include "process.hpp"

namespace alltalk {

void require_native(const LaunchPlan& plan) {
    if (std::string msg = missing_cudnn_message(plan.native, plan.env); !msg.empty()) {
        throw LaunchError("cudnn", msg);
    }
}

void apply_native(const LaunchPlan& plan, const std::vector<std::string>& args) {
    const char* guard = std::getenv(kNativeReexecVar);
    const bool reexeced = guard != nullptr;
    process::unset_env(kNativeReexecVar);  // never passed on to the app or its children
    const EnvChange* want = nullptr;
    for (const auto& c : plan.env_changes) {
        if (c.name == "LD_LIBRARY_PATH") {
            want = &c;
        }
    }
    if (!want || !want->value) {
        return;
    }
    const char* current = std::getenv("LD_LIBRARY_PATH");
    if (current && *want->value == current) {
        spdlog::debug("cuDNN: LD_LIBRARY_PATH already leads with the chosen folders{}",
                      reexeced ? " (after one re-exec)" : "");
        return;
    }
    if (reexeced) {
        spdlog::warn(
            "warning: the launcher re-executed itself to set LD_LIBRARY_PATH for cuDNN, but the "
            "variable still differs; continuing without another re-exec");
        return;
    }
    const std::string exe = process::self_exe().string();
    process::set_env("LD_LIBRARY_PATH", *want->value);
    process::set_env(kNativeReexecVar, "1");
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    spdlog::debug("cuDNN: re-executing {} with LD_LIBRARY_PATH={}", exe, *want->value);
    ::execv(exe.c_str(), argv.data());
    const int err = errno;
    process::unset_env(kNativeReexecVar);
    spdlog::warn(
        "warning: could not re-execute the launcher to set LD_LIBRARY_PATH for cuDNN ({}); "
        "libraries loaded by plain name may not be the chosen ones",
        std::strerror(err));
}

void confirm_native(NativeDecision& decision) {
    for (auto& c : decision.choices) {
        const std::string main = c.candidate.main_library();
        if (main.empty()) {
            continue;
        }
        std::string err;
        dynlib::Library lib = dynlib::load(c.candidate.dir / main, false, err);
        if (!lib) {
            c.confirmed = "could not be loaded: " + err;
            continue;
        }
        using get_version_fn = std::size_t (*)();
        auto fn = reinterpret_cast<get_version_fn>(dynlib::symbol(lib, "cudnnGetVersion"));
        c.confirmed = fn ? "cudnnGetVersion() = " + std::to_string(fn())
                         : std::string("has no cudnnGetVersion");
    }
}

}  // namespace alltalk
