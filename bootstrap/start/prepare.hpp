#pragma once
// The effects of a plan on this process, just before the interpreter starts: the `python` alias
// folder, the environment changes, the child marker and the working directory. The plan is read,
// never changed: what could not be done is returned (StartOutcome) and the environment changes are
// worked out again for it (plan/plan.hpp environment_changes).
#include <vector>

#include "plan/plan.hpp"

namespace alltalk {

// Makes plan.alias_dir (`python`, `python3`, `python3.X` linked to the launcher). False, with a
// warning, when it cannot be made: only bare-`python` children lose their preparation.
bool make_alias_dir(const LaunchPlan& plan);

// Applies `changes` (environment_changes for `outcome`), hands the plan to children
// (ALLTALK_LAUNCH_CHILD) and enters plan.cwd; a working directory that cannot be entered is a
// LaunchError.
void enter_process(const LaunchPlan& plan, const StartOutcome& outcome,
                   const std::vector<EnvChange>& changes);

}  // namespace alltalk
