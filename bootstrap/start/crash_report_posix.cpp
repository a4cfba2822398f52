// POSIX crash reporter: a fatal-signal handler that faulthandler chains to (see
// start/explain_hook.hpp). Inside the handler only async-signal-safe calls are made: a raw fork
// (no atfork handlers: the crash may have happened inside malloc), execve of the launcher to
// explain the signal with the rules, waitpid, then the default action.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "start/explain_hook.hpp"

extern char** environ;

namespace alltalk {

namespace {

char g_self[4096];
constexpr int kSignals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};

void on_fatal_signal(int sig) {
    // "--explain-signal N": the number written without snprintf.
    char num[16];
    int n = sig, len = 0;
    char rev[16];
    do {
        rev[len++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n > 0 && len < 15);
    for (int i = 0; i < len; ++i) {
        num[i] = rev[len - 1 - i];
    }
    num[len] = '\0';
    char flag[] = "--explain-signal";
    char* argv[] = {g_self, flag, num, nullptr};
    const long pid = syscall(SYS_fork);
    if (pid == 0) {
        execve(g_self, argv, environ);
        _exit(127);
    }
    if (pid > 0) {
        int status = 0;
        while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
        }
    }
    // SA_RESETHAND restored the default action: die by the same signal, as python would.
    signal(sig, SIG_DFL);
    raise(sig);
}

}  // namespace

void install_crash_reporter(const LaunchPlan& plan) {
    set_explain_plan(plan);
    const std::string self = plan.launcher.string();  // self_exe(), resolved once by discovery
    if (self.empty() || self.size() >= sizeof g_self) {
        return;
    }
    std::memcpy(g_self, self.c_str(), self.size() + 1);
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER | SA_RESETHAND;
    for (int sig : kSignals) {
        sigaction(sig, &sa, nullptr);
    }
}

}  // namespace alltalk
