#pragma once
// `alltalk-launch explain [FILE|-]`: the failures in pasted text, explained (diagnose/pasted.hpp,
// diagnose/explain_text.hpp), with the env's facts where the launch finds one.
#include "cli.hpp"

namespace alltalk {

// Exit status: 0 explained at least one failure, 1 recognised nothing, 2 could not run.
int run_explain_command(const cli::Options& opts);

}  // namespace alltalk
