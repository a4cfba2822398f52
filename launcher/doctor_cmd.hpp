#pragma once
// `alltalk-launch doctor`: gathers the facts, prints the findings, writes the report.
#include "cli.hpp"
#include "diagnose/doctor.hpp"

namespace alltalk {

// Exit status: 0 no error, 1 errors found, 2 the doctor could not run.
int run_doctor(const cli::Options& opts);

}  // namespace alltalk
