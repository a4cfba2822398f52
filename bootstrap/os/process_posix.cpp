// POSIX implementation of process.hpp.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <thread>

#include "os/process.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace alltalk::process {

namespace {

// The running executable's path, read once (it changes only by an exec, which starts this over),
// without std::filesystem: a repeated launch re-executes itself (exec_self) before anything else
// has used it (start/launch_hint_posix.cpp says why that matters).
const std::string& self_exe_text() {
    static const std::string text = [] {
        char buf[4096];
        const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
        return n > 0 && n < static_cast<ssize_t>(sizeof buf)
                   ? std::string(buf, static_cast<std::size_t>(n))
                   : std::string();
    }();
    return text;
}

}  // namespace

fs::path self_exe() {
    return fs::path(self_exe_text());
}

EnvMap environment() {
    EnvMap out;
    for (char** e = ::environ; e && *e; ++e) {
        const char* eq = std::strchr(*e, '=');
        if (eq) {
            out.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
        }
    }
    return out;
}

std::uint64_t environment_digest(std::string_view skip_prefix) {
    std::uint64_t sum = 0;
    for (char** e = ::environ; e && *e; ++e) {
        const std::string_view entry(*e);
        if (skip_prefix.empty() || entry.substr(0, skip_prefix.size()) != skip_prefix) {
            sum += environment_entry_digest(entry);
        }
    }
    return sum;
}

std::optional<std::string> env_var(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
}

void set_env(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
}

void unset_env(const std::string& name) {
    ::unsetenv(name.c_str());
}

char path_list_separator() {
    return ':';
}

std::string to_utf8(const fs::path& p) {
    return p.string();
}

fs::path from_utf8(const std::string& s) {
    return fs::path(s);
}

fs::path runtime_dir_candidate(const EnvMap& env_vars) {
    if (auto xdg = lookup(env_vars, "XDG_RUNTIME_DIR"); xdg && xdg->front() == '/') {
        return fs::path(*xdg) / "alltalk-launch";
    }
    auto tmp = lookup(env_vars, "TMPDIR");
    return fs::path(tmp && tmp->front() == '/' ? *tmp : "/tmp") /
           ("alltalk-launch-" + std::to_string(::getuid()));
}

bool ensure_private_dir(const fs::path& dir, std::string& why) {
    // In a shared /tmp another user could have made this name first: accept only our own folder.
    const auto private_of_ours = [&dir] {
        struct stat st {};
        return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid() &&
               (st.st_mode & 0022) == 0;
    };
    // Looked at first: a start asks for its runtime folder and its cache folder once per cache it
    // reads, and they are there all but the first time (a mkdir that fails costs more than lstat).
    if (private_of_ours()) {
        return true;
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        why = "cannot create " + dir.string() + ": " + std::strerror(errno);
        return false;
    }
    if (!private_of_ours()) {
        why = dir.string() + " is not a private folder of this user";
        return false;
    }
    return true;
}

std::string exec_self(const std::vector<std::string>& args) {
    const std::string& exe = self_exe_text();
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    return std::strerror(errno);
}

bool make_symlink(const fs::path& target, const fs::path& link, std::string& why) {
    std::error_code ec;
    if (fs::read_symlink(link, ec) == target) {
        return true;  // already there: the common case costs one readlink
    }
    fs::create_directories(link.parent_path(), ec);
    fs::path tmp = link;
    tmp += ".tmp" + std::to_string(::getpid());
    fs::remove(tmp, ec);
    if (::symlink(target.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
        why = "cannot create " + link.string() + ": " + std::strerror(errno);
        fs::remove(tmp, ec);
        return false;
    }
    return true;
}

HostInfo host_info() {
    HostInfo h;
    struct utsname u {};
    if (uname(&u) == 0) {
        h.system = u.sysname;
        h.release = u.release;
        h.version = u.version;
        h.machine = u.machine;
    }
    return h;
}

long long current_pid() {
    return ::getpid();
}

std::optional<int> run_attached(const std::vector<std::string>& argv,
                                const std::vector<EnvChange>& changes, std::string& why) {
    if (argv.empty()) {
        why = "nothing to run";
        return std::nullopt;
    }
    std::vector<std::string> env_text;
    for (const auto& [name, value] : with_changes(environment(), changes)) {
        env_text.push_back(name + "=" + value);
    }
    std::vector<char*> envp;
    for (auto& e : env_text) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    // The child reports a failed exec through this pipe (closed by a successful one).
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        return std::nullopt;
    }
    struct sigaction ignore {};
    struct sigaction old_int {};
    struct sigaction old_quit {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGINT, &ignore, &old_int);
    ::sigaction(SIGQUIT, &ignore, &old_quit);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(report[0]);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        ::sigaction(SIGINT, &dfl, nullptr);
        ::sigaction(SIGQUIT, &dfl, nullptr);
        ::execve(args[0], args.data(), envp.data());
        const int err = errno;
        ssize_t ignored = ::write(report[1], &err, sizeof err);
        (void)ignored;
        ::_exit(127);
    }
    ::close(report[1]);
    std::optional<int> status;
    if (pid < 0) {
        why = std::string("fork: ") + std::strerror(errno);
    } else {
        int err = 0;
        ssize_t n = 0;
        while ((n = ::read(report[0], &err, sizeof err)) < 0 && errno == EINTR) {
        }
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (n == static_cast<ssize_t>(sizeof err)) {
            why = "cannot start " + argv[0] + ": " + std::strerror(err);
        } else {
            status = WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
        }
    }
    ::close(report[0]);
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    return status;
}

bool tcp_port_in_use(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // TIME_WAIT is not "in use"
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    bool in_use =
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == EADDRINUSE;
    close(fd);
    return in_use;
}

namespace {

// The process group of the child being watched: when this process is interrupted (Ctrl-C reaches
// only the terminal's foreground group) or terminated, the child's group goes with it.
volatile sig_atomic_t g_child_group = 0;

void end_with_child(int sig) {
    if (g_child_group > 0) {
        ::kill(-static_cast<pid_t>(g_child_group), SIGKILL);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void watch_signals() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction old {};
        if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
            struct sigaction sa {};
            sa.sa_handler = end_with_child;
            sigemptyset(&sa.sa_mask);
            ::sigaction(sig, &sa, nullptr);
        }
    }
}

}  // namespace

bool Child::start(const std::vector<std::string>& argv, const fs::path& output, std::string& why) {
    if (argv.empty()) {
        why = "nothing to run";
        return false;
    }
    const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) {
        why = "cannot open " + output.string() + ": " + std::strerror(errno);
        return false;
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        why = std::string("fork: ") + std::strerror(errno);
        ::close(out);
        return false;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0) {
            ::dup2(null, STDIN_FILENO);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out);
    ::setpgid(pid, pid);  // as the child does: whichever runs first
    handle_ = pid;
    status_.reset();
    g_child_group = static_cast<sig_atomic_t>(pid);
    watch_signals();
    return true;
}

std::optional<int> Child::wait_for(int ms) {
    if (handle_ == 0 || status_) {
        return status_;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        int st = 0;
        const pid_t r = ::waitpid(static_cast<pid_t>(handle_), &st, WNOHANG);
        if (r == static_cast<pid_t>(handle_)) {
            status_ = WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
            g_child_group = 0;
            return status_;
        }
        if (r < 0 && errno != EINTR) {
            status_ = -1;
            return status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void Child::kill() {
    if (handle_ == 0 || status_) {
        return;
    }
    ::kill(-static_cast<pid_t>(handle_), SIGKILL);
    ::kill(static_cast<pid_t>(handle_), SIGKILL);
    int st = 0;
    while (::waitpid(static_cast<pid_t>(handle_), &st, 0) < 0 && errno == EINTR) {
    }
    status_ = -SIGKILL;
    g_child_group = 0;
}

Child::~Child() {
    kill();
}

std::string stderr_file_tail(std::size_t max_bytes) {
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        return {};
    }
    // /proc/self/fd/2 opens the same file for reading; the inherited descriptor is often O_WRONLY.
    const int fd = open("/proc/self/fd/2", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    const std::size_t n = std::min(size, max_bytes);
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = pread(fd, out.data() + got, n - got, static_cast<off_t>(size - n + got));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += static_cast<std::size_t>(r);
    }
    close(fd);
    out.resize(got);
    return out;
}

}  // namespace alltalk::process
