#pragma once
// `alltalk-launch doctor`: gathers the facts, prints the findings, writes the report.
#include "cli.hpp"
#include "diagnose/doctor.hpp"

namespace alltalk {

// Exit status: 0 no error, 1 errors found, 2 the doctor could not run.
int run_doctor(const cli::Options& opts);

// doctor --deep for one check (also `fix --deep`): its first command, launched as that command is
// (deep_check.hpp), for an env that the launch can start; each failure explained as after a
// traceback. Sets f.deep.
void add_deep_check(const cli::Options& opts, DoctorFacts& f);

}  // namespace alltalk
