#pragma once
// Starting the env's interpreter: load its libpython, load the embed plugin and hand it the plan.
#include <filesystem>

#include "plan/plan.hpp"

namespace alltalk {

// The embed plugin beside the launcher (build tree) or in <prefix>/lib/alltalk-launch (installed).
// Throws LaunchError(Stage::Install) listing the places tried.
std::filesystem::path find_embed_plugin(const std::filesystem::path& launcher);

// Runs plan.python_argv in the env's interpreter inside this process and returns its exit status
// (a KeyboardInterrupt that reaches the top ends the process by SIGINT, as python does).
// Throws LaunchError(Stage::Python) when the interpreter cannot be loaded or started.
int run_interpreter(const LaunchPlan& plan, bool verbose);

}  // namespace alltalk
