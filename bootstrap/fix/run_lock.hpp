#pragma once
// The other half of fix's lock (fix/lock.hpp): while `server` or `finetune` runs from an env, it
// holds a run lock, so that `fix`, `fix --undo`, `overlay sync|remove` and `setup --force` refuse
// to change that env under it, naming its pid (on Windows a loaded .pyd or .dll cannot be
// replaced at all: a fix there would half-install). The lock is a file per process in the user's
// runtime folder (process::runtime_dir_candidate: never inside the env), <runtime>/running/<key of
// the env's folder>/<pid>.lock, locked by the operating system for as long as the process lives
// (os/file_lock.hpp), with the pid, the command and the time inside. Order: the app takes its
// run lock, then checks for a fix; a fix takes the fix lock, then checks for run locks; so of two
// that start together at least one sees the other.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/environ.hpp"
#include "fix/lock.hpp"
#include "os/file_lock.hpp"

namespace alltalk::fix {

// The folder of `env_dir`'s run locks (pure).
std::filesystem::path run_lock_dir(const std::filesystem::path& runtime,
                                   const std::filesystem::path& env_dir);

class RunLock {
  public:
    // Best effort: a start is never refused because its run lock could not be written (the
    // runtime folder not writable); held() then says false.
    static RunLock acquire(const std::filesystem::path& env_dir, std::string what,
                           const EnvMap& env_vars);
    bool held() const { return lock_.held(); }
    void release() { lock_.release(); }

  private:
    files::FileLock lock_;
    std::filesystem::path path_;
};

// The processes that run from `env_dir` now (their lock files are held); lock files whose process
// ended are removed on the way.
std::vector<LockHolder> running_from(const std::filesystem::path& env_dir, const EnvMap& env_vars);

// For the commands that change an env: throws LaunchError(Stage::Fix) naming every process that
// runs from it. `doing` is the command ("fix", "overlay sync server", "setup --force").
void refuse_while_running(const std::filesystem::path& env_dir, std::string_view doing,
                          const EnvMap& env_vars);

}  // namespace alltalk::fix
