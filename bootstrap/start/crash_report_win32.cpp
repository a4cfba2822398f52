// Windows crash reporter. Two kinds of native crash reach it, each after faulthandler (enabled
// during start-up) has printed the Python stack, and each is explained by a fresh launcher
// process (`--explain-signal ARG`), as on POSIX:
//
// - A fatal exception (access violation, stack overflow, illegal instruction, ...: the codes that
//   signal_of_exception() knows). faulthandler's vectored handler sees every exception first and
//   returns EXCEPTION_CONTINUE_SEARCH; the exception only becomes fatal once no SEH handler takes
//   it (ctypes' own __try, for one, turns a fault in a foreign call into OSError), and then the
//   unhandled-exception filter installed here runs. It chains to the filter it replaced (the
//   C runtime's) and returns what that returns, so Windows ends the process with the exception
//   code as its exit status, as under python.exe.
// - abort() in the C runtime of python3XY.dll and of MSVC-built extensions (the Universal CRT,
//   ucrtbase.dll, whose signal table is not this exe's msvcrt.dll one): a SIGABRT handler in that
//   CRT's table, which faulthandler saves as the previous handler and calls after its own output.
//   It then restores the default action and raises SIGABRT again, as faulthandler would have.
//
// The filter may run on a thread whose stack is all but used up (a stack overflow), or whose
// heap lock is held by the fault: it only wakes a reporter thread, started here with a stack of
// its own, which starts the prepared command line, and waits for it. The first crash alone is
// explained.
#include <windows.h>

#include <csignal>
#include <cstdint>

#include "start/explain_hook.hpp"

namespace alltalk {

namespace {

using CrtHandler = void(__cdecl*)(int);
using CrtSignal = CrtHandler(__cdecl*)(int, CrtHandler);
using CrtRaise = int(__cdecl*)(int);

constexpr DWORD kExplainWaitMs = 30000;
constexpr int kSigAbrt = 22;  // SIGABRT in every Microsoft C runtime

// `"launcher" --explain-signal 0x00000000`: the argument's 10 characters end the line and are
// overwritten in place with the signal or exception code before the process is started.
wchar_t g_cmdline[8192];
std::size_t g_arg_at = 0;
HANDLE g_go = nullptr;      // set by the crash: the reporter starts the explanation
HANDLE g_done = nullptr;    // set by the reporter when the explanation has ended
HANDLE g_thread = nullptr;  // the reporter
volatile LONG g_claimed = 0;
LPTOP_LEVEL_EXCEPTION_FILTER g_previous_filter = nullptr;
CrtSignal g_ucrt_signal = nullptr;
CrtRaise g_ucrt_raise = nullptr;

void put_argument(std::uint32_t code, bool hex) {
    wchar_t* at = g_cmdline + g_arg_at;
    if (hex) {
        static const wchar_t digits[] = L"0123456789ABCDEF";
        *at++ = L'0';
        *at++ = L'x';
        for (int shift = 28; shift >= 0; shift -= 4) {
            *at++ = digits[(code >> shift) & 0xFu];
        }
    } else {
        wchar_t rev[12];
        int len = 0;
        do {
            rev[len++] = static_cast<wchar_t>(L'0' + code % 10);
            code /= 10;
        } while (code > 0 && len < 11);
        while (len > 0) {
            *at++ = rev[--len];
        }
    }
    *at = L'\0';
}

void run_explanation() {
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    if (CreateProcessW(nullptr, g_cmdline, nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
        WaitForSingleObject(pi.hProcess, kExplainWaitMs);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
}

DWORD WINAPI reporter(void*) {
    if (WaitForSingleObject(g_go, INFINITE) == WAIT_OBJECT_0) {
        run_explanation();
    }
    SetEvent(g_done);
    return 0;
}

// Explains the crash once (a second fault while explaining, or in another thread, is not).
void explain(std::uint32_t code, bool hex) {
    if (InterlockedExchange(&g_claimed, 1) != 0) {
        return;
    }
    put_argument(code, hex);
    // The reporter is gone when the process is already exiting (ExitProcess ends other threads).
    if (g_thread && WaitForSingleObject(g_thread, 0) == WAIT_TIMEOUT) {
        SetEvent(g_go);
        WaitForSingleObject(g_done, kExplainWaitMs + 5000);
    } else {
        run_explanation();
    }
}

LONG WINAPI on_unhandled_exception(EXCEPTION_POINTERS* info) {
    const DWORD code = info->ExceptionRecord->ExceptionCode;
    if (signal_of_exception(code) != 0) {
        explain(code, true);
    }
    return g_previous_filter ? g_previous_filter(info) : EXCEPTION_CONTINUE_SEARCH;
}

// abort() in the Universal CRT (python3XY.dll's).
void __cdecl on_ucrt_abort(int) {
    explain(kSigAbrt, false);
    g_ucrt_signal(kSigAbrt, SIG_DFL);
    g_ucrt_raise(kSigAbrt);
}

// abort() in this exe's own C runtime (or a mingw-built library's).
void __cdecl on_abort(int) {
    explain(SIGABRT, false);
    std::signal(SIGABRT, SIG_DFL);
    std::raise(SIGABRT);
}

}  // namespace

void install_crash_reporter(const LaunchPlan& plan) {
    set_explain_plan(plan);
    const std::wstring cmd = L"\"" + plan.launcher.wstring() + L"\" --explain-signal ";
    if (cmd.size() + 11 >= sizeof g_cmdline / sizeof g_cmdline[0]) {
        return;
    }
    wcscpy_s(g_cmdline, cmd.c_str());
    g_arg_at = cmd.size();
    g_go = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    g_done = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (g_go && g_done) {
        g_thread = CreateThread(nullptr, 256 * 1024, reporter, nullptr,
                                STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
    }
    g_previous_filter = SetUnhandledExceptionFilter(on_unhandled_exception);
    std::signal(SIGABRT, on_abort);
    // GetModuleHandle would do once python3XY.dll is loaded; LoadLibrary also covers the case
    // where it is not yet (and takes the one ucrtbase.dll that every api-ms-win-crt forwards to).
    if (HMODULE ucrt = LoadLibraryW(L"ucrtbase.dll")) {
        g_ucrt_signal = reinterpret_cast<CrtSignal>(
            reinterpret_cast<void (*)()>(GetProcAddress(ucrt, "signal")));
        g_ucrt_raise =
            reinterpret_cast<CrtRaise>(reinterpret_cast<void (*)()>(GetProcAddress(ucrt, "raise")));
        if (g_ucrt_signal && g_ucrt_raise) {
            g_ucrt_signal(kSigAbrt, on_ucrt_abort);
        }
    }
}

}  // namespace alltalk
