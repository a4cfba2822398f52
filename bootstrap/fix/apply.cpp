#include "fix/apply.hpp"

#include <set>

#include "base/error.hpp"
#include "fix/lock.hpp"
#include "os/process.hpp"

namespace alltalk::fix {

namespace {

// Before and after versions of what the fix touched, from the scan after it.
std::vector<VersionChange> changes_of(const UndoManifest& m, const SiteScan& after,
                                      const std::vector<std::string>& installs) {
    std::vector<VersionChange> out;
    std::set<std::string> seen;
    const auto add = [&](const std::string& key, const std::string& name,
                         const std::string& before) {
        if (!seen.insert(key).second) {
            return;
        }
        const Distribution* now = after.find(key);
        out.push_back({now ? now->name : name, before, now ? now->version_text : ""});
    };
    for (const auto& d : m.dists) {
        add(normalize_name(d.name), d.name, d.version);
    }
    for (const auto& req : installs) {
        const std::string key = requirement_key(req);
        add(key, key, "");
    }
    return out;
}

}  // namespace

std::vector<EnvChange> pip_environment() {
    const char* why = "fix: pip changes the env only";
    return {{"PYTHONNOUSERSITE", "1", why},    {"PIP_USER", "0", why},
            {"PIP_TARGET", std::nullopt, why}, {"PIP_PREFIX", std::nullopt, why},
            {"PIP_ROOT", std::nullopt, why},   {"PYTHONHOME", std::nullopt, why},
            {"PYTHONPATH", std::nullopt, why}};
}

std::string requirement_key(const std::string& requirement) {
    const auto end = requirement.find_first_of("=<>!~[;@ (");
    return normalize_name(requirement.substr(0, end));
}

SavedPoint save_undo_point(const ApplyRequest& request) {
    const PythonEnv& env = request.env;
    FixLock lock = FixLock::acquire(env, "fix: " + request.summary);
    if (const auto stopped = interrupted_undo_point(env)) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"An earlier fix in " + process::to_utf8(env.dir) + " (" + stopped->id +
                          (stopped->summary.empty() ? "" : ": " + stopped->summary) +
                          ") was interrupted while pip was changing packages, so the env may be "
                          "half-changed. Nothing was changed now.",
                      "",
                      "Run `alltalk-launch fix --undo` to put the env back as it was before that "
                      "fix, then run the fix again."});
    }
    remove_incomplete_undo_points(env);  // killed while recording: nothing had changed
    RecordStats recorded;
    UndoManifest m = record_undo_point(env, request.scan, request.replaced, request.installs,
                                       request.summary, request.record, &recorded);
    return SavedPoint{std::move(lock), std::move(m), recorded};
}

ApplyResult run_pip_steps(SavedPoint& point, const ApplyRequest& request) {
    const PythonEnv& env = request.env;
    UndoManifest& m = point.manifest;
    ApplyResult result;
    result.undo_id = m.id;
    result.recorded = point.recorded;
    set_undo_state(env, m, UndoState::Applying);  // from here pip may change anything
    result.ok = true;
    const std::vector<EnvChange> changes = pip_environment();
    for (const auto& step : request.steps) {
        std::string why;
        const auto status = process::run_attached(step.argv, changes, why);
        if (!status || *status != 0) {
            result.ok = false;
            result.status = status.value_or(kLaunchFailureStatus);
            result.failed_step = step.what + (status ? "" : " (" + why + ")");
            break;
        }
    }
    m.changes = changes_of(m, scan_site_packages(env.site_packages), request.installs);
    m.failed_step = result.failed_step;
    set_undo_state(env, m, result.ok ? UndoState::Applied : UndoState::Failed);
    point.lock.release();
    return result;
}

ApplyResult apply_fix(const ApplyRequest& request) {
    SavedPoint point = save_undo_point(request);
    return run_pip_steps(point, request);
}

}  // namespace alltalk::fix
