#pragma once
// `alltalk-launch setup`: a working AllTalk environment from a fresh AllTalk checkout, from a
// proven lock for this machine's GPU (bootstrap/setup/).
#include "cli.hpp"

namespace alltalk {

// Exit status: 0 ready, 1 failed or not ready, 2 could not run (a refused checkout, no Python
// 3.11, an existing env, ...), 3 needs a yes (no terminal and no --yes).
inline constexpr int kSetupNeedsYesStatus = 3;
int run_setup_command(const cli::Options& opts);

}  // namespace alltalk
