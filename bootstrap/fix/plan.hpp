#pragma once
// What `alltalk-launch fix` asks pip for (pure): the automatable fixes of the doctor's findings
// (or a profile's pins) merged into one request, and the pip command lines for it.
#include <optional>
#include <string>
#include <vector>

#include "base/platform.hpp"
#include "diagnose/doctor.hpp"

namespace alltalk::fix {

struct FixRequest {
    std::vector<std::string> remove;   // uninstalled first
    std::vector<std::string> install;  // requirements, resolved by pip together with the env
    std::optional<std::string> index_url;
    std::vector<std::string> options;  // pip install options
    std::vector<std::string> from;     // the finding ids (or "profile-<id>") this request fixes
    std::vector<Finding> manual;       // selected findings whose fix cannot be automated
    bool empty() const { return remove.empty() && install.empty(); }
};

// What the user selected: every finding with an automatable fix (errors and warnings; info
// findings only with --only), or those of `only`; or a profile's pins. Throws LaunchError
// (Stage::Fix) for an unknown finding id or profile, and for fixes that need two different
// package indexes at once.
FixRequest collect(const std::vector<Finding>& findings, const std::vector<std::string>& only,
                   const std::optional<std::string>& profile, const RuleSet& rules);

// `python -m pip install --dry-run --report REPORT --quiet ...`: pip's plan, changing nothing.
std::vector<std::string> dry_run_argv(const std::string& python, const FixRequest& r,
                                      const std::string& report);
// `python -m pip uninstall -y ...`, when the request removes something.
std::optional<std::vector<std::string>> uninstall_argv(const std::string& python,
                                                       const FixRequest& r);
// `python -m pip install ... -c CONSTRAINTS`: the request, with every distribution pinned (in
// the constraints file) to the version of the plan, so that what is installed is what was
// predicted even when the index changed in between. `uv`: `uv pip install --python PYTHON`.
std::vector<std::string> install_argv(const std::string& python, const FixRequest& r,
                                      const std::string& constraints,
                                      const std::optional<std::string>& uv = std::nullopt);
// `python -m pip install --no-deps --target DIR PINS...`: exactly these "name==version" pins into
// a folder of their own (an overlay, a trial fix's scratch folder); `quiet` adds --quiet.
std::vector<std::string> target_install_argv(const std::string& python, const std::string& dir,
                                             const std::vector<std::string>& pins, bool quiet);
// The constraints file's text: one "name==version" line per planned install.
std::string constraints_text(const std::vector<std::string>& installs);

}  // namespace alltalk::fix
