#pragma once
// `fix --deep`'s trial fixes (effects; the search itself is fix/trial.hpp): for each import that
// fails because an installed release lacks a name, the newest lower release under which the
// failing imports work, each trial resolved by pip against the rest, installed into a scratch
// folder (outside the env, always removed) and imported in a child prepared as the launch, with
// that folder first on sys.path. Bounded by --trial-timeout and --trials-timeout.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "diagnose/doctor.hpp"
#include "fix/trial.hpp"

namespace alltalk::fix {

struct TrialOutcome {
    TrialTarget target;
    std::string version;            // the release found; empty: none
    std::vector<std::string> pins;  // "name==version" of what the winning trial installed
    int trials = 0;
    std::string note;  // why nothing was found
};

// Runs `argv` to its end or `limit_s`; its output goes to `log`. nullopt: past the limit (killed)
// or not started.
std::optional<int> run_bounded(const std::vector<std::string>& argv,
                               const std::filesystem::path& log, double limit_s);

// Python text for a string literal (repr-style escapes are enough for paths and statements).
std::string py_literal(const std::string& s);

// Python code that puts `first` (in this order) ahead on sys.path, then the AllTalk root, as a
// launch has it, and runs `statements`.
std::string imports_code(const std::vector<std::filesystem::path>& first,
                         const std::filesystem::path& root,
                         const std::vector<std::string>& statements);

struct TrialSettings {
    std::vector<std::string> launch_argv;  // the launcher and its launch options
    bool dry_run = false;                  // scratch folders outside the env (fix/state_dir.hpp)
    double trial_timeout = 300;            // one trial
    double trials_timeout = 1200;          // all of them together
    std::function<void(const std::string&)> say;  // a progress line
};

// The trial fixes for the deep check's failures in `facts` (none without one).
std::vector<TrialOutcome> run_trial_fixes(const TrialSettings& settings, const DoctorFacts& facts,
                                          const std::string& pip_version);

}  // namespace alltalk::fix
