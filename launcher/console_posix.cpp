// POSIX implementation of console.hpp: terminals stay open after a program ends; nothing to do.
#include "console.hpp"

#include <unistd.h>

namespace alltalk::console {

void init() {}

int finish(int status) {
    return status;
}

bool stdin_is_terminal() {
    return ::isatty(0) == 1;
}

}  // namespace alltalk::console
