#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/build_info.hpp"
#include "base/error.hpp"
#include "discover/root.hpp"
#include "os/process.hpp"
#include "pypa/pep508.hpp"

namespace alltalk::cli {

namespace {

// Global options that take a value: the token after them is not a subcommand.
bool takes_value(const std::string& arg) {
    return arg == "--root" || arg == "--env" || arg == "--config" || arg == "--cudnn" ||
           arg == "--report" || arg == "--command" || arg == "--deep-timeout" ||
           arg == "--deep-probe" || arg == "--profile" || arg == "--installer" ||
           arg == "--forget" || arg == "--trial-timeout" || arg == "--trials-timeout" ||
           arg == "--install" || arg == "--python" || arg == "--gpu" || arg == "--lock";
}

struct Split {
    std::vector<std::string> head;  // what CLI11 parses
    std::vector<std::string> tail;  // what goes to the app untouched
    std::string sub;                // the subcommand's name ("" when there is none)
};

Split split_passthrough(const std::vector<std::string>& args) {
    Split out;
    std::size_t i = 0;
    std::string sub;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        out.head.push_back(a);
        if (takes_value(a) && i + 1 < args.size()) {
            out.head.push_back(args[++i]);
        } else if (a == "--") {
            out.head.pop_back();
            out.tail.assign(args.begin() + static_cast<long>(i) + 1, args.end());
            return out;
        } else if (!a.empty() && a[0] != '-') {
            sub = a;
            ++i;
            break;
        }
    }
    out.sub = sub;
    if (sub == "python") {
        out.tail.assign(args.begin() + static_cast<long>(i), args.end());
        return out;
    }
    bool script_seen = false;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            out.tail.assign(args.begin() + static_cast<long>(i) + 1, args.end());
            return out;
        }
        out.head.push_back(a);
        if (takes_value(a) && i + 1 < args.size()) {
            out.head.push_back(args[++i]);
        } else if (sub == "run" && !script_seen && !a.empty() && a[0] != '-') {
            script_seen = true;  // the script: everything after it is the script's
            out.tail.assign(args.begin() + static_cast<long>(i) + 1, args.end());
            return out;
        }
    }
    return out;
}

}  // namespace

Parsed parse(const std::vector<std::string>& args) {
    Split split = split_passthrough(args);
    Options opts;
    CLI::App app{
        "alltalk-launch starts AllTalk (XTTS text-to-speech) inside its own Python environment, "
        "prepared as AllTalk needs it: no conda activate, no batch-file PATH edits, no "
        "sitecustomize.py.",
        "alltalk-launch"};
    app.set_version_flag("--version", std::string("alltalk-launch ") + build::kVersion +
                                          " (embeds Python " + build::kPythonVersion + ")");
    app.require_subcommand(1, 1);
    app.footer(
        "The AllTalk folder is --root, else $ALLTALK_ROOT, else the launcher's folder or a parent "
        "holding script.py and finetune.py, else the current directory. The environment is "
        "--env, else `env` in alltalk-launch.toml, else <root>/alltalk_environment/env, "
        "<root>/.venv, <root>/venv, else the active $CONDA_PREFIX or $VIRTUAL_ENV.");
    std::string root, env, config, cudnn;
    app.add_option("--root", root, "AllTalk folder (holds script.py and finetune.py)")
        ->type_name("DIR");
    app.add_option("--env", env, "Python environment to run in (conda prefix or venv)")
        ->type_name("DIR");
    app.add_option("--config", config, "Configuration file (default <root>/alltalk-launch.toml)")
        ->type_name("FILE");
    app.add_option("--cudnn", cudnn,
                   "Use the cuDNN libraries in this folder instead of the launcher's choice")
        ->type_name("DIR");
    app.add_flag("--cpu", opts.request.cpu,
                 "Hide the GPUs from the app (CUDA_VISIBLE_DEVICES=): run on the CPU");
    app.add_flag("--no-gpu-check", opts.request.no_gpu_check,
                 "Skip the check that the installed torch has kernels for each GPU");
    app.add_flag("-v,--verbose", opts.verbose, "Show each decision the launcher makes");
    std::string deep_probe;
    app.add_option("--deep-probe", deep_probe)->group("");  // doctor --deep's child (hidden)
    app.add_flag("--dry-run", opts.dry_run,
                 "Print the resolved plan (root, env, Python, script, argv, cwd, environment "
                 "changes) and exit");

    auto* server = app.add_subcommand("server", "Run AllTalk's server: <root>/script.py [-- ARGS]");
    auto* finetune =
        app.add_subcommand("finetune", "Run AllTalk's finetuning: <root>/finetune.py [-- ARGS]");
    auto* run = app.add_subcommand("run", "Run any Python script in the env: run SCRIPT [ARGS]");
    std::string script;
    run->add_option("script", script, "The script; the arguments after it are the script's")
        ->required();
    auto* python = app.add_subcommand(
        "python",
        "Behave exactly like the env's python: every argument after `python` is python's "
        "(-c, -m, a file, none for the REPL; `python --help` is python's own help)");
    auto* doctor = app.add_subcommand(
        "doctor",
        "Check the environment without starting it: requirement conflicts (as pip check), "
        "known-bad version combinations, platform problems, each with its fix. Exit status 0: "
        "no error, 1: errors found, 2: the doctor could not run");
    bool doctor_json = false, doctor_deep = false;
    double deep_timeout = 60;
    std::string report, doctor_command;
    // The options of doctor, fix and overlay are made only when one of them (or the help) may be
    // parsed: CLI11 builds each option object with its names and help text, half of the parse's
    // cost (0.3 M instructions) on every launch, and twice when the launcher re-executes itself.
    const bool launch = split.sub == "server" || split.sub == "finetune" || split.sub == "run" ||
                        split.sub == "python";
    const auto add_doctor_options = [&] {
        doctor
            ->add_option("--command", doctor_command,
                         "Check the env and cuDNN setup of this command only: server or finetune "
                         "(default: server, and finetune too where it resolves to another env or "
                         "cuDNN setup)")
            ->type_name("server|finetune");
        doctor->add_flag("--json", doctor_json, "Print the findings as JSON");
        doctor->add_flag(
            "--deep", doctor_deep,
            "Also import what the command imports at start (its script's top-level "
            "imports, torch, torchaudio, TTS's XTTS modules) in a child prepared exactly "
            "as its launch, each timed; failures become findings with their fix");
        doctor
            ->add_option("--deep-timeout", deep_timeout,
                         "With --deep: the seconds one import may take before the child is killed "
                         "and that import reported as timed out (default 60)")
            ->type_name("S");
        doctor
            ->add_option("--report", report,
                         "Also write a Markdown report for a bug report (home folder and user "
                         "name redacted)")
            ->type_name("FILE");
    };
    auto* fix = app.add_subcommand(
        "fix",
        "Apply the doctor's fixes through the env's own pip: the change is resolved by pip and "
        "checked before anything is touched (a plan that creates a new error is refused), an "
        "undo point is saved first, and `fix --undo` puts the env back exactly. Exit status 0: "
        "done (or nothing to do), 1: refused or failed, 2: could not run, 3: the plan needs a yes "
        "(no terminal and no --yes)");
    FixOptions fx;
    std::string fix_command, fix_undo, fix_forget;
    bool fix_history = false;
    const auto add_fix_options = [&] {
        fix->add_option("--command", fix_command,
                        "Fix the env of this command: server (default) or finetune")
            ->type_name("server|finetune");
        fix->add_option("--only", fx.only, "Apply only the fixes of these findings (their ids)")
            ->type_name("RULE_ID")
            ->expected(1, -1);
        fix->add_option("--profile", fx.profile,
                        "Install a known-good profile's pins (alltalk-v2, alltalk-v1)")
            ->type_name("NAME");
        fix->add_option(
               "--install", fx.install,
               "Also install these requirements (PEP 508, such as gradio==3.50.2), planned "
               "and checked like the doctor's fixes; for a command whose change would break "
               "the other command, they go into an overlay for it instead")
            ->type_name("REQ")
            ->expected(1, -1);
        fix->add_flag("-y,--yes", fx.yes, "Apply without asking");
        fix->add_flag("--force", fx.force, "Apply even a plan that creates new errors");
        fix->add_flag("--json", fx.json, "Print the plan and the outcome as JSON");
        fix->add_flag(
            "--deep", fx.deep,
            "Also fix what `doctor --deep` finds: a module nothing provides (its "
            "distribution), and a name that an installed release no longer has (the newest "
            "release that has it, found by trial in a scratch folder)");
        fix->add_option("--installer", fx.installer,
                        "Apply with pip (default) or uv (`uv pip install --python <env python>`)")
            ->type_name("pip|uv");
        fix->add_option("--undo", fix_undo,
                        "Put the env back as it was before a fix (default: the latest undo point)")
            ->type_name("ID")
            ->expected(0, 1);
        fix->add_flag("--history", fix_history, "List the undo points with their changes");
        fix->add_option("--forget", fix_forget, "Delete one undo point")->type_name("ID");
        fix->add_option("--trial-timeout", fx.trial_timeout,
                        "Seconds one trial fix may take (default 300)")
            ->type_name("S");
        fix->add_option("--trials-timeout", fx.trials_timeout,
                        "Seconds all trial fixes together may take (default 1200)")
            ->type_name("S");
    };
    auto* overlay = app.add_subcommand(
        "overlay",
        "Per-command overlays ([server] / [finetune] overlay = [requirements]): a folder of only "
        "the distributions that differ for that command, ahead of the env's site-packages for it "
        "alone; the env itself is never changed");
    CLI::App* overlay_sync = nullptr;
    CLI::App* overlay_status = nullptr;
    CLI::App* overlay_remove = nullptr;
    std::string overlay_sync_command, overlay_remove_command;
    const auto add_overlay_commands = [&] {
        overlay->require_subcommand(1, 1);
        overlay_sync = overlay->add_subcommand(
            "sync",
            "Resolve the overlay with the env's pip and install what differs from the env into "
            "<env>/.alltalk-launch/overlays/COMMAND (default: every command with an overlay)");
        overlay_status = overlay->add_subcommand(
            "status", "Say for each overlay: current, stale, missing or corrupt");
        overlay_remove = overlay->add_subcommand("remove", "Delete one command's overlay");
        overlay_sync->add_option("command", overlay_sync_command, "server or finetune")
            ->type_name("COMMAND");
        overlay_remove->add_option("command", overlay_remove_command, "server or finetune")
            ->type_name("COMMAND")
            ->required();
        for (auto* sub : {overlay_sync, overlay_status, overlay_remove}) {
            sub->fallthrough();
        }
    };
    auto* setup = app.add_subcommand(
        "setup",
        "Make AllTalk's Python environment from a fresh AllTalk checkout: a venv from a Python "
        "3.11, AllTalk's requirements installed from a proven lock (exact versions, hashes "
        "checked, wheels only) with the torch build this machine's GPU needs, then proven by "
        "importing what server and finetune import. Exit status 0: ready, 1: failed or not "
        "ready, 2: could not run, 3: needs a yes (no terminal and no --yes)");
    SetupCliOptions su;
    std::string setup_python, setup_lock;
    const auto add_setup_options = [&] {
        setup
            ->add_option("--python", setup_python,
                         "The Python 3.11 to make the env from (default: the first found: "
                         "PATH, /usr/bin, /usr/local/bin, pyenv; Windows: py -3.11, "
                         "python.org's)")
            ->type_name("PATH");
        setup
            ->add_option("--gpu", su.gpu,
                         "Which torch build: auto (from the GPU probe, default), cuda, cpu")
            ->type_name("auto|cuda|cpu");
        setup
            ->add_option("--profile", su.profile,
                         "Install this shipped lock instead of the one the GPU decides")
            ->type_name("ID");
        setup
            ->add_option("--lock", setup_lock,
                         "Install from this lock (made by packaging/locks/make_lock.py), or choose "
                         "among the locks in this folder, instead of the shipped ones")
            ->type_name("PATH");
        setup
            ->add_option("--installer", su.installer,
                         "Install with the env's pip (default) or uv (faster)")
            ->type_name("pip|uv");
        setup->add_flag("-y,--yes", su.yes, "Set up without asking");
        setup->add_flag("--force", su.force,
                        "Move an env already at that place aside (nothing is deleted) and make "
                        "a new one");
        setup->add_flag("--json", su.json, "Print the plan and the outcome as one JSON object");
    };
    auto* explain = app.add_subcommand(
        "explain",
        "Explain the failures in a pasted console log, traceback, AllTalk log or pip output "
        "(FILE, or - for standard input), each with its fix; run in an AllTalk folder it judges "
        "with that env's installed versions, else with what the text itself says. Exit status 0: "
        "explained at least one, 1: recognised nothing, 2: could not read the input");
    ExplainOptions ex;
    if (!launch) {
        explain->add_option("file", ex.file, "The text to read (default: - , standard input)")
            ->type_name("FILE|-");
        explain->add_flag("--no-env", ex.no_env,
                          "Do not look for AllTalk's env: judge by what the text says only");
        explain->add_flag("--json", ex.json, "Print the explanations as JSON");
        add_setup_options();
        add_doctor_options();
        add_fix_options();
        add_overlay_commands();
    }
    for (auto* sub : {server, finetune, run, python, doctor, fix, overlay, setup, explain}) {
        sub->fallthrough();
    }

    try {
        std::vector<std::string> reversed(split.head.rbegin(), split.head.rend());
        app.parse(reversed);  // CLI11 takes the arguments in reverse order
    } catch (const CLI::CallForHelp& e) {
        return {std::nullopt, app.exit(e)};
    } catch (const CLI::CallForVersion& e) {
        return {std::nullopt, app.exit(e)};
    } catch (const CLI::ExtrasError& e) {
        app.exit(e);
        std::fputs(
            "alltalk-launch: arguments for AllTalk's script go after `--`, for example: "
            "alltalk-launch server -- --tts_model xtts\n",
            stderr);
        return {std::nullopt, kLaunchFailureStatus};
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return {std::nullopt, kLaunchFailureStatus};
    }
    if (!root.empty()) {
        opts.root = root;
    }
    if (!env.empty()) {
        opts.env = env;
    }
    if (!config.empty()) {
        opts.config = config;
    }
    if (!cudnn.empty()) {
        opts.request.cudnn = cudnn;
    }
    if (doctor->parsed()) {
        DoctorOptions d;
        if (doctor_command == "server") {
            d.command = Command::Server;
        } else if (doctor_command == "finetune") {
            d.command = Command::Finetune;
        } else if (doctor->count("--command") > 0) {
            std::fprintf(stderr,
                         "alltalk-launch: error: doctor --command takes server or finetune, not "
                         "\"%s\": it names the command whose environment and cuDNN setup the "
                         "doctor checks. Without --command the doctor checks server, and finetune "
                         "too where finetune resolves to another environment or cuDNN setup.\n",
                         doctor_command.c_str());
            return {std::nullopt, kLaunchFailureStatus};
        }
        d.json = doctor_json;
        d.deep = doctor_deep || doctor->count("--deep-timeout") > 0;
        if (!(deep_timeout > 0)) {
            std::fprintf(stderr,
                         "alltalk-launch: error: doctor --deep-timeout takes a number of seconds "
                         "above 0 (the limit for one import), not %g.\n",
                         deep_timeout);
            return {std::nullopt, kLaunchFailureStatus};
        }
        d.deep_timeout = deep_timeout;
        if (!report.empty()) {
            d.report = report;
        }
        opts.doctor = d;
        return {opts, 0};
    }
    if (fix->parsed()) {
        if (fix_command == "server") {
            fx.command = Command::Server;
        } else if (fix_command == "finetune") {
            fx.command = Command::Finetune;
        } else if (fix->count("--command") > 0) {
            std::fprintf(stderr,
                         "alltalk-launch: error: fix --command takes server or finetune, not "
                         "\"%s\": it names the command whose environment is fixed (default "
                         "server).\n",
                         fix_command.c_str());
            return {std::nullopt, kLaunchFailureStatus};
        }
        const int actions = (fix->count("--undo") > 0) + fix_history + (fix->count("--forget") > 0);
        if (actions > 1) {
            std::fputs(
                "alltalk-launch: error: fix takes one of --undo, --history and --forget at a "
                "time.\n",
                stderr);
            return {std::nullopt, kLaunchFailureStatus};
        }
        if (fix->count("--undo") > 0) {
            fx.action = FixOptions::Action::Undo;
            if (!fix_undo.empty()) {
                fx.undo_id = fix_undo;
            }
        } else if (fix_history) {
            fx.action = FixOptions::Action::History;
        } else if (fix->count("--forget") > 0) {
            fx.action = FixOptions::Action::Forget;
            fx.undo_id = fix_forget;
        }
        for (const auto& req : fx.install) {
            std::string why;
            if (!pep508::parse_requirement(req, &why)) {
                std::fprintf(stderr,
                             "alltalk-launch: error: fix --install takes PEP 508 requirements "
                             "(such as \"gradio==3.50.2\" or \"pydantic<2\"), and \"%s\" is "
                             "not one: %s.\n",
                             req.c_str(), why.c_str());
                return {std::nullopt, kLaunchFailureStatus};
            }
        }
        if (fx.installer != "pip" && fx.installer != "uv") {
            std::fprintf(stderr,
                         "alltalk-launch: error: fix --installer takes pip or uv, not \"%s\".\n",
                         fx.installer.c_str());
            return {std::nullopt, kLaunchFailureStatus};
        }
        if (!(fx.trial_timeout > 0) || !(fx.trials_timeout > 0)) {
            std::fputs(
                "alltalk-launch: error: fix --trial-timeout and --trials-timeout take a number "
                "of seconds above 0.\n",
                stderr);
            return {std::nullopt, kLaunchFailureStatus};
        }
        opts.fix = fx;
        return {opts, 0};
    }
    if (explain->parsed()) {
        opts.explain = ex;
        return {opts, 0};
    }
    if (setup->parsed()) {
        if (su.gpu != "auto" && su.gpu != "cuda" && su.gpu != "cpu") {
            std::fprintf(stderr,
                         "alltalk-launch: error: setup --gpu takes auto, cuda or cpu, not \"%s\": "
                         "auto lets the GPU probe choose the torch build, cuda and cpu override "
                         "it.\n",
                         su.gpu.c_str());
            return {std::nullopt, kLaunchFailureStatus};
        }
        if (su.installer != "pip" && su.installer != "uv") {
            std::fprintf(stderr,
                         "alltalk-launch: error: setup --installer takes pip or uv, not \"%s\".\n",
                         su.installer.c_str());
            return {std::nullopt, kLaunchFailureStatus};
        }
        if (!setup_python.empty()) {
            su.python = process::from_utf8(setup_python);
        }
        if (!setup_lock.empty()) {
            su.lock = process::from_utf8(setup_lock);
        }
        opts.setup = su;
        return {opts, 0};
    }
    if (overlay->parsed()) {
        OverlayOptions o;
        if (overlay_sync->parsed()) {
            o.action = OverlayOptions::Action::Sync;
            if (!overlay_sync_command.empty()) {
                o.command = overlay_sync_command;
            }
        } else if (overlay_remove->parsed()) {
            o.action = OverlayOptions::Action::Remove;
            o.command = overlay_remove_command;
        }
        opts.overlay = o;
        return {opts, 0};
    }
    if (!deep_probe.empty()) {
        opts.deep_probe = deep_probe;
    }
    if (server->parsed()) {
        opts.request.command = Command::Server;
    } else if (finetune->parsed()) {
        opts.request.command = Command::Finetune;
    } else if (run->parsed()) {
        opts.request.command = Command::Run;
        opts.request.script = script;
    } else {
        opts.request.command = Command::Python;
    }
    opts.request.args = split.tail;
    return {opts, 0};
}

DiscoveryInputs discovery_inputs(const Options& opts) {
    DiscoveryInputs in;
    in.root_option = opts.root;
    in.env_option = opts.env;
    in.config_option = opts.config;
    in.env_vars = process::environment();
    in.cwd = std::filesystem::current_path();
    in.exe = process::self_exe();
    return in;
}

std::vector<std::string> launch_options_argv(const Options& opts,
                                             const std::filesystem::path& cwd) {
    std::vector<std::string> argv = {process::to_utf8(process::self_exe())};
    auto path_opt = [&](const char* name, const std::optional<std::filesystem::path>& p) {
        if (p) {
            argv.push_back(name);
            argv.push_back(process::to_utf8(absolute_from(*p, cwd)));
        }
    };
    path_opt("--root", opts.root);
    path_opt("--env", opts.env);
    path_opt("--config", opts.config);
    path_opt("--cudnn", opts.request.cudnn);
    if (opts.request.cpu) {
        argv.push_back("--cpu");
    }
    if (opts.request.no_gpu_check) {
        argv.push_back("--no-gpu-check");
    }
    return argv;
}

}  // namespace alltalk::cli
