#include "start/prepare.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

#include "base/error.hpp"
#include "os/process.hpp"
#include "plan/child_codec.hpp"

namespace fs = std::filesystem;

namespace alltalk {

bool make_alias_dir(const LaunchPlan& plan) {
    if (!plan.alias_dir) {
        return false;
    }
    // `python`, `python3` and `python3.X` all point at the launcher, which runs as the env's
    // python when it finds ALLTALK_LAUNCH_CHILD.
    const fs::path& dir = *plan.alias_dir;
    std::string why;
    bool ok = process::ensure_private_dir(dir.parent_path().parent_path(), why);
    if (ok) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        const std::string& v = plan.env.version.text;
        const std::string minor = v.substr(0, v.find('.', 2));
        for (const std::string& name :
             {std::string("python"), std::string("python3"), "python" + minor}) {
            ok = ok && process::make_symlink(plan.launcher, dir / name, why);
        }
    }
    if (ok) {
        spdlog::debug("bare `python` on PATH runs the launcher: {}", dir.string());
    } else {
        spdlog::warn(
            "warning: children that run a bare `python` get the env's plain interpreter, "
            "without the launcher's preparation ({})",
            why);
    }
    return ok;
}

void enter_process(const LaunchPlan& plan, const StartOutcome& outcome,
                   const std::vector<EnvChange>& changes) {
    process::apply(changes);
    process::set_env(kChildPlanVar, encode_child_plan(plan, outcome));
    std::error_code ec;
    fs::current_path(plan.cwd, ec);
    if (ec) {
        throw LaunchError(Stage::Cwd, ErrorText{"Cannot enter the working directory " +
                                                    plan.cwd.string() + ": " + ec.message() + ".",
                                                "", "Check the folder's permissions."});
    }
}

}  // namespace alltalk
