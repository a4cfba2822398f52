#include "setup_cmd.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "console.hpp"
#include "os/process.hpp"
#include "setup/run.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

setup::SetupOptions setup_options(const cli::Options& opts) {
    const cli::SetupCliOptions& c = *opts.setup;
    setup::SetupOptions o;
    o.python = c.python;
    o.gpu = c.gpu == "cuda"  ? setup::GpuChoice::Cuda
            : c.gpu == "cpu" ? setup::GpuChoice::Cpu
                             : setup::GpuChoice::Auto;
    o.profile = c.profile;
    o.installer = c.installer;
    o.dry_run = opts.dry_run;
    o.yes = c.yes;
    o.force = c.force;
    o.json = c.json;
    return o;
}

// --lock PATH (a lock file, or a folder of *.txt locks), parsed; or the shipped locks.
std::vector<const setup::LockInfo*> locks_at_hand(const cli::Options& opts, const fs::path& cwd,
                                                  std::vector<setup::LockInfo>& own) {
    std::vector<const setup::LockInfo*> out;
    if (!opts.setup->lock) {
        for (const auto& l : setup::shipped_locks()) {
            out.push_back(&l);
        }
        return out;
    }
    const fs::path given = absolute_from(*opts.setup->lock, cwd);
    std::vector<fs::path> files;
    std::error_code ec;
    if (files::is_dir(given)) {
        for (const auto& e : fs::directory_iterator(given, ec)) {
            if (e.path().extension() == ".txt") {
                files.push_back(e.path());
            }
        }
        std::sort(files.begin(), files.end());
    } else {
        files.push_back(given);
    }
    for (const auto& file : files) {
        std::string text, why;
        if (!files::read_text(file, text)) {
            throw LaunchError(Stage::Setup,
                              ErrorText{"Not setting up: the lock " + process::to_utf8(file) +
                                            " (--lock) cannot be read.",
                                        "",
                                        "Check the path, or leave --lock out to use the "
                                        "locks that ship with alltalk-launch."});
        }
        auto lock = setup::parse_lock(process::to_utf8(file.stem()), text, &why);
        if (!lock) {
            throw LaunchError(
                Stage::Setup,
                ErrorText{"Not setting up: " + process::to_utf8(file) +
                              " (--lock) is not a lock that setup can install from: " + why + ".",
                          "",
                          "Make it with packaging/locks/make_lock.py, which writes the "
                          "header setup reads, or leave --lock out."});
        }
        own.push_back(std::move(*lock));
    }
    if (own.empty()) {
        throw LaunchError(Stage::Setup,
                          ErrorText{"Not setting up: the folder " + process::to_utf8(given) +
                                        " (--lock) holds no lock (*.txt).",
                                    "", "Name a lock file, or a folder of them."});
    }
    for (const auto& l : own) {
        out.push_back(&l);
    }
    return out;
}

std::string minutes(double seconds) {
    char buf[32];
    if (seconds < 120) {
        std::snprintf(buf, sizeof buf, "%.0f s", seconds);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f min", seconds / 60);
    }
    return buf;
}

// --yes, else the question; a status to stop with when there is no yes.
std::optional<int> confirm_setup(bool yes, bool json, nlohmann::json& result) {
    if (yes) {
        return std::nullopt;
    }
    if (!console::stdin_is_terminal()) {
        const char* msg =
            "Not set up: there is no terminal to ask on. Run again with --yes to set up "
            "without asking.";
        if (json) {
            result["outcome"] = {{"status", "needs-yes"}, {"message", msg}};
            std::puts(result.dump(2).c_str());
        } else {
            std::printf("\n%s\n", msg);
        }
        return kSetupNeedsYesStatus;
    }
    if (!console::ask("\nMake this env now?")) {
        std::puts("Nothing was made.");
        return 1;
    }
    return std::nullopt;
}

// Ready, with the commands that start it; or installed and not ready, with what to do.
std::string outcome_message(const setup::SetupOutcome& outcome, const fs::path& root,
                            const fs::path& env, bool env_given) {
    const std::string cd = "--root " + text::quote_arg(process::to_utf8(root), kHostPlatform);
    const std::string env_arg =
        env_given ? " --env " + text::quote_arg(process::to_utf8(env), kHostPlatform) : "";
    if (outcome.ready) {
        return "The env " + process::to_utf8(env) + " is ready (set up in " +
               minutes(outcome.seconds) + "). Start AllTalk with `alltalk-launch " + cd + env_arg +
               " server`, finetuning with `alltalk-launch " + cd + env_arg + " finetune`.";
    }
    return "The env " + process::to_utf8(env) + " is installed (in " + minutes(outcome.seconds) +
           "), but not ready: the check of " + text::join(outcome.failed_checks, " and ") +
           " found errors (above). Mend them with `alltalk-launch " + cd + env_arg +
           " fix --deep`, or report them with `alltalk-launch doctor --report FILE`.";
}

void print_outcome(const setup::SetupOutcome& outcome, const std::string& message, bool json,
                   nlohmann::json& result) {
    if (!json) {
        std::printf("\n%s\n", message.c_str());
        return;
    }
    nlohmann::json steps = nlohmann::json::object();
    for (const auto& [id, s] : outcome.step_seconds) {
        steps[id] = s;
    }
    result["outcome"] = {{"status", outcome.ready ? "ready" : "not-ready"},
                         {"installed", outcome.installed},
                         {"failed_checks", outcome.failed_checks},
                         {"seconds", outcome.seconds},
                         {"step_seconds", steps},
                         {"message", message}};
    std::puts(result.dump(2).c_str());
}

}  // namespace

int run_setup_command(const cli::Options& opts) {
    const DiscoveryInputs in = cli::discovery_inputs(opts);
    const bool json = opts.setup->json;
    const RootChoice root = find_root(in);
    const fs::path env = in.env_option ? absolute_from(*in.env_option, in.cwd)
                                       : root.root / "alltalk_environment" / "env";
    std::vector<setup::LockInfo> own_locks;
    const setup::SetupOptions options = setup_options(opts);
    const setup::SetupFacts facts = setup::gather_setup_facts(
        root.root, env, locks_at_hand(opts, in.cwd, own_locks), options, in.env_vars);
    const setup::SetupPlan plan = setup::make_setup_plan(facts);
    nlohmann::json result;
    if (json) {
        result["plan"] = nlohmann::json::parse(setup::setup_plan_json(facts, plan));
    } else {
        std::fputs(setup::describe_setup_plan(facts, plan).c_str(), stdout);
    }
    if (opts.dry_run) {
        if (json) {
            result["dry_run"] = true;
            std::puts(result.dump(2).c_str());
        } else {
            std::puts("--dry-run: nothing was made.");
        }
        return 0;
    }
    if (auto status = confirm_setup(options.yes, json, result)) {
        return *status;
    }
    setup::SetupOutcome outcome;
    {
        std::fflush(stdout);
        std::optional<console::StdoutToStderr> keep_stdout_for_json;
        if (json) {
            keep_stdout_for_json.emplace();
        }
        outcome = setup::run_setup(facts, plan, [](const std::string& line) {
            std::printf("alltalk-launch setup: %s\n", line.c_str());
            std::fflush(stdout);
        });
    }
    print_outcome(outcome, outcome_message(outcome, root.root, env, in.env_option.has_value()),
                  json, result);
    return outcome.ready ? 0 : 1;
}

}  // namespace alltalk
