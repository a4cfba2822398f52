// `alltalk-launch fix --undo [ID]`, `fix --history`, `fix --forget ID` (fix/undo.hpp), in the env
// that the command (--command, default server) would launch with.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "base/error.hpp"
#include "base/files.hpp"
#include "cli.hpp"
#include "fix/lock.hpp"
#include "fix/state_dir.hpp"
#include "fix/undo.hpp"
#include "os/process.hpp"
#include "plan/resolve.hpp"

using nlohmann::json;

namespace alltalk {

int run_fix_maintenance(const cli::Options& opts);

namespace {

PythonEnv env_of(const cli::Options& opts) {
    LaunchRequest request;
    request.command = opts.fix->command.value_or(Command::Server);
    CommandResolution res =
        resolve_command(request, cli::discovery_inputs(opts), PlanContext{}, EnvReading::Report);
    if (!res.env) {
        if (res.env_error) {
            throw *res.env_error;
        }
        throw LaunchError(
            Stage::Env,
            "The Python environment " + process::to_utf8(res.env_choice.dir) + " cannot be read.");
    }
    return *res.env;
}

// "six 1.16.0 -> 1.17.0", "new-dist (none) -> 1.0", "old 1.0 -> (removed)".
std::string change_text(const fix::VersionChange& c) {
    return c.name + " " + (c.before.empty() ? "(none)" : c.before) + " -> " +
           (c.after.empty() ? "(removed)" : c.after);
}

// What a point changed, or for one that has not ended, what it was to change.
std::vector<std::string> changes_of(const fix::UndoManifest& m) {
    std::vector<std::string> out;
    for (const auto& c : m.changes) {
        out.push_back(change_text(c));
    }
    if (m.changes.empty()) {
        for (const auto& d : m.dists) {
            out.push_back(d.name + " " + d.version + " -> (being replaced)");
        }
        for (const auto& i : m.installs) {
            out.push_back("to install: " + i);
        }
    }
    return out;
}

json point_json(const fix::UndoPointEntry& p) {
    if (!p.manifest) {
        return {{"id", p.id}, {"state", "damaged"}, {"problem", p.problem}};
    }
    const fix::UndoManifest& m = *p.manifest;
    json changes = json::array();
    for (const auto& c : m.changes) {
        changes.push_back({{"name", c.name}, {"before", c.before}, {"after", c.after}});
    }
    json replaced = json::array();
    for (const auto& d : m.dists) {
        replaced.push_back({{"name", d.name}, {"version", d.version}, {"files", d.files.size()}});
    }
    return {{"id", m.id},
            {"created", m.created},
            {"state", to_string(m.state)},
            {"summary", m.summary},
            {"changes", changes},
            {"replaced", replaced},
            {"installs", m.installs},
            {"failed_step", m.failed_step},
            {"ended", m.ended}};
}

int history(const cli::Options& opts, const PythonEnv& env) {
    const auto points = fix::list_undo_points(env);
    if (opts.fix->json) {
        json out = json::array();
        for (const auto& p : points) {
            out.push_back(point_json(p));
        }
        std::puts(out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
        return 0;
    }
    if (points.empty()) {
        std::printf("No undo points in %s.\n", process::to_utf8(env.dir).c_str());
        return 0;
    }
    std::printf("Undo points of %s (oldest first; restored points are kept until --forget):\n",
                process::to_utf8(env.dir).c_str());
    for (const auto& p : points) {
        if (!p.manifest) {
            std::printf("  %s  damaged: %s\n", p.id.c_str(), p.problem.c_str());
            continue;
        }
        const fix::UndoManifest& m = *p.manifest;
        std::printf("  %s  %s  %s%s%s\n", m.id.c_str(), m.created.c_str(), to_string(m.state),
                    m.summary.empty() ? "" : "  ", m.summary.c_str());
        for (const auto& line : changes_of(m)) {
            std::printf("      %s\n", line.c_str());
        }
        if (!m.failed_step.empty()) {
            std::printf("      failed: %s\n", m.failed_step.c_str());
        }
    }
    return 0;
}

int undo(const cli::Options& opts, const PythonEnv& env) {
    if (!files::is_dir(fix::undo_root(env))) {
        // No point at all: the error (nothing to undo, unknown id) without creating the lock.
        fix::restore_undo_point(env, opts.fix->undo_id);
    }
    fix::FixLock lock = fix::FixLock::acquire(env, "fix --undo");
    const fix::RestoreResult r = fix::restore_undo_point(env, opts.fix->undo_id);
    if (opts.fix->json) {
        json back = json::array();
        for (const auto& c : r.back) {
            back.push_back({{"name", c.name}, {"from", c.before}, {"to", c.after}});
        }
        const json out = {{"id", r.id},
                          {"incomplete", r.incomplete},
                          {"restored_files", r.restored_files},
                          {"removed_paths", r.removed_paths},
                          {"changes", back}};
        std::puts(out.dump(2).c_str());
        return 0;
    }
    if (r.incomplete) {
        std::printf(
            "The undo point %s was never completed: its fix stopped before pip started, so "
            "nothing in the env had changed. The incomplete point was removed.\n",
            r.id.c_str());
        return 0;
    }
    std::printf("Undid the fix %s: put back %zu files, removed %zu paths it had added.\n",
                r.id.c_str(), r.restored_files, r.removed_paths);
    for (const auto& c : r.back) {
        std::printf("  %s\n", change_text(c).c_str());
    }
    return 0;
}

}  // namespace

int run_fix_maintenance(const cli::Options& opts) {
    const PythonEnv env = env_of(opts);
    switch (opts.fix->action) {
        case cli::FixOptions::Action::History:
            return history(opts, env);
        case cli::FixOptions::Action::Undo:
            return undo(opts, env);
        case cli::FixOptions::Action::Forget: {
            const std::string id = opts.fix->undo_id.value_or("");
            if (!files::is_dir(fix::undo_root(env))) {
                fix::forget_undo_point(env, id);  // the unknown-id error, creating nothing
            }
            fix::FixLock lock =
                fix::FixLock::acquire(env, "fix --forget", fix::FixLock::Changes::Records);
            fix::forget_undo_point(env, id);
            if (opts.fix->json) {
                std::puts(json{{"forgot", id}}.dump().c_str());
            } else {
                std::printf("Removed the undo point %s.\n", id.c_str());
            }
            return 0;
        }
        case cli::FixOptions::Action::Apply:
            break;
    }
    return kLaunchFailureStatus;
}

}  // namespace alltalk
