#pragma once
// The plan handed to children: the launcher sets ALLTALK_LAUNCH_CHILD to this text, and a launcher
// started with it (through sys.executable, os.execv, multiprocessing or a bare `python` on PATH)
// behaves exactly like the env's python, with the same preparation, without discovering again.
#include <string>
#include <string_view>

#include "plan/plan.hpp"

namespace alltalk {

inline constexpr const char* kChildPlanVar = "ALLTALK_LAUNCH_CHILD";

std::string encode_child_plan(const LaunchPlan& plan);

// Throws LaunchError(Stage::Child) when the text is not a plan this launcher wrote.
LaunchPlan decode_child_plan(std::string_view text);

}  // namespace alltalk
