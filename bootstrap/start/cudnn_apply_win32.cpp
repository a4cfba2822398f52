// Windows implementation of cudnn_apply.hpp: AddDllDirectory for the chosen folders (PATH is in
// the environment changes and reaches children). Nothing to re-execute: the DLL search reads PATH
// and the added folders at each load. Not compiled on Linux.
#include "os/dynlib.hpp"
#include "start/cudnn_apply.hpp"

namespace alltalk {

bool make_cudnn_links(const LaunchPlan& /*plan*/) {
    return true;
}

void serve_native(const LaunchPlan& plan, const std::vector<EnvChange>& /*changes*/,
                  const std::vector<std::string>& /*args*/, const Handover& /*handover*/,
                  bool /*reexeced*/) {
    dynlib::add_search_dirs(plan.native.library_dirs());
}

}  // namespace alltalk
