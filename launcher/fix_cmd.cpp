#include "fix_cmd.hpp"

#include <cstdio>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "console.hpp"
#include "fix/report.hpp"
#include "fix/workflow.hpp"

namespace alltalk {

// fix --undo / --history / --forget (launcher/undo_cmd.cpp).
int run_fix_maintenance(const cli::Options& opts);

namespace {

fix::FixSettings settings_of(const cli::Options& opts) {
    const cli::FixOptions& fo = *opts.fix;
    fix::FixSettings s;
    s.command = fo.command.value_or(Command::Server);
    s.only = fo.only;
    s.profile = fo.profile;
    s.install = fo.install;
    s.yes = fo.yes;
    s.force = fo.force;
    s.deep = fo.deep;
    s.dry_run = opts.dry_run;
    s.quiet = fo.json;
    s.installer = fo.installer;
    s.trial_timeout = fo.trial_timeout;
    s.trials_timeout = fo.trials_timeout;
    return s;
}

// The console side: the report on stdout (none with --json), progress lines on stderr, the
// question on the terminal, and pip's output on stderr with --json, so that the JSON is alone on
// stdout.
fix::FixContext context_of(const cli::Options& opts, bool quiet) {
    fix::FixContext c;
    c.discovery = cli::discovery_inputs(opts);
    c.overrides = opts.request;
    c.launch_argv = cli::launch_options_argv(opts, c.discovery.cwd);
    c.out = [quiet](const std::string& s) {
        if (!quiet) {
            std::fputs(s.c_str(), stdout);
            std::fflush(stdout);  // before pip's own output, which goes straight to the terminal
        }
    };
    c.say = [quiet](const std::string& s) {
        if (!quiet) {
            std::fprintf(stderr, "alltalk-launch: %s\n", s.c_str());
        }
    };
    c.ask = [](const std::string& question) {
        if (!console::stdin_is_terminal()) {
            return fix::Answer::NoTerminal;
        }
        return console::ask(question) ? fix::Answer::Yes : fix::Answer::No;
    };
    c.around_pip = [quiet](const std::function<void()>& pip) {
        std::fflush(stdout);
        std::optional<console::StdoutToStderr> keep_stdout_for_json;
        if (quiet) {
            keep_stdout_for_json.emplace();
        }
        pip();
    };
    return c;
}

}  // namespace

int run_fix(const cli::Options& opts) {
    if (opts.fix->action != cli::FixOptions::Action::Apply) {
        return run_fix_maintenance(opts);
    }
    try {
        const fix::FixSettings s = settings_of(opts);
        const fix::FixContext c = context_of(opts, s.quiet);
        fix::FixRun r;
        const int status = fix::run_fix_steps(r, s, c);
        if (opts.fix->json) {
            std::fputs((fix::run_json(r, s).dump(2) + "\n").c_str(), stdout);
        }
        return status;
    } catch (const LaunchError& e) {
        std::fprintf(stderr, "alltalk-launch: error: %s\n", e.what());
        return e.exit_status() == kLaunchFailureStatus ? 2 : e.exit_status();
    }
}

}  // namespace alltalk
