#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>

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
           arg == "--report" || arg == "--json-file" || arg == "--command" ||
           arg == "--deep-timeout" || arg == "--deep-probe" || arg == "--profile" ||
           arg == "--installer" || arg == "--forget" || arg == "--trial-timeout" ||
           arg == "--trials-timeout" || arg == "--install" || arg == "--python" || arg == "--gpu" ||
           arg == "--lock";
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

// An error of the options' values: said on stderr, the launch's failure status.
std::optional<int> refuse(const std::string& message) {
    std::fprintf(stderr, "alltalk-launch: error: %s\n", message.c_str());
    return kLaunchFailureStatus;
}

std::optional<Command> server_or_finetune(const std::string& name) {
    if (name == "server") {
        return Command::Server;
    }
    if (name == "finetune") {
        return Command::Finetune;
    }
    return std::nullopt;
}

// The options before or after any subcommand, and the hidden --deep-probe.
struct GlobalCli {
    std::string root, env, config, cudnn, deep_probe;

    void add(CLI::App& app, Options& opts) {
        app.add_option("--root", root, "AllTalk folder (holds script.py and finetune.py)")
            ->type_name("DIR");
        app.add_option("--env", env, "Python environment to run in (conda prefix or venv)")
            ->type_name("DIR");
        app.add_option("--config", config,
                       "Configuration file (default <root>/alltalk-launch.toml)")
            ->type_name("FILE");
        app.add_option("--cudnn", cudnn,
                       "Use the cuDNN libraries in this folder instead of the launcher's choice")
            ->type_name("DIR");
        app.add_flag("--cpu", opts.request.cpu,
                     "Hide the GPUs from the app (CUDA_VISIBLE_DEVICES=): run on the CPU");
        app.add_flag("--no-gpu-check", opts.request.no_gpu_check,
                     "Skip the check that the installed torch has kernels for each GPU");
        app.add_flag("-v,--verbose", opts.verbose, "Show each decision the launcher makes");
        app.add_option("--deep-probe", deep_probe)->group("");  // doctor --deep's child (hidden)
        app.add_flag("--dry-run", opts.dry_run,
                     "Print the resolved plan (root, env, Python, script, argv, cwd, environment "
                     "changes) and exit");
    }

    void take(Options& opts) const {
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
    }
};

// server, finetune, run SCRIPT, python.
struct LaunchCli {
    CLI::App* server = nullptr;
    CLI::App* finetune = nullptr;
    CLI::App* run = nullptr;
    CLI::App* python = nullptr;
    std::string script;

    void add(CLI::App& app) {
        server = app.add_subcommand("server", "Run AllTalk's server: <root>/script.py [-- ARGS]");
        finetune = app.add_subcommand("finetune",
                                      "Run AllTalk's finetuning: <root>/finetune.py [-- ARGS]");
        run = app.add_subcommand("run", "Run any Python script in the env: run SCRIPT [ARGS]");
        run->add_option("script", script, "The script; the arguments after it are the script's")
            ->required();
        python = app.add_subcommand(
            "python",
            "Behave exactly like the env's python: every argument after `python` is python's "
            "(-c, -m, a file, none for the REPL; `python --help` is python's own help)");
    }

    void take(Options& opts, const GlobalCli& g, const Split& split) const {
        if (!g.deep_probe.empty()) {
            opts.deep_probe = g.deep_probe;
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
    }
};

struct DoctorCli {
    CLI::App* sub = nullptr;
    bool json = false, deep = false;
    double deep_timeout = 60;
    std::string report, json_file, command;

    void add(CLI::App& app) {
        sub = app.add_subcommand(
            "doctor",
            "Check the environment without starting it: requirement conflicts (as pip check), "
            "known-bad version combinations, platform problems, each with its fix. Exit status 0: "
            "no error, 1: errors found, 2: the doctor could not run");
    }

    void add_options() {
        sub->add_option("--command", command,
                        "Check the env and cuDNN setup of this command only: server or finetune "
                        "(default: server, and finetune too where it resolves to another env or "
                        "cuDNN setup)")
            ->type_name("server|finetune");
        sub->add_flag("--json", json, "Print the findings as JSON");
        sub->add_flag("--deep", deep,
                      "Also import what the command imports at start (its script's top-level "
                      "imports, torch, torchaudio, TTS's XTTS modules) in a child prepared exactly "
                      "as its launch, each timed; failures become findings with their fix");
        sub->add_option("--deep-timeout", deep_timeout,
                        "With --deep: the seconds one import may take before the child is killed "
                        "and that import reported as timed out (default 60)")
            ->type_name("S");
        sub->add_option("--report", report,
                        "Also write a Markdown report for a bug report (home folder and user "
                        "name redacted)")
            ->type_name("FILE");
        sub->add_option("--json-file", json_file,
                        "Also write the --json object to FILE (for tools), while the text goes "
                        "to stdout as usual")
            ->type_name("FILE");
    }

    std::optional<int> take(Options& opts) const {
        DoctorOptions d;
        d.command = server_or_finetune(command);
        if (!d.command && sub->count("--command") > 0) {
            return refuse(
                "doctor --command takes server or finetune, not \"" + command +
                "\": it names the command whose environment and cuDNN setup the doctor checks. "
                "Without --command the doctor checks server, and finetune too where finetune "
                "resolves to another environment or cuDNN setup.");
        }
        d.json = json;
        d.deep = deep || sub->count("--deep-timeout") > 0;
        if (!(deep_timeout > 0)) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%g", deep_timeout);
            return refuse(
                "doctor --deep-timeout takes a number of seconds above 0 (the limit "
                "for one import), not " +
                std::string(buf) + ".");
        }
        d.deep_timeout = deep_timeout;
        if (!report.empty()) {
            d.report = report;
        }
        if (!json_file.empty()) {
            d.json_file = json_file;
        }
        opts.doctor = d;
        return std::nullopt;
    }
};

struct FixCli {
    CLI::App* sub = nullptr;
    FixOptions fx;
    std::string command, undo, forget;
    bool history = false;

    void add(CLI::App& app) {
        sub = app.add_subcommand(
            "fix",
            "Apply the doctor's fixes through the env's own pip: the change is resolved by pip "
            "and checked before anything is touched (a plan that creates a new error is "
            "refused), an undo point is saved first, and `fix --undo` puts the env back exactly. "
            "Exit status 0: done (or nothing to do), 1: refused or failed, 2: could not run, 3: "
            "the plan needs a yes (no terminal and no --yes)");
    }

    void add_plan_options() {
        sub->add_option("--command", command,
                        "Fix the env of this command: server (default) or finetune")
            ->type_name("server|finetune");
        sub->add_option("--only", fx.only, "Apply only the fixes of these findings (their ids)")
            ->type_name("RULE_ID")
            ->expected(1, -1);
        sub->add_option("--profile", fx.profile,
                        "Install a known-good profile's pins (alltalk-v2, alltalk-v1)")
            ->type_name("NAME");
        sub->add_option("--install", fx.install,
                        "Also install these requirements (PEP 508, such as gradio==3.50.2), "
                        "planned and checked like the doctor's fixes; for a command whose change "
                        "would break the other command, they go into an overlay for it instead")
            ->type_name("REQ")
            ->expected(1, -1);
        sub->add_flag("-y,--yes", fx.yes, "Apply without asking");
        sub->add_flag("--force", fx.force, "Apply even a plan that creates new errors");
        sub->add_flag("--json", fx.json, "Print the plan and the outcome as JSON");
        sub->add_flag("--deep", fx.deep,
                      "Also fix what `doctor --deep` finds: a module nothing provides (its "
                      "distribution), and a name that an installed release no longer has (the "
                      "newest release that has it, found by trial in a scratch folder)");
        sub->add_option("--installer", fx.installer,
                        "Apply with pip (default) or uv (`uv pip install --python <env python>`)")
            ->type_name("pip|uv");
    }

    void add_undo_options() {
        sub->add_option("--undo", undo,
                        "Put the env back as it was before a fix (default: the latest undo point)")
            ->type_name("ID")
            ->expected(0, 1);
        sub->add_flag("--history", history, "List the undo points with their changes");
        sub->add_option("--forget", forget, "Delete one undo point")->type_name("ID");
        sub->add_option("--trial-timeout", fx.trial_timeout,
                        "Seconds one trial fix may take (default 300)")
            ->type_name("S");
        sub->add_option("--trials-timeout", fx.trials_timeout,
                        "Seconds all trial fixes together may take (default 1200)")
            ->type_name("S");
    }

    std::optional<int> take_action() {
        const int actions = (sub->count("--undo") > 0) + history + (sub->count("--forget") > 0);
        if (actions > 1) {
            return refuse("fix takes one of --undo, --history and --forget at a time.");
        }
        if (sub->count("--undo") > 0) {
            fx.action = FixOptions::Action::Undo;
            if (!undo.empty()) {
                fx.undo_id = undo;
            }
        } else if (history) {
            fx.action = FixOptions::Action::History;
        } else if (sub->count("--forget") > 0) {
            fx.action = FixOptions::Action::Forget;
            fx.undo_id = forget;
        }
        return std::nullopt;
    }

    std::optional<int> take(Options& opts) {
        fx.command = server_or_finetune(command);
        if (!fx.command && sub->count("--command") > 0) {
            return refuse("fix --command takes server or finetune, not \"" + command +
                          "\": it names the command whose environment is fixed (default "
                          "server).");
        }
        if (auto status = take_action()) {
            return status;
        }
        for (const auto& req : fx.install) {
            std::string why;
            if (!pep508::parse_requirement(req, &why)) {
                return refuse(
                    "fix --install takes PEP 508 requirements (such as "
                    "\"gradio==3.50.2\" or \"pydantic<2\"), and \"" +
                    req + "\" is not one: " + why + ".");
            }
        }
        if (fx.installer != "pip" && fx.installer != "uv") {
            return refuse("fix --installer takes pip or uv, not \"" + fx.installer + "\".");
        }
        if (!(fx.trial_timeout > 0) || !(fx.trials_timeout > 0)) {
            return refuse(
                "fix --trial-timeout and --trials-timeout take a number of seconds "
                "above 0.");
        }
        opts.fix = fx;
        return std::nullopt;
    }
};

struct OverlayCli {
    CLI::App* sub = nullptr;
    CLI::App* sync = nullptr;
    CLI::App* status = nullptr;
    CLI::App* remove = nullptr;
    std::string sync_command, remove_command;

    void add(CLI::App& app) {
        sub = app.add_subcommand(
            "overlay",
            "Per-command overlays ([server] / [finetune] overlay = [requirements]): a folder of "
            "only the distributions that differ for that command, ahead of the env's "
            "site-packages for it alone; the env itself is never changed");
    }

    void add_commands() {
        sub->require_subcommand(1, 1);
        sync = sub->add_subcommand(
            "sync",
            "Resolve the overlay with the env's pip and install what differs from the env into "
            "<env>/.alltalk-launch/overlays/COMMAND (default: every command with an overlay)");
        status = sub->add_subcommand("status",
                                     "Say for each overlay: current, stale, missing or corrupt");
        remove = sub->add_subcommand("remove", "Delete one command's overlay");
        sync->add_option("command", sync_command, "server or finetune")->type_name("COMMAND");
        remove->add_option("command", remove_command, "server or finetune")
            ->type_name("COMMAND")
            ->required();
        for (auto* s : {sync, status, remove}) {
            s->fallthrough();
        }
    }

    void take(Options& opts) const {
        OverlayOptions o;
        if (sync->parsed()) {
            o.action = OverlayOptions::Action::Sync;
            if (!sync_command.empty()) {
                o.command = sync_command;
            }
        } else if (remove->parsed()) {
            o.action = OverlayOptions::Action::Remove;
            o.command = remove_command;
        }
        opts.overlay = o;
    }
};

struct SetupCli {
    CLI::App* sub = nullptr;
    SetupCliOptions su;
    std::string python, lock;

    void add(CLI::App& app) {
        sub = app.add_subcommand(
            "setup",
            "Make AllTalk's Python environment from a fresh AllTalk checkout: a venv from a "
            "Python 3.11, AllTalk's requirements installed from a proven lock (exact versions, "
            "hashes checked, wheels only) with the torch build this machine's GPU needs, then "
            "proven by importing what server and finetune import. Exit status 0: ready, 1: "
            "failed or not ready, 2: could not run, 3: needs a yes (no terminal and no --yes)");
    }

    void add_options() {
        sub->add_option("--python", python,
                        "The Python 3.11 to make the env from (default: the first found: "
                        "PATH, /usr/bin, /usr/local/bin, pyenv; Windows: py -3.11, "
                        "python.org's)")
            ->type_name("PATH");
        sub->add_option("--gpu", su.gpu,
                        "Which torch build: auto (from the GPU probe, default), cuda, cpu")
            ->type_name("auto|cuda|cpu");
        sub->add_option("--profile", su.profile,
                        "Install this shipped lock instead of the one the GPU decides")
            ->type_name("ID");
        sub->add_option("--lock", lock,
                        "Install from this lock (made by packaging/locks/make_lock.py), or "
                        "choose among the locks in this folder, instead of the shipped ones")
            ->type_name("PATH");
        sub->add_option("--installer", su.installer,
                        "Install with the env's pip (default) or uv (faster)")
            ->type_name("pip|uv");
        sub->add_flag("-y,--yes", su.yes, "Set up without asking");
        sub->add_flag("--force", su.force,
                      "Move an env already at that place aside (nothing is deleted) and make "
                      "a new one");
        sub->add_flag("--json", su.json, "Print the plan and the outcome as one JSON object");
    }

    std::optional<int> take(Options& opts) {
        if (su.gpu != "auto" && su.gpu != "cuda" && su.gpu != "cpu") {
            return refuse("setup --gpu takes auto, cuda or cpu, not \"" + su.gpu +
                          "\": auto lets the GPU probe choose the torch build, cuda and cpu "
                          "override it.");
        }
        if (su.installer != "pip" && su.installer != "uv") {
            return refuse("setup --installer takes pip or uv, not \"" + su.installer + "\".");
        }
        if (!python.empty()) {
            su.python = process::from_utf8(python);
        }
        if (!lock.empty()) {
            su.lock = process::from_utf8(lock);
        }
        opts.setup = su;
        return std::nullopt;
    }
};

struct ExplainCli {
    CLI::App* sub = nullptr;
    ExplainOptions ex;

    void add(CLI::App& app) {
        sub = app.add_subcommand(
            "explain",
            "Explain the failures in a pasted console log, traceback, AllTalk log or pip output "
            "(FILE, or - for standard input), each with its fix; run in an AllTalk folder it "
            "judges with that env's installed versions, else with what the text itself says. "
            "Exit status 0: explained at least one, 1: recognised nothing, 2: could not read the "
            "input");
    }

    void add_options() {
        sub->add_option("file", ex.file, "The text to read (default: - , standard input)")
            ->type_name("FILE|-");
        sub->add_flag("--no-env", ex.no_env,
                      "Do not look for AllTalk's env: judge by what the text says only");
        sub->add_flag("--json", ex.json, "Print the explanations as JSON");
    }
};

// The whole command line, its subcommands made once; their options only when they may be parsed.
struct CommandLine {
    CLI::App app{
        "alltalk-launch starts AllTalk (XTTS text-to-speech) inside its own Python environment, "
        "prepared as AllTalk needs it: no conda activate, no batch-file PATH edits, no "
        "sitecustomize.py.",
        "alltalk-launch"};
    GlobalCli global;
    LaunchCli launch;
    DoctorCli doctor;
    FixCli fix;
    OverlayCli overlay;
    SetupCli setup;
    ExplainCli explain;

    // `launch`: the subcommand is server, finetune, run or python. The options of the other
    // subcommands are made only when one of them (or the help) may be parsed: CLI11 builds each
    // option object with its names and help text, half of the parse's cost (0.3 M instructions)
    // on every launch, and twice when the launcher re-executes itself.
    void build(Options& opts, bool is_launch) {
        app.set_version_flag("--version", std::string("alltalk-launch ") + build::kVersion +
                                              " (embeds Python " + build::kPythonVersion + ")");
        app.require_subcommand(1, 1);
        app.footer(
            "The AllTalk folder is --root, else $ALLTALK_ROOT, else the launcher's folder or a "
            "parent holding script.py and finetune.py, else the current directory. The "
            "environment is --env, else `env` in alltalk-launch.toml, else "
            "<root>/alltalk_environment/env, <root>/.venv, <root>/venv, else the active "
            "$CONDA_PREFIX or $VIRTUAL_ENV.");
        global.add(app, opts);
        launch.add(app);
        doctor.add(app);
        fix.add(app);
        overlay.add(app);
        setup.add(app);
        explain.add(app);
        if (!is_launch) {
            explain.add_options();
            setup.add_options();
            doctor.add_options();
            fix.add_plan_options();
            fix.add_undo_options();
            overlay.add_commands();
        }
        for (auto* sub : {launch.server, launch.finetune, launch.run, launch.python, doctor.sub,
                          fix.sub, overlay.sub, setup.sub, explain.sub}) {
            sub->fallthrough();
        }
    }

    // CLI11's parse; a status when it printed the help, the version or an error.
    std::optional<int> parse(const std::vector<std::string>& head) {
        try {
            std::vector<std::string> reversed(head.rbegin(), head.rend());
            app.parse(reversed);  // CLI11 takes the arguments in reverse order
        } catch (const CLI::CallForHelp& e) {
            return app.exit(e);
        } catch (const CLI::CallForVersion& e) {
            return app.exit(e);
        } catch (const CLI::ExtrasError& e) {
            app.exit(e);
            std::fputs(
                "alltalk-launch: arguments for AllTalk's script go after `--`, for example: "
                "alltalk-launch server -- --tts_model xtts\n",
                stderr);
            return kLaunchFailureStatus;
        } catch (const CLI::ParseError& e) {
            app.exit(e);
            return kLaunchFailureStatus;
        }
        return std::nullopt;
    }

    // The parsed subcommand's options into `opts`; a status when a value is refused.
    std::optional<int> take(Options& opts, const Split& split) {
        global.take(opts);
        if (doctor.sub->parsed()) {
            return doctor.take(opts);
        }
        if (fix.sub->parsed()) {
            return fix.take(opts);
        }
        if (explain.sub->parsed()) {
            opts.explain = explain.ex;
            return std::nullopt;
        }
        if (setup.sub->parsed()) {
            return setup.take(opts);
        }
        if (overlay.sub->parsed()) {
            overlay.take(opts);
            return std::nullopt;
        }
        launch.take(opts, global, split);
        return std::nullopt;
    }
};

}  // namespace

Parsed parse(const std::vector<std::string>& args) {
    const Split split = split_passthrough(args);
    Options opts;
    CommandLine cl;
    cl.build(opts, split.sub == "server" || split.sub == "finetune" || split.sub == "run" ||
                       split.sub == "python");
    if (auto status = cl.parse(split.head)) {
        return {std::nullopt, *status};
    }
    if (auto status = cl.take(opts, split)) {
        return {std::nullopt, *status};
    }
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
