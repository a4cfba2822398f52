#pragma once
// One fix at a time per env: <env>/.alltalk-launch/fix.lock (fix::lock_file), locked by the
// operating system for as long as its holder lives (os/file_lock.hpp: a killed holder leaves no
// stale lock), with the holder's pid and what it does written inside. `server` and `finetune`
// refuse to start in an env while a fix holds it.
#include <optional>
#include <string>
#include <string_view>

#include "discover/python_env.hpp"
#include "os/file_lock.hpp"

namespace alltalk::fix {

struct LockHolder {
    long long pid = 0;  // 0: not written yet (the holder is between locking and writing)
    std::string what;   // "fix: torch 2.1.0 -> 2.3.1", "fix --undo"
    std::string since;  // UTC, ISO 8601
};

// The text inside the lock file, and back (pure). parse: missing lines stay empty.
std::string format_lock_holder(const LockHolder& h);
LockHolder parse_lock_holder(std::string_view text);

class FixLock {
  public:
    // What the holder changes: the env's packages (refused while AllTalk runs from the env:
    // fix/run_lock.hpp), or only alltalk-launch's own records in it (fix --forget).
    enum class Changes { Packages, Records };
    // Takes the env's fix lock, creating <env>/.alltalk-launch. Throws LaunchError(Stage::Fix):
    // held by another process (naming its pid and what it does), the folder not writable, or
    // (Changes::Packages) a server or finetune running from the env (naming its pid).
    static FixLock acquire(const PythonEnv& env, std::string what,
                           Changes changes = Changes::Packages);
    void release() { lock_.release(); }

  private:
    files::FileLock lock_;
};

// Who holds the env's fix lock now; nullopt when nobody does. Costs one failed open when the env
// has no .alltalk-launch folder.
std::optional<LockHolder> fix_lock_holder(const PythonEnv& env);

// For `server` / `finetune`: throws LaunchError(Stage::Fix) naming the holder when a fix runs in
// the env. `doing` is what would start ("server").
void refuse_while_fixing(const PythonEnv& env, std::string_view doing);

}  // namespace alltalk::fix
