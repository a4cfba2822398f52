// Windows implementation of native_apply.hpp: AddDllDirectory for the chosen folders (PATH is in
// plan.env_changes and reaches children). Nothing to re-execute: the DLL search reads PATH and the
// added folders at each load. Not compiled on Linux.
#include "os/dynlib.hpp"
#include "start/cudnn_apply.hpp"

namespace alltalk {

void apply_native(LaunchPlan& plan, const std::vector<std::string>& /*args*/) {
    dynlib::add_search_dirs(plan.native.library_dirs());
}

}  // namespace alltalk
