#include "fix_cmd.hpp"

#include <cstdio>

namespace alltalk {

// fix --undo / --history / --forget (launcher/undo_cmd.cpp).
int run_fix_maintenance(const cli::Options& opts);

int run_fix(const cli::Options& opts) {
    if (opts.fix->action != cli::FixOptions::Action::Apply) {
        return run_fix_maintenance(opts);
    }
    std::fputs("alltalk-launch: error: fix is not built yet.\n", stderr);
    return 2;
}

}  // namespace alltalk
