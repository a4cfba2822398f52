#pragma once
// Asking the env's own pip (effects): its version, and its plan for a fix request
// (`pip install --dry-run --report`), which changes nothing in the env.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "base/environ.hpp"
#include "discover/python_env.hpp"
#include "fix/plan.hpp"
#include "fix/predict.hpp"
#include "pypa/pip_report.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::fix {

// The env's pip version from its metadata; nullopt when pip is not installed.
std::optional<std::string> pip_version(const SiteScan& scan);

// True when `version` is at least kPipReportSince (pip can plan without changing anything).
bool pip_can_plan(const std::string& version);

// This process's environment made right for running the env's pip: never the user site
// (PYTHONNOUSERSITE=1, PIP_USER=0), never another target (PIP_TARGET, PIP_PREFIX, PIP_ROOT,
// PYTHONHOME, PYTHONPATH unset). The children of `fix` inherit it.
void prepare_pip_environment();

// uv for --installer uv: the env's own (bin/uv), else the first on PATH; nullopt: none.
std::optional<std::string> find_uv(const PythonEnv& env, const EnvMap& env_vars);

// pip's plan for `r`. Throws LaunchError (Stage::Fix) with the end of pip's own output when pip
// fails (an unresolvable request, no network) or runs past `timeout_s`.
// Its report and output go to a ScratchDir under `scratch_root` (fix/state_dir.hpp).
PipReport plan_with_pip(const PythonEnv& env, const FixRequest& r, double timeout_s,
                        const std::filesystem::path& scratch_root);

// A plan that keeps the env's other distributions working where pip can: after each prediction,
// the installed distributions it breaks (broken_dependents) join the request by name and pip
// plans again (at most a few rounds). When pip cannot fit a dependent in, the last plan that it
// could make stands, and the prediction shows the conflict (the caller refuses it).
struct Plan {
    FixRequest request;  // with the joined dependents
    PipReport report;    // pip's report for `request`
    Prediction prediction;
    std::vector<Conflict> joined;  // the dependents that joined the request, and why
    std::vector<Conflict> unkept;  // dependents that pip could not fit in
};
Plan plan_keeping_dependents(const PythonEnv& env, FixRequest request, const SiteScan& scan,
                             const pep508::MarkerEnv& markers, double timeout_s,
                             const std::filesystem::path& scratch_root,
                             const std::function<void(const std::string&)>& say);

}  // namespace alltalk::fix
