// The run lock's folder (fix/run_lock.hpp): one per env folder, however its path is spelled; and
// the lock itself, taken and seen, then gone with its holder.
#include <doctest/doctest.h>

#include "base/error.hpp"
#include "fix/run_lock.hpp"
#include "os/process.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

TEST_CASE("one run-lock folder per env, however its path is written") {
    const fs::path rt = "/run/user/1000/alltalk-launch";
    const auto a = fix::run_lock_dir(rt, "/home/u/alltalk_tts/alltalk_environment/env");
    CHECK(a == fix::run_lock_dir(rt, "/home/u/alltalk_tts/alltalk_environment/env/"));
    CHECK(a == fix::run_lock_dir(rt, "/home/u/alltalk_tts/./alltalk_environment/env"));
    CHECK(a != fix::run_lock_dir(rt, "/home/u/other/alltalk_environment/env"));
    CHECK(a.parent_path() == rt / "running");
    CHECK(a.filename().string().size() == 16);
}

TEST_CASE("a run lock is seen while held and gone when released") {
    test::TempDir tmp;
    const fs::path runtime = tmp.path() / "rt";
    fs::create_directories(runtime);
    fs::permissions(runtime, fs::perms::owner_all, fs::perm_options::replace);
    const EnvMap vars{{"XDG_RUNTIME_DIR", runtime.string()}};
    const fs::path env = tmp.path() / "env";
    CHECK(fix::running_from(env, vars).empty());
    auto lock = fix::RunLock::acquire(env, "server", vars);
    REQUIRE(lock.held());
    // flock is per open file: this process's own second open does not see it as free.
    const auto running = fix::running_from(env, vars);
    REQUIRE(running.size() == 1);
    CHECK(running[0].pid == process::current_pid());
    CHECK(running[0].what == "server");
    CHECK_THROWS_WITH_AS(fix::refuse_while_running(env, "fix", vars),
                         doctest::Contains("Not running fix: AllTalk runs from"), LaunchError);
    lock.release();
    CHECK(fix::running_from(env, vars).empty());
    CHECK_NOTHROW(fix::refuse_while_running(env, "fix", vars));
}
