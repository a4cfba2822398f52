#pragma once
// Starting the env's interpreter: load its libpython and start it with the plan (embed_runner.hpp).
#include <filesystem>

#include "plan/plan.hpp"

namespace alltalk {

// Runs plan.python_argv in the env's interpreter inside this process and returns its exit status
// (a KeyboardInterrupt that reaches the top ends the process by SIGINT, as python does).
// Throws LaunchError(Stage::Python) when the interpreter cannot be loaded or started.
int run_interpreter(const LaunchPlan& plan, bool verbose);

}  // namespace alltalk
