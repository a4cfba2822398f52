#include "fix/lock.hpp"

#include <algorithm>
#include <ctime>
#include <system_error>

#include "base/error.hpp"
#include "base/text.hpp"
#include "fix/run_lock.hpp"
#include "fix/state_dir.hpp"
#include "fix/undo_manifest.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

namespace {

std::string describe(const LockHolder& h) {
    std::string out = h.pid ? "process " + std::to_string(h.pid) : "another process";
    if (!h.what.empty()) {
        out += " (" + h.what + (h.since.empty() ? "" : ", since " + h.since) + ")";
    }
    return out;
}

}  // namespace

std::string format_lock_holder(const LockHolder& h) {
    std::string what = h.what;
    std::replace(what.begin(), what.end(), '\n', ' ');
    return "pid=" + std::to_string(h.pid) + "\nwhat=" + what + "\nsince=" + h.since + "\n";
}

LockHolder parse_lock_holder(std::string_view text) {
    LockHolder h;
    for (const auto& line : text::split_nonempty(text, '\n')) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        const std::string key = line.substr(0, eq);
        const std::string value = line.substr(eq + 1);
        if (key == "pid") {
            try {
                h.pid = std::stoll(value);
            } catch (const std::exception&) {
                h.pid = 0;
            }
        } else if (key == "what") {
            h.what = value;
        } else if (key == "since") {
            h.since = value;
        }
    }
    return h;
}

FixLock FixLock::acquire(const PythonEnv& env, std::string what, Changes changes) {
    const fs::path path = lock_file(env);
    std::error_code ec;
    fs::create_directories(state_dir(env), ec);
    if (ec) {
        throw LaunchError(Stage::Fix,
                          ErrorText{"Cannot create " + process::to_utf8(state_dir(env)) + " (" +
                                        ec.message() + "): the env is not writable.",
                                    "",
                                    "fix changes the env's site-packages: run it as the user who "
                                    "owns " +
                                        process::to_utf8(env.dir) + ", or make the env writable."});
    }
    FixLock lock;
    std::string why;
    const LockHolder me{process::current_pid(), std::move(what), utc_text(std::time(nullptr))};
    switch (files::FileLock::try_acquire(path, format_lock_holder(me), lock.lock_, why)) {
        case files::FileLock::Outcome::Acquired:
            // The fix lock first, then the apps: one that starts now sees this lock and waits.
            if (changes == Changes::Packages) {
                refuse_while_running(env.dir, me.what, process::environment());
            }
            return lock;
        case files::FileLock::Outcome::Busy: {
            const auto text = files::locked_file_content(path);
            const LockHolder holder = parse_lock_holder(text.value_or(""));
            throw LaunchError(
                Stage::Fix,
                ErrorText{"Another fix is running in " + process::to_utf8(env.dir) + ": " +
                              describe(holder) + " holds " + process::to_utf8(path) + ".",
                          "",
                          "Wait for it to end, and run this again. The lock ends with that "
                          "process: if it hangs, end process " +
                              std::to_string(holder.pid) +
                              ", then run `alltalk-launch fix --undo` if it was changing "
                              "packages."});
        }
        case files::FileLock::Outcome::Failed:
            break;
    }
    throw LaunchError(Stage::Fix,
                      ErrorText{"Cannot take the fix lock: " + why + ". Nothing was changed.", "",
                                "The env is not writable for this user (or is on a read-only "
                                "disk): run alltalk-launch as the user who owns " +
                                    process::to_utf8(env.dir) + ", or make it writable."});
}

std::optional<LockHolder> fix_lock_holder(const PythonEnv& env) {
    if (auto text = files::locked_file_content(lock_file(env))) {
        return parse_lock_holder(*text);
    }
    return std::nullopt;
}

void refuse_while_fixing(const PythonEnv& env, std::string_view doing) {
    const auto holder = fix_lock_holder(env);
    if (!holder) {
        return;
    }
    throw LaunchError(
        Stage::Fix,
        ErrorText{"Not starting " + std::string(doing) + ": a fix is changing the packages of " +
                      process::to_utf8(env.dir) + " right now (" + describe(*holder) + " holds " +
                      process::to_utf8(lock_file(env)) + ").",
                  "",
                  "Wait until that fix has ended (its window shows pip's progress), then start "
                  "again."});
}

}  // namespace alltalk::fix
