#pragma once
// The plan handed to children: the launcher sets ALLTALK_LAUNCH_CHILD to this text, and a launcher
// started with it (through sys.executable, os.execv, multiprocessing or a bare `python` on PATH)
// behaves exactly like the env's python, with the same preparation, without discovering again.
#include <string>
#include <string_view>

#include "plan/plan.hpp"

namespace alltalk {

inline constexpr const char* kChildPlanVar = "ALLTALK_LAUNCH_CHILD";

// The plan as the parent's start-up left it: a link folder that could not be made is not passed on.
std::string encode_child_plan(const LaunchPlan& plan, const StartOutcome& outcome);

// Throws LaunchError(Stage::Child) when the text is not a plan this launcher wrote.
LaunchPlan decode_child_plan(std::string_view text);

// The child's own plan (pure): the parent's, run as `python ARGS` (`args` after the program
// name), and, when the parent served cuDNN through a link folder, LD_LIBRARY_PATH leading with it
// again (the app may have given the child another one; then one re-exec redoes it).
LaunchPlan make_child_plan(const LaunchPlan& parent, const std::vector<std::string>& args,
                           const EnvMap& env_vars);

}  // namespace alltalk
