#pragma once
// Applying an accepted fix: the env's fix lock, an undo point recorded in full, then the pip steps
// in order with pip's own output shown live, and the point marked applied or failed. What to run
// is decided by the planning side (fix/plan); this runs it.
#include <string>
#include <vector>

#include "base/environ.hpp"
#include "discover/python_env.hpp"
#include "fix/lock.hpp"
#include "fix/undo.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::fix {

struct PipStep {
    std::vector<std::string> argv;  // argv[0]: the env's python (or uv), a full path
    std::string what;               // "install torch==2.3.1"
};

struct ApplyRequest {
    PythonEnv env;
    SiteScan scan;                      // of env.site_packages, before the fix
    std::vector<std::string> replaced;  // PEP 503 keys of the distributions replaced or removed
    std::vector<std::string> installs;  // "name==version"
    std::string summary;                // one line for the history and the lock
    std::vector<PipStep> steps;
    RecordOptions record;
};

struct ApplyResult {
    std::string undo_id;
    bool ok = false;
    int status = 0;           // the failed step's exit status (POSIX: -N for signal N)
    std::string failed_step;  // its `what`
    RecordStats recorded;
};

// The changes to the environment of every pip step: never the user site or another target
// (PYTHONNOUSERSITE=1, PIP_USER=0; PIP_TARGET, PIP_PREFIX, PIP_ROOT, PYTHONHOME, PYTHONPATH unset).
std::vector<EnvChange> pip_environment();

// The name of a "name==version" (or any requirement's leading name), PEP 503-normalised.
std::string requirement_key(const std::string& requirement);

// An undo point saved in full under the env's fix lock, which it keeps until pip is done.
struct SavedPoint {
    FixLock lock;
    UndoManifest manifest;
    RecordStats recorded;
};

// The lock, then the undo point. Throws LaunchError(Stage::Fix) when another fix holds the lock,
// an earlier fix was interrupted (a point in state "applying": `fix --undo` first), or the point
// cannot be recorded; in each case nothing was changed.
SavedPoint save_undo_point(const ApplyRequest& request);

// The pip steps in order, the point marked applying before the first and applied or failed
// after; the lock is released at the end.
ApplyResult run_pip_steps(SavedPoint& point, const ApplyRequest& request);

// save_undo_point, then run_pip_steps.
// Throws LaunchError(Stage::Fix) when another fix holds the lock, an earlier fix was interrupted
// (a point in state "applying": `fix --undo` first), or the undo point cannot be recorded; in
// each case nothing was changed. A pip step that fails is not an exception: ok is false and the
// point stays for `fix --undo`.
ApplyResult apply_fix(const ApplyRequest& request);

}  // namespace alltalk::fix
