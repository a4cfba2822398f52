#include "start/prepare.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

#include "base/error.hpp"
#include "os/process.hpp"
#include "plan/child_codec.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

// `python`, `python3` and `python3.X` in the alias folder all point at the launcher, which runs
// as the env's python when it finds ALLTALK_LAUNCH_CHILD.
bool make_alias_dir(const LaunchPlan& plan, std::string& why) {
    const fs::path& dir = *plan.alias_dir;
    if (!process::ensure_private_dir(dir.parent_path().parent_path(), why)) {
        return false;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string minor = plan.env.version.text.substr(0, plan.env.version.text.find('.', 2));
    for (const std::string& name :
         {std::string("python"), std::string("python3"), "python" + minor}) {
        if (!process::make_symlink(plan.launcher, dir / name, why)) {
            return false;
        }
    }
    return true;
}

void drop_alias_from_path(LaunchPlan& plan) {
    const std::string prefix = plan.alias_dir->string() + process::path_list_separator();
    for (auto& change : plan.env_changes) {
        if (change.name == "PATH" && change.value && change.value->rfind(prefix, 0) == 0) {
            change.value = change.value->substr(prefix.size());
        }
    }
    plan.alias_dir.reset();
}

}  // namespace

void prepare_process(LaunchPlan& plan) {
    if (plan.alias_dir) {
        std::string why;
        if (make_alias_dir(plan, why)) {
            spdlog::debug("bare `python` on PATH runs the launcher: {}", plan.alias_dir->string());
        } else {
            spdlog::warn(
                "warning: children that run a bare `python` get the env's plain "
                "interpreter, without the launcher's preparation ({})",
                why);
            drop_alias_from_path(plan);
        }
    }
    process::apply(plan.env_changes);
    process::set_env(kChildPlanVar, encode_child_plan(plan));
    std::error_code ec;
    fs::current_path(plan.cwd, ec);
    if (ec) {
        throw LaunchError(Stage::Cwd, "Cannot enter the working directory " + plan.cwd.string() +
                                          ": " + ec.message() +
                                          ". Check the folder's permissions.");
    }
}

}  // namespace alltalk
