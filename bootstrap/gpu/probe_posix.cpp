// POSIX implementation of probe_gpus(): the CUDA calls run in a forked child that reports over a
// pipe; the parent waits at most timeout_ms, then kills it. A crash or hang in the driver costs a
// note in the report, never the launch.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ostream>
#include <streambuf>
#include <string>

#include "gpu/probe.hpp"

namespace alltalk {

namespace {

// Writes straight to the pipe, so that what the child said before a crash reaches the parent.
class FdBuf : public std::streambuf {
  public:
    explicit FdBuf(int fd) : fd_(fd) {}

  protected:
    int_type overflow(int_type c) override {
        if (c != traits_type::eof()) {
            char ch = static_cast<char>(c);
            return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
        }
        return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        std::streamsize done = 0;
        while (done < n) {
            ssize_t w = ::write(fd_, s + done, static_cast<std::size_t>(n - done));
            if (w <= 0) {
                break;
            }
            done += w;
        }
        return done;
    }

  private:
    int fd_;
};

}  // namespace

GpuProbe probe_gpus(const std::vector<std::filesystem::path>& cudart, int timeout_ms) {
    GpuProbe p;
    int fds[2];
    if (::pipe(fds) != 0) {
        p.note = "the GPU probe could not start (pipe)";
        return p;
    }
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        p.note = "the GPU probe could not start (fork)";
        return p;
    }
    if (pid == 0) {
        ::close(fds[0]);
        // A crash in the driver must end this child, not run handlers inherited from the parent.
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
            ::signal(sig, SIG_DFL);
        }
        FdBuf buf(fds[1]);
        std::ostream os(&buf);
        write_probe_report(os, cudart);
        os.flush();
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool timed_out = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd{fds[0], POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[4096];
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    if (timed_out) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    parse_probe_report(text, p);
    if (timed_out) {
        p.note = "the GPU probe did not answer within " + std::to_string(timeout_ms / 1000) +
                 " s (driver hung); continuing without it";
    } else if (WIFSIGNALED(status)) {
        p.note = "the GPU probe crashed (signal " + std::to_string(WTERMSIG(status)) + ") in " +
                 (p.library.empty() ? "the CUDA libraries" : p.library) + "; continuing without it";
    }
    return p;
}

}  // namespace alltalk
