// POSIX implementation of console.hpp: terminals stay open after a program ends; nothing to do.
#include "console.hpp"

#include <unistd.h>

#include <cstdio>

namespace alltalk::console {

void init() {}

int finish(int status) {
    return status;
}

void keep_window_open() {}

bool stdin_is_terminal() {
    return ::isatty(0) == 1;
}

StdoutToStderr::StdoutToStderr() {
    std::fflush(stdout);
    saved_ = ::dup(1);
    if (saved_ >= 0) {
        ::dup2(2, 1);
    }
}

StdoutToStderr::~StdoutToStderr() {
    std::fflush(stdout);
    if (saved_ >= 0) {
        ::dup2(saved_, 1);
        ::close(saved_);
    }
}

}  // namespace alltalk::console
