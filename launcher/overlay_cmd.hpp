#pragma once
// `alltalk-launch overlay sync [COMMAND] | status | remove COMMAND`: per-command overlays
// (discover/overlay.hpp, fix/overlay.hpp), in the env that each command launches with.
#include "cli.hpp"

namespace alltalk {

// Exit status: 0 done (status: every overlay current), 1 failed (status: one is not current),
// 2 could not run (bad config, unknown command, no env).
int run_overlay(const cli::Options& opts);

}  // namespace alltalk
