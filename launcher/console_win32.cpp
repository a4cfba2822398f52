// Windows implementation of console.hpp.
//
// Ctrl+C and Ctrl+Break: the launcher installs no console control handler. CPython's own (set by
// Py_InitializeFromConfig in the env's python311.dll) turns them into KeyboardInterrupt, and
// Py_RunMain returns the status python.exe would (STATUS_CONTROL_C_EXIT for an unhandled one),
// which the launcher passes on unchanged.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <io.h>

#include <cstdio>

#include "console.hpp"

namespace alltalk::console {

void init() {
    ::SetConsoleOutputCP(CP_UTF8);
}

namespace {
bool g_keep_open = false;
}  // namespace

void keep_window_open() {
    g_keep_open = true;
}

int finish(int status) {
    // Ctrl+C or Ctrl+Break ended it (STATUS_CONTROL_C_EXIT, as python.exe exits): the user chose
    // to stop, so the window closes as usual.
    if ((status == 0 && !g_keep_open) || static_cast<DWORD>(status) == 0xC000013AUL) {
        return status;
    }
    // Output going to a file is read there, not in the window: a child that the launcher starts
    // for a check (doctor --deep, fix's trials) has a console of its own without a window, and
    // nobody to press Enter in it.
    if (::GetFileType(::GetStdHandle(STD_ERROR_HANDLE)) == FILE_TYPE_DISK) {
        return status;
    }
    // A console with this process alone in it was created for it (a shortcut, Explorer): it closes
    // when the launcher exits. A console of cmd.exe or PowerShell lists them too.
    DWORD pids[2];
    if (::GetConsoleProcessList(pids, 2) == 1) {
        std::fflush(stdout);
        if (status == 0 || g_keep_open) {
            std::fprintf(stderr,
                         "\nalltalk-launch: the report is above (exit status %d). Press Enter to "
                         "close this window.\n",
                         status);
        } else {
            std::fprintf(stderr,
                         "\nalltalk-launch: the run failed (exit status %d). Press Enter to "
                         "close this window.\n",
                         status);
        }
        std::fflush(stderr);
        HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
        ::FlushConsoleInputBuffer(in);
        wchar_t buf[16];
        DWORD read = 0;
        ::ReadConsoleW(in, buf, 16, &read, nullptr);
    }
    return status;
}

bool stdin_is_terminal() {
    // A console's input buffer only: _isatty is true for any character device, NUL included
    // (`< nul`, a scheduled task, a shortcut's window with its input redirected), where a
    // question would read end-of-file and count as a no.
    DWORD mode = 0;
    return ::GetConsoleMode(::GetStdHandle(STD_INPUT_HANDLE), &mode) != 0;
}

StdoutToStderr::StdoutToStderr() {
    std::fflush(stdout);
    saved_ = ::_dup(1);
    if (saved_ >= 0) {
        ::_dup2(2, 1);
    }
}

StdoutToStderr::~StdoutToStderr() {
    std::fflush(stdout);
    if (saved_ >= 0) {
        ::_dup2(saved_, 1);
        ::_close(saved_);
    }
}

}  // namespace alltalk::console
