// POSIX implementation of probe_gpus() and PendingProbe: the CUDA calls run in a forked child that
// reports over a pipe; the parent waits at most timeout_ms, then kills it. A crash or hang in the
// driver costs a note in the report, never the launch.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <utility>

#include "gpu/probe.hpp"

namespace alltalk {

namespace {

// Writes straight to the pipe, so that what the child said before a crash reaches the parent;
// and to `copy` as well while it is set.
class FdBuf : public std::streambuf {
  public:
    explicit FdBuf(int fd) : fd_(fd) {}
    std::string* copy = nullptr;

  protected:
    int_type overflow(int_type c) override {
        if (c != traits_type::eof()) {
            char ch = static_cast<char>(c);
            return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
        }
        return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        if (copy) {
            copy->append(s, static_cast<std::size_t>(n));
        }
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

namespace {

long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

PendingProbe PendingProbe::start(const std::vector<std::filesystem::path>& cudart, int timeout_ms,
                                 const std::function<std::string()>& check,
                                 const std::function<void(const std::string&)>& keep,
                                 const GpuProbe* known) {
    PendingProbe p;
    p.timeout_ms_ = timeout_ms;
    int fds[2];
    if (::pipe(fds) != 0) {
        p.done_.emplace().note = "the GPU probe could not start (pipe)";
        return p;
    }
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        p.done_.emplace().note = "the GPU probe could not start (fork)";
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
        if (check) {
            write_inputs_check(os, check());
            os.flush();
        }
        if (known) {
            os << encode_probe_report(*known);
            os.flush();
            ::_exit(0);
        }
        std::string report;
        buf.copy = keep ? &report : nullptr;
        write_probe_report(os, cudart);
        os.flush();
        if (keep) {
            ::close(fds[1]);  // the launcher has the whole report and goes on
            keep(report);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    // The read end stays open across the re-exec (no FD_CLOEXEC); finish() closes it before the
    // app starts.
    p.pid_ = pid;
    p.fd_ = fds[0];
    p.deadline_ns_ = now_ns() + static_cast<long long>(timeout_ms) * 1000000;
    return p;
}

std::string PendingProbe::handover() const {
    if (pid_ <= 0 || fd_ < 0 || reaped_) {
        return "";
    }
    return std::to_string(pid_) + " " + std::to_string(fd_) + " " + std::to_string(deadline_ns_) +
           " " + std::to_string(timeout_ms_);
}

std::optional<PendingProbe> PendingProbe::adopt(const std::string& handover) {
    std::istringstream in(handover);
    PendingProbe p;
    if (!(in >> p.pid_ >> p.fd_ >> p.deadline_ns_ >> p.timeout_ms_) || p.pid_ <= 0 || p.fd_ < 0 ||
        ::fcntl(p.fd_, F_GETFD) < 0) {
        p.pid_ = -1;
        p.fd_ = -1;
        return std::nullopt;
    }
    // Only this process's own child: anything else (a value left in the environment) is ignored.
    const pid_t r = ::waitpid(static_cast<pid_t>(p.pid_), &p.status_, WNOHANG);
    if (r < 0) {
        p.pid_ = -1;
        p.fd_ = -1;  // not ours to close
        return std::nullopt;
    }
    p.reaped_ = r == static_cast<pid_t>(p.pid_);
    return p;
}

GpuProbe PendingProbe::finish() {
    if (done_) {
        return *std::exchange(done_, std::nullopt);
    }
    GpuProbe p;
    if (pid_ <= 0) {
        p.note = "the GPU probe was already read";
        return p;
    }
    std::string text;
    bool timed_out = false;
    for (;;) {
        const long long left_ms = (deadline_ns_ - now_ns()) / 1000000;
        if (left_ms <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd{fd_, POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(left_ms));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[4096];
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd_);
    fd_ = -1;
    const pid_t pid = static_cast<pid_t>(std::exchange(pid_, -1));
    if (timed_out && !reaped_) {
        ::kill(pid, SIGKILL);
    }
    int status = status_;
    if (!reaped_) {
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    parse_probe_report(text, p);
    if (timed_out) {
        p.note = "the GPU probe did not answer within " + std::to_string(timeout_ms_ / 1000) +
                 " s (driver hung); continuing without it";
    } else if (WIFSIGNALED(status)) {
        p.note = "the GPU probe crashed (signal " + std::to_string(WTERMSIG(status)) + ") in " +
                 (p.library.empty() ? "the CUDA libraries" : p.library) + "; continuing without it";
    }
    return p;
}

PendingProbe::PendingProbe(PendingProbe&& o) noexcept
    : done_(std::move(o.done_)),
      pid_(std::exchange(o.pid_, -1)),
      fd_(std::exchange(o.fd_, -1)),
      deadline_ns_(o.deadline_ns_),
      timeout_ms_(o.timeout_ms_),
      reaped_(o.reaped_),
      status_(o.status_) {}

PendingProbe& PendingProbe::operator=(PendingProbe&& o) noexcept {
    if (this != &o) {
        end();
        done_ = std::move(o.done_);
        pid_ = std::exchange(o.pid_, -1);
        fd_ = std::exchange(o.fd_, -1);
        deadline_ns_ = o.deadline_ns_;
        timeout_ms_ = o.timeout_ms_;
        reaped_ = o.reaped_;
        status_ = o.status_;
    }
    return *this;
}

PendingProbe::~PendingProbe() {
    end();
}

void PendingProbe::end() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (pid_ > 0 && !reaped_) {
        ::kill(static_cast<pid_t>(pid_), SIGKILL);
        int status = 0;
        while (::waitpid(static_cast<pid_t>(pid_), &status, 0) < 0 && errno == EINTR) {
        }
    }
    pid_ = -1;
}

GpuProbe probe_gpus(const std::vector<std::filesystem::path>& cudart, int timeout_ms) {
    return PendingProbe::start(cudart, timeout_ms).finish();
}

}  // namespace alltalk
