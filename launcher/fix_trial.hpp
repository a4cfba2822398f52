#pragma once
// `fix --deep`'s trial fixes (effects; the search itself is fix/trial.hpp): for each import that
// fails because an installed release lacks a name, the newest lower release under which the
// failing imports work, each trial resolved by pip against the rest, installed into a scratch
// folder (outside the env, always removed) and imported in a child prepared as the launch, with
// that folder first on sys.path. Bounded by --trial-timeout and --trials-timeout.
#include <string>
#include <vector>

#include "cli.hpp"
#include "diagnose/doctor.hpp"
#include "fix/trial.hpp"

namespace alltalk {

struct TrialOutcome {
    fix::TrialTarget target;
    std::string version;            // the release found; empty: none
    std::vector<std::string> pins;  // "name==version" of what the winning trial installed
    int trials = 0;
    std::string note;  // why nothing was found
};

std::vector<TrialOutcome> run_trial_fixes(const cli::Options& opts, const DoctorFacts& facts,
                                          const std::string& pip_version);

}  // namespace alltalk
