// Linux implementation of cudnn_apply.hpp: LD_LIBRARY_PATH and one guarded re-exec.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/error.hpp"
#include "os/dynlib.hpp"
#include "os/process.hpp"
#include "start/cudnn_apply.hpp"

namespace alltalk {

bool make_cudnn_links(const LaunchPlan& plan) {
    if (!plan.cudnn_link_dir) {
        return true;
    }
    // One link per chosen cuDNN file (libcudnn.so.9 -> <wheel>/libcudnn.so.9).
    const std::filesystem::path& dir = *plan.cudnn_link_dir;
    std::string why;
    bool ok = process::ensure_private_dir(dir.parent_path().parent_path(), why);
    for (const auto& c : plan.native.choices) {
        for (const auto& lib : c.candidate.libraries) {
            ok = ok && process::make_symlink(c.candidate.dir / lib, dir / lib, why);
        }
    }
    if (!ok) {
        spdlog::warn(
            "warning: could not make the folder of cuDNN links ({}); the chosen cuDNN folders go "
            "on LD_LIBRARY_PATH themselves",
            why);
    }
    return ok;
}

void serve_native(const LaunchPlan& /*plan*/, const std::vector<EnvChange>& changes,
                  const std::vector<std::string>& args, const Handover& handover, bool reexeced) {
    const EnvChange* want = library_path_change(changes);
    if (!want) {
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
    const EnvMap handed = handover();
    process::set_env("LD_LIBRARY_PATH", *want->value);
    for (const auto& [name, value] : handed) {
        process::set_env(name, value);
    }
    spdlog::debug("cuDNN: re-executing {} with LD_LIBRARY_PATH={}", process::self_exe().string(),
                  *want->value);
    const std::string why = process::exec_self(args);
    for (const auto& entry : handed) {
        process::unset_env(entry.first);
    }
    spdlog::warn(
        "warning: could not re-execute the launcher to set LD_LIBRARY_PATH for cuDNN ({}); "
        "libraries loaded by plain name may not be the chosen ones",
        why);
}

}  // namespace alltalk
