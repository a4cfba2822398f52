#pragma once
// `alltalk-launch fix`: its options into the steps of fix/workflow.hpp (gather, plan, predict,
// check, propose, confirm, save undo point, apply, verify), their report on the console, the run
// as JSON with --json; and --undo, --history, --forget (undo_cmd.cpp).
#include "cli.hpp"

namespace alltalk {

// Exit status: 0 done or nothing to do, 1 refused or failed, 2 could not run, 3 the plan
// needs a yes (no terminal, no --yes: fix::kFixNeedsYesStatus).
int run_fix(const cli::Options& opts);

}  // namespace alltalk
