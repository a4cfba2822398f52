#pragma once
// Process-level facts and effects, one implementation per platform (process_posix.cpp, and
// process_win32.cpp for Windows). Everything else in bootstrap/ takes these facts as values.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/environ.hpp"

namespace alltalk::process {

// The running executable, resolved (/proc/self/exe on Linux).
std::filesystem::path self_exe();

// A snapshot of the process environment.
EnvMap environment();

// A digest of the process environment ("NAME=value" entries, in any order), leaving out the
// variables whose names start with `skip_prefix`; without a snapshot (no allocation on POSIX).
std::uint64_t environment_digest(std::string_view skip_prefix);
// One entry's part of environment_digest() (the digest is the sum of its entries' parts).
std::uint64_t environment_entry_digest(std::string_view entry);

// One variable of the process environment (UTF-8), without a snapshot of the rest.
std::optional<std::string> env_var(const std::string& name);

void set_env(const std::string& name, const std::string& value);
void unset_env(const std::string& name);

// POSIX: replaces this process with the launcher itself run with `args` (after the program
// name) and the current environment; returns only on failure, with the reason. Windows: no
// such thing (always fails).
std::string exec_self(const std::vector<std::string>& args);
void apply(const std::vector<EnvChange>& changes);
// `env` with `changes` applied (a value: nothing is set in this process).
EnvMap with_changes(EnvMap env, const std::vector<EnvChange>& changes);

// ':' on POSIX, ';' on Windows.
char path_list_separator();

// Converts a native path to UTF-8 text and back (identity on POSIX).
std::string to_utf8(const std::filesystem::path& p);
std::filesystem::path from_utf8(const std::string& s);

// Where the per-user folder for launcher runtime files lives (never inside the user's environment):
// $XDG_RUNTIME_DIR/alltalk-launch, else $TMPDIR or /tmp / alltalk-launch-<uid>. Nothing is created.
std::filesystem::path runtime_dir_candidate(const EnvMap& env_vars);

// Creates `dir` with mode 0700 if needed and checks that it is a private folder of this user.
bool ensure_private_dir(const std::filesystem::path& dir, std::string& why);

// Makes `link` a symbolic link to `target`, replacing an older link atomically.
bool make_symlink(const std::filesystem::path& target, const std::filesystem::path& link,
                  std::string& why);

// What PEP 508 markers and the doctor need to know about this machine (uname on POSIX).
struct HostInfo {
    std::string system;   // platform.system(): "Linux", "Windows"
    std::string release;  // platform.release()
    std::string version;  // platform.version()
    std::string machine;  // platform.machine(): "x86_64", "AMD64"
};
HostInfo host_info();

// This process's id.
long long current_pid();

// The last `max_bytes` of what this process's stderr holds, when stderr is a regular file (a
// redirected log, read by opening it anew: the inherited handle is usually write-only); empty for
// a terminal, a pipe or an unreadable file. For the crash explanation, which matches what the app
// printed before it died.
std::string stderr_file_tail(std::size_t max_bytes);

// Runs argv[0] (a full path) with `argv`, sharing this process's stdin, stdout and stderr (its
// output shows live), in this process's environment with `changes` applied, and waits for its
// end: its exit status (POSIX: -N when killed by signal N); nullopt with `why` when it cannot
// start. While it runs, Ctrl-C goes to the child, and this process waits for its end instead of
// ending first (POSIX: SIGINT and SIGQUIT are ignored here meanwhile, as system(3) does; Windows:
// Ctrl+C and Ctrl+Break, the child being in this process's console and process group).
std::optional<int> run_attached(const std::vector<std::string>& argv,
                                const std::vector<EnvChange>& changes, std::string& why);

// True when a TCP listener already holds `port` on this machine (binding it fails).
bool tcp_port_in_use(int port);

// A child process that runs with its stdout and stderr appended to a file, watched with a
// deadline and killed past it (`doctor --deep`), with whatever it started: POSIX, in a process
// group of its own (killed too when this process dies of SIGINT, SIGTERM or SIGHUP); Windows, in
// a job object that ends with this process.
class Child {
  public:
    Child() = default;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    Child(Child&& other) noexcept;
    Child& operator=(Child&& other) noexcept;
    ~Child();  // kills a child still running

    // argv[0] is the program (a full path); all UTF-8. False with `why` when it cannot start.
    bool start(const std::vector<std::string>& argv, const std::filesystem::path& output,
               std::string& why);
    // Waits up to `ms` milliseconds: its exit status once it ended (POSIX: -N when killed by
    // signal N), nullopt while it runs.
    std::optional<int> wait_for(int ms);
    // Kills it (and its process group) and reaps it.
    void kill();
    bool running() const { return handle_ != 0 && !status_; }

  private:
    long long handle_ = 0;  // pid (POSIX) or process HANDLE (Windows); 0: none
    long long job_ = 0;     // Windows: the job object HANDLE
    std::optional<int> status_;
};

}  // namespace alltalk::process
