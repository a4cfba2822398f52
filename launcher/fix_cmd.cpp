#include "fix_cmd.hpp"

#include <cstdio>

namespace alltalk {

int run_fix(const cli::Options&) {
    std::fputs("alltalk-launch: error: fix is not built yet.\n", stderr);
    return 2;
}

}  // namespace alltalk
