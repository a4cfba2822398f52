// POSIX implementation of console.hpp: terminals stay open after a program ends; nothing to do.
#include "console.hpp"

namespace alltalk::console {

void init() {}

int finish(int status) {
    return status;
}

}  // namespace alltalk::console
