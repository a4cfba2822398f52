// A test driver of fix/apply.hpp and fix/undo.hpp while `fix`'s planning side is elsewhere: the
// integration tests (tests/integration/test_fix_undo.py) hand it the replaced set and the pip
// command, so that real pip runs through apply_fix.
//
//   fix_driver apply ENV [--replace KEY]... [--install REQ]... [--copy] [--pause-at N]
//                        [--summary TEXT] -- PROGRAM ARGS...
//   fix_driver record ENV [--replace KEY]... [--copy]   a point only (the torch measurement)
//   fix_driver restore ENV [ID]
//   fix_driver hold-lock ENV                           takes the lock, says "locked", waits
//
// --pause-at N: after the N-th saved file, prints "saving N" and sleeps (to be killed there).
// Prints one JSON object on stdout; a LaunchError is its paragraph on stderr and status 2.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "discover/python_env.hpp"
#include "fix/apply.hpp"
#include "fix/lock.hpp"
#include "fix/undo.hpp"
#include "os/process.hpp"

using namespace alltalk;
using nlohmann::json;

namespace {

json stats_json(const fix::RecordStats& s) {
    return {{"files", s.files},   {"linked", s.linked}, {"copied", s.copied},
            {"hashed", s.hashed}, {"bytes", s.bytes},   {"copied_bytes", s.copied_bytes}};
}

int run(const std::vector<std::string>& args) {
    if (args.size() < 2) {
        std::fputs("usage: fix_driver apply|record|restore|hold-lock ENV ...\n", stderr);
        return 2;
    }
    const std::string& cmd = args[0];
    const PythonEnv env = inspect_env(process::from_utf8(args[1]), PythonVersion{});
    fix::ApplyRequest req;
    req.env = env;
    std::size_t pause_at = 0;
    std::optional<std::string> id;
    std::size_t i = 2;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a == "--replace" && i + 1 < args.size()) {
            req.replaced.push_back(args[++i]);
        } else if (a == "--install" && i + 1 < args.size()) {
            req.installs.push_back(args[++i]);
        } else if (a == "--summary" && i + 1 < args.size()) {
            req.summary = args[++i];
        } else if (a == "--pause-at" && i + 1 < args.size()) {
            pause_at = std::stoul(args[++i]);
        } else if (a == "--copy") {
            req.record.allow_links = false;
        } else {
            id = a;
        }
    }
    if (i <= args.size()) {
        req.steps.push_back(
            {std::vector<std::string>(args.begin() + static_cast<long>(i), args.end()),
             "the test's pip command"});
    }
    if (pause_at) {
        req.record.on_saved = [pause_at](std::size_t done, std::size_t) {
            if (done == pause_at) {
                std::printf("saving %zu\n", done);
                std::fflush(stdout);
                std::this_thread::sleep_for(std::chrono::minutes(5));
            }
        };
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    if (cmd == "apply") {
        req.scan = scan_site_packages(env.site_packages);
        const fix::ApplyResult r = fix::apply_fix(req);
        std::cout << json{{"undo_id", r.undo_id},
                          {"ok", r.ok},
                          {"status", r.status},
                          {"failed_step", r.failed_step},
                          {"recorded", stats_json(r.recorded)},
                          {"seconds", seconds()}}
                  << std::endl;
        return r.ok ? 0 : 1;
    }
    if (cmd == "record") {
        fix::RecordStats stats;
        const fix::UndoManifest m =
            fix::record_undo_point(env, scan_site_packages(env.site_packages), req.replaced,
                                   req.installs, req.summary, req.record, &stats);
        std::cout << json{{"undo_id", m.id}, {"stats", stats_json(stats)}, {"seconds", seconds()}}
                  << std::endl;
        return 0;
    }
    if (cmd == "restore") {
        fix::FixLock lock = fix::FixLock::acquire(env, "fix --undo");
        const fix::RestoreResult r = fix::restore_undo_point(env, id);
        std::cout << json{{"id", r.id},
                          {"incomplete", r.incomplete},
                          {"restored_files", r.restored_files},
                          {"removed_paths", r.removed_paths},
                          {"seconds", seconds()}}
                  << std::endl;
        return 0;
    }
    if (cmd == "hold-lock") {
        fix::FixLock lock = fix::FixLock::acquire(env, "fix: a test holds the lock");
        std::printf("locked %lld\n", process::current_pid());
        std::fflush(stdout);
        std::string line;
        std::getline(std::cin, line);  // until the test closes stdin (or kills it)
        return 0;
    }
    std::fprintf(stderr, "fix_driver: unknown command %s\n", cmd.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const LaunchError& e) {
        std::fprintf(stderr, "fix_driver: error: %s\n", e.what());
        return e.exit_status();
    }
}
