// Windows implementation of native_apply.hpp: AddDllDirectory for the chosen folders (PATH is in
// plan.env_changes and reaches children). Nothing to re-execute: the DLL search reads PATH and the
// added folders at each load. Not compiled on Linux.
#include <spdlog/spdlog.h>
#include <windows.h>

#include "dynlib.hpp"
#include "error.hpp"
#include "native_apply.hpp"

namespace alltalk {

void apply_native(LaunchPlan& plan, const std::vector<std::string>& /*args*/) {
    dynlib::add_search_dirs(plan.native.library_dirs());
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
        using get_version_fn = std::size_t(__stdcall*)();
        auto fn = reinterpret_cast<get_version_fn>(dynlib::symbol(lib, "cudnnGetVersion"));
        c.confirmed = fn ? "cudnnGetVersion() = " + std::to_string(fn())
                         : std::string("has no cudnnGetVersion");
    }
}

}  // namespace alltalk
