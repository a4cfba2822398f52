#pragma once
// Applying an accepted fix (effects). TEMPORARY: runs the steps only; the undo point and the lock
// come with fix/undo and fix/lock.
#include <string>
#include <vector>

#include "discover/python_env.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::fix {

struct PipStep {
    std::vector<std::string> argv;  // argv[0]: the env's python (or uv)
    std::string what;
};

struct ApplyRequest {
    PythonEnv env;
    SiteScan scan;                      // the env before
    std::vector<std::string> replaced;  // PEP 503 names the fix replaces or removes
    std::vector<std::string> installs;  // "name==version" pip installs
    std::string summary;
    std::vector<PipStep> steps;
};

struct ApplyResult {
    std::string undo_id;
    bool ok = false;
    int status = 0;
    std::string failed_step;
};

ApplyResult apply_fix(const ApplyRequest& request);

}  // namespace alltalk::fix
