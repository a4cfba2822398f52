#include "launch/roles.hpp"

#include "base/platform.hpp"
#include "gpu/probe.hpp"
#include "os/process.hpp"
#include "plan/child_codec.hpp"
#include "start/cudnn_apply.hpp"
#include "start/launch_hint.hpp"

namespace alltalk {

Role role_for(const std::vector<std::string>& args) {
    if (args.size() == 2 && args[0] == "--explain-signal") {
        return Role::ExplainSignal;
    }
    if (process::env_var(kGpuProbeVar)) {
        return Role::GpuProbe;
    }
    if (process::env_var(kChildPlanVar)) {
        return Role::Child;
    }
    if (process::env_var(kNativeReexecVar)) {
        return Role::Reexec;
    }
    return Role::Launch;
}

Invocation role_of(std::vector<std::string> args) {
    Invocation inv;
    inv.args = std::move(args);
    inv.reexeced = process::env_var(kNativeReexecVar).has_value();
    inv.role = role_for(inv.args);
    if (inv.role != Role::Launch && inv.role != Role::Reexec) {
        inv.env = process::environment();
    }
    if (inv.role == Role::Launch) {
        if (auto before = process::env_var(kLaunchHintVar)) {
            inv.hinted_library_path = process::env_var("LD_LIBRARY_PATH").value_or("");
            inv.hinted_before = *before;
            restore_library_path(*before);
            process::unset_env(kLaunchHintVar);
        }
    }
    return inv;
}

std::string library_path_now() {
    const auto ld = process::env_var("LD_LIBRARY_PATH");
    return ld ? "+" + *ld : "-";
}

void restore_library_path(const std::string& before) {
    if (before.rfind('+', 0) == 0) {
        process::set_env("LD_LIBRARY_PATH", before.substr(1));
    } else {
        process::unset_env("LD_LIBRARY_PATH");
    }
}

void reexec_from_hint(const std::vector<std::string>& args) {
    if (kHostPlatform == Platform::Windows || role_for(args) != Role::Launch ||
        process::env_var(kLaunchHintVar) || process::env_var(kFreshStartVar)) {
        return;
    }
    const LaunchHint hint = read_launch_hint(args);
    const std::string before = library_path_now();
    if (!hint.value || before == "+" + *hint.value) {
        return;
    }
    process::set_env(kLaunchHintVar, before);
    process::set_env("LD_LIBRARY_PATH", *hint.value);
    process::exec_self(args);
    restore_library_path(before);  // the exec failed: as if nothing was remembered
    process::unset_env(kLaunchHintVar);
}

}  // namespace alltalk
