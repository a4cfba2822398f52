#pragma once
// `alltalk-launch fix`: diagnose, plan (pip's own resolver, --dry-run --report), predict and
// check, ask, save an undo point, apply with the env's pip, diagnose again; and --undo,
// --history, --forget.
#include "cli.hpp"

namespace alltalk {

// Exit status: 0 done or nothing to do, 1 refused or failed, 2 could not run, 3 the plan
// needs a yes (no terminal, no --yes).
inline constexpr int kFixNeedsYesStatus = 3;
int run_fix(const cli::Options& opts);

}  // namespace alltalk
