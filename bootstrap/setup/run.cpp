#include "setup/run.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "fix/pip.hpp"
#include "fix/run_lock.hpp"
#include "gpu/probe.hpp"
#include "os/durable.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk::setup {

namespace {

constexpr const char* kMarkerName = "setup-unfinished";

std::string u8(const fs::path& p) {
    return process::to_utf8(p);
}

std::string utc_now(const char* format) {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
#ifdef _WIN32
    gmtime_s(&tm, &t);
#else
    gmtime_r(&t, &tm);
#endif
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

std::string host_platform_tag() {
#ifdef _WIN32
    return "win_amd64";
#elif defined(__aarch64__)
    return "linux_aarch64";
#else
    return "linux_x86_64";
#endif
}

[[noreturn]] void fail(std::string what, std::string fix) {
    throw LaunchError(Stage::Setup, ErrorText{std::move(what), "", std::move(fix)}, 1);
}

void write_or_fail(const fs::path& file, const std::string& data) {
    if (const std::error_code ec = files::write_file_synced(file, data)) {
        fail("Setup could not write " + u8(file) + ": " + ec.message() + ".",
             files::is_out_of_space(ec) ? "The disk is full: free some space and run setup again."
                                        : "Check that the folder is writable, then run setup "
                                          "again.");
    }
}

// Makes `dir` (and its parents), or fails with the reason.
void make_dirs(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        fail("Setup could not make the folder " + u8(dir) + ": " + ec.message() + ".",
             "Check that its parent is writable (or choose another place with --env DIR), then "
             "run setup again.");
    }
}

// The free bytes on the file system that will hold `env` (its nearest existing folder).
std::optional<std::uint64_t> free_bytes_for(fs::path p) {
    std::error_code ec;
    while (!p.empty() && !fs::exists(p, ec)) {
        if (p == p.parent_path()) {
            return std::nullopt;
        }
        p = p.parent_path();
    }
    const fs::space_info s = fs::space(p, ec);
    return ec ? std::nullopt : std::optional<std::uint64_t>(s.available);
}

// Prints the file's text to stdout (a check's output, once it ended).
void show_file(const fs::path& file) {
    const std::string text = files::read_all(file);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (!text.empty() && text.back() != '\n') {
        std::fputc('\n', stdout);
    }
    std::fflush(stdout);
}

using Clock = std::chrono::steady_clock;

// The checks, steps `first` to the end (doctor --deep; one for both commands as planned). They
// only read the env, so where there are several they run together, each with its output in
// <env>/.alltalk-launch/setup/<id>.log, shown in order once all have ended. A check that fails
// names the commands its doctor's errors stop (its --json-file), else both.
void run_checks(const SetupPlan& plan, std::size_t first, SetupOutcome& out,
                const std::function<void(const std::string&)>& say) {
    struct Check {
        const SetupStep* step;
        fs::path log;
        process::Child child;
        Clock::time_point t0;
        std::optional<int> status;
        double seconds = 0;
    };
    const std::size_t n = plan.steps.size();
    std::vector<Check> checks;
    for (std::size_t i = first; i < n; ++i) {
        const SetupStep& step = plan.steps[i];
        say("[" + std::to_string(i + 1) + "/" + std::to_string(n) + "] " + step.title);
        Check c{&step, plan.lock_copy.parent_path() / (step.id + ".log"), {}, Clock::now(), {}};
        std::error_code ec;
        fs::remove(c.log, ec);
        fs::remove(plan.check_json, ec);  // a check's failures are read from its own run
        std::string why;
        if (!c.child.start(step.argv, c.log, why)) {
            fail("Setup could not start " + step.argv[0] + " for the step \"" + step.title +
                     "\": " + why + ".",
                 "The env " + u8(plan.env) + " is installed; run setup again to check it.");
        }
        checks.push_back(std::move(c));
    }
    if (checks.size() > 1) {
        say("(the checks run together; each one's report follows when all have ended)");
    }
    for (std::size_t left = checks.size(); left > 0;) {
        for (Check& c : checks) {
            if (!c.status && (c.status = c.child.wait_for(50))) {
                c.seconds = std::chrono::duration<double>(Clock::now() - c.t0).count();
                --left;
            }
        }
    }
    for (Check& c : checks) {
        say("-- " + c.step->title + ":");
        show_file(c.log);
        out.step_seconds.push_back({c.step->id, c.seconds});
        if (*c.status != 0) {
            std::vector<std::string> failed = commands_failed(files::read_all(plan.check_json));
            if (failed.empty()) {
                failed = {"server", "finetune"};
            }
            for (const std::string& cmd : failed) {
                if (std::find(out.failed_checks.begin(), out.failed_checks.end(), cmd) ==
                    out.failed_checks.end()) {
                    out.failed_checks.push_back(cmd);
                }
            }
        }
    }
}

}  // namespace

std::vector<std::string> commands_failed(std::string_view doctor_json) {
    const nlohmann::json j = nlohmann::json::parse(doctor_json, nullptr, false);
    std::vector<std::string> out;
    if (!j.is_object() || !j.contains("findings") || !j["findings"].is_array()) {
        return out;
    }
    std::vector<std::string> all;
    if (j.contains("commands") && j["commands"].is_object()) {
        for (const auto& [name, check] : j["commands"].items()) {
            all.push_back(name);
        }
    }
    for (const auto& f : j["findings"]) {
        if (!f.is_object() || f.value("severity", "") != "error") {
            continue;
        }
        std::vector<std::string> cmds;
        if (f.contains("commands") && f["commands"].is_array()) {
            for (const auto& c : f["commands"]) {
                if (c.is_string()) {
                    cmds.push_back(c.get<std::string>());
                }
            }
        }
        for (const std::string& c : cmds.empty() ? all : cmds) {
            if (std::find(out.begin(), out.end(), c) == out.end()) {
                out.push_back(c);
            }
        }
    }
    // In the launch's order, whatever order the findings came in.
    std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        return a == "server" && b != "server";
    });
    return out;
}

fs::path unfinished_marker(const fs::path& env) {
    return env / ".alltalk-launch" / kMarkerName;
}

void refuse_unfinished(const PythonEnv& env, std::string_view doing) {
    const fs::path marker = unfinished_marker(env.dir);
    if (!files::is_file(marker)) {
        return;
    }
    throw LaunchError(
        Stage::Setup,
        ErrorText{"Not starting " + std::string(doing) + ": the env " + u8(env.dir) +
                      " was left unfinished by an `alltalk-launch setup` that did not end (" +
                      std::string(text::trim(files::read_all(marker))) +
                      "), so some of its packages may be missing or half-installed.",
                  "",
                  "Run `alltalk-launch setup` again: it remakes the env from its lock. (A setup "
                  "still running in another window: wait for it to end.)"});
}

EnvState env_state_of(const fs::path& env) {
    std::error_code ec;
    if (!fs::exists(env, ec)) {
        return EnvState::Absent;
    }
    if (files::is_file(unfinished_marker(env))) {
        return EnvState::Unfinished;
    }
    if (fs::is_directory(env, ec) && fs::directory_iterator(env, ec) == fs::directory_iterator()) {
        return ec ? EnvState::Exists : EnvState::Absent;
    }
    return EnvState::Exists;
}

std::string aside_path(const fs::path& env) {
    fs::path e = env;
    if (e.filename().empty()) {
        e = e.parent_path();
    }
    return u8(e) + ".before-setup-" + utc_now("%Y%m%d-%H%M%S");
}

SetupFacts gather_setup_facts(const fs::path& root, const fs::path& env,
                              std::vector<const LockInfo*> locks, const SetupOptions& options,
                              const EnvMap& env_vars) {
    SetupFacts f;
    f.options = options;
    f.checkout = inspect_checkout(root);
    if (const std::string problem = checkout_problem(f.checkout); !problem.empty()) {
        throw LaunchError(Stage::Setup, problem);
    }
    f.env = env;
    f.env_state = env_state_of(env);
    if (f.env_state == EnvState::Exists) {
        f.aside = aside_path(env);
    }
    if (f.env_state == EnvState::Unfinished || (f.env_state == EnvState::Exists && options.force)) {
        // --force moves it aside, an unfinished one is removed: never under a running AllTalk.
        fix::refuse_while_running(env, "setup", env_vars);
    }
    f.platform = host_platform_tag();
    f.locks = std::move(locks);
    f.launcher = process::self_exe();
    f.free_bytes = free_bytes_for(env);
    const BasePythonSearch search = find_base_python(options.python, "3.11", env_vars);
    if (!search.found) {
        throw LaunchError(Stage::Setup,
                          no_base_python_text(search, "3.11", options.python.has_value()));
    }
    f.python = *search.found;
    if (options.installer == "uv") {
        f.uv = fix::find_uv(PythonEnv{}, env_vars);
    }
    if (options.gpu != GpuChoice::Cpu) {
        // No env yet: the system's CUDA runtime by name, else the driver library.
        f.probe = probe_gpus(cudart_candidates(PythonEnv{}));
    }
    return f;
}

namespace {

// Removes an unfinished env, or moves an existing one aside (--force).
void clear_env_place(const SetupFacts& facts, const SetupPlan& plan,
                     const std::function<void(const std::string&)>& say) {
    std::error_code ec;
    if (facts.env_state == EnvState::Unfinished) {
        say("Removing the unfinished env " + u8(plan.env));
        fs::remove_all(plan.env, ec);
        if (ec) {
            fail("Setup could not remove the unfinished env " + u8(plan.env) + ": " + ec.message() +
                     ".",
                 "Close any program that runs from it (AllTalk, a terminal inside it), or "
                 "delete the folder yourself, then run setup again.");
        }
    } else if (facts.env_state == EnvState::Exists) {
        say("Moving the env there now aside to " + facts.aside);
        fs::rename(plan.env, process::from_utf8(facts.aside), ec);
        if (ec) {
            fail("Setup could not move " + u8(plan.env) + " aside to " + facts.aside + ": " +
                     ec.message() + ".",
                 "Close any program that runs from it, or move it yourself, then run setup "
                 "again.");
        }
    }
}

// Step `i` (an install step), its output live; fails unless it ends well.
void run_install_step(const SetupPlan& plan, std::size_t i, SetupOutcome& out,
                      const std::function<void(const std::string&)>& say) {
    const SetupStep& step = plan.steps[i];
    say("[" + std::to_string(i + 1) + "/" + std::to_string(plan.steps.size()) + "] " + step.title);
    const auto s0 = Clock::now();
    std::string why;
    const std::optional<int> status = process::run_attached(step.argv, {}, why);
    out.step_seconds.push_back({step.id, std::chrono::duration<double>(Clock::now() - s0).count()});
    if (!status) {
        fail("Setup could not start " + step.argv[0] + " for the step \"" + step.title +
                 "\": " + why + ".",
             "The env " + u8(plan.env) + " stays marked unfinished; run setup again.");
    }
    if (*status != 0) {
        fail("Setup's step \"" + step.title + "\" failed (" + step.argv[0] + " ended with status " +
                 std::to_string(*status) +
                 "); its own output above says why (no network, a full disk, a package "
                 "that has no wheel for this machine).",
             "Nothing else was done: the env " + u8(plan.env) +
                 " stays marked unfinished, so AllTalk will not start from it. Mend the "
                 "cause, then run `alltalk-launch setup` again, which remakes it.");
    }
}

}  // namespace

SetupOutcome run_setup(const SetupFacts& facts, const SetupPlan& plan,
                       const std::function<void(const std::string&)>& say) {
    const auto t0 = Clock::now();
    SetupOutcome out;
    clear_env_place(facts, plan, say);
    // The mark first: from here until every install step has ended, the env is unfinished.
    make_dirs(plan.lock_copy.parent_path());
    write_or_fail(unfinished_marker(plan.env),
                  "started " + utc_now("%Y-%m-%dT%H:%M:%SZ") + " by pid " +
                      std::to_string(process::current_pid()) + ", lock " + plan.lock->id + "\n");
    write_or_fail(plan.lock_copy, plan.lock_text);
    if (!plan.requirements.empty()) {
        write_or_fail(plan.requirements, plan.requirements_text);
        write_or_fail(plan.constraints, plan.constraints_text);
    }
    fix::prepare_pip_environment();
    std::size_t i = 0;
    for (; i < plan.steps.size() && plan.steps[i].id.rfind("check", 0) != 0; ++i) {
        run_install_step(plan, i, out, say);
    }
    // Every install step ended: the env is complete as installed. The checks come last.
    std::error_code ec;
    fs::remove(unfinished_marker(plan.env), ec);
    files::sync_dir(plan.state_dir);
    out.installed = true;
    if (i < plan.steps.size()) {
        run_checks(plan, i, out, say);
    }
    out.ready = out.failed_checks.empty();
    out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return out;
}

}  // namespace alltalk::setup
