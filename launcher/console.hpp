#pragma once
// The console the launcher runs in (console_posix.cpp, console_win32.cpp).
#include <cstdio>
#include <iostream>
#include <string>

#include "base/text.hpp"

namespace alltalk::console {

// Before anything is printed: on Windows the console shows UTF-8 (the launcher's text encoding).
void init();

// After the run, with its exit status, which is returned. On Windows a failed run (status != 0)
// in a console that no other process shares (a Start-menu shortcut or a double-click opened it,
// and it would close at once) waits for Enter, so that the user can read the error; not when
// stderr goes to a file (a child the launcher started for a check, with its output in a log).
int finish(int status);

// After this, finish() waits for Enter in such a window whatever the status: the report of the
// doctor (the Start-menu "AllTalk Doctor"), fix, overlay, explain and setup is the point of its
// window, warnings only or not.
void keep_window_open();

// Whether standard input is a terminal that a question can be asked on.
bool stdin_is_terminal();

// A y/N question on the terminal (stderr), answered on stdin: true only for a yes.
inline bool ask(const std::string& question) {
    std::fprintf(stderr, "%s [y/N] ", question.c_str());
    std::fflush(stderr);
    std::string answer;
    if (!std::getline(std::cin, answer)) {
        return false;
    }
    const std::string a(text::trim(answer));
    return a == "y" || a == "Y" || a == "yes" || a == "Yes" || a == "YES";
}

// While it lives, this process's standard output (and so that of the children it starts) goes to
// standard error: `fix --json` keeps stdout for its JSON object while pip's output stays visible.
class StdoutToStderr {
  public:
    StdoutToStderr();
    ~StdoutToStderr();
    StdoutToStderr(const StdoutToStderr&) = delete;
    StdoutToStderr& operator=(const StdoutToStderr&) = delete;

  private:
    int saved_ = -1;
};

}  // namespace alltalk::console
