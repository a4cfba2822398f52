#pragma once
// The effects of a plan on this process, just before the interpreter starts: the `python` alias
// folder, the environment changes, the child marker and the working directory.
#include "plan/plan.hpp"

namespace alltalk {

// Applies the plan. A failed alias folder costs only bare-`python` children their preparation
// (warned, and dropped from PATH); a working directory that cannot be entered is a LaunchError.
void prepare_process(LaunchPlan& plan);

}  // namespace alltalk
