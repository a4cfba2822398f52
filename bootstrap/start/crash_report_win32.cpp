// Windows crash reporter: only the failure explanations for Python exceptions (the excepthook
// shim) and SIGABRT from the C runtime are covered; access violations end in Windows' own error
// report. The explanation runs in a fresh launcher process, as on POSIX.
#include <windows.h>

#include <csignal>

#include "start/explain_hook.hpp"

namespace alltalk {

namespace {

wchar_t g_cmdline[8192];

void on_abort(int) {
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    if (CreateProcessW(nullptr, g_cmdline, nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
        WaitForSingleObject(pi.hProcess, 30000);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
    std::signal(SIGABRT, SIG_DFL);
    std::raise(SIGABRT);
}

}  // namespace

void install_crash_reporter(const LaunchPlan& plan) {
    set_explain_plan(plan);
    const std::wstring cmd =
        L"\"" + plan.launcher.wstring() + L"\" --explain-signal " + std::to_wstring(SIGABRT);
    if (cmd.size() >= sizeof g_cmdline / sizeof g_cmdline[0]) {
        return;
    }
    wcscpy_s(g_cmdline, cmd.c_str());
    std::signal(SIGABRT, on_abort);
}

}  // namespace alltalk
