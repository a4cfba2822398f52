#include "plan/plan.hpp"

#include <algorithm>
#include <functional>
#include <sstream>
#include <system_error>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"

namespace fs = std::filesystem;

namespace alltalk {

std::vector<std::string> LaunchPlan::script_argv() const {
    if (!script || python_argv.size() < 2) {
        return {};
    }
    return {python_argv.begin() + 1, python_argv.end()};
}

namespace {

using files::is_file;

fs::path entry_script(const LaunchPlan& plan, const Config& config, const std::string& fallback) {
    const CommandConfig* cc = config.command(to_string(plan.command));
    std::string name = (cc && cc->script) ? *cc->script : fallback;
    if (!plan.root.is_alltalk && !(cc && cc->script)) {
        throw LaunchError(Stage::Root,
                          ErrorText{"No AllTalk folder found (a folder holding script.py and "
                                    "finetune.py).",
                                    text::join(plan.root.tried, "; "),
                                    "Run alltalk-launch from the AllTalk folder, put it in that "
                                    "folder, or pass --root \"/path/to/alltalk_tts\" (or set "
                                    "ALLTALK_ROOT)."});
    }
    fs::path script = absolute_from(name, plan.root.root);
    if (!is_file(script)) {
        throw LaunchError(Stage::Script, "The " + std::string(to_string(plan.command)) +
                                             " script " + script.string() +
                                             " does not exist. Check that " +
                                             plan.root.root.string() +
                                             " is a complete AllTalk folder (re-download or `git "
                                             "pull` it), or set `script` under [" +
                                             to_string(plan.command) + "] in alltalk-launch.toml.");
    }
    return script;
}

// A short, stable name for the alias folder of one launcher binary.
std::string alias_key(const fs::path& launcher) {
    std::size_t h = std::hash<std::string>{}(launcher.string());
    std::ostringstream os;
    os << std::hex << h;
    return os.str();
}

}  // namespace

LaunchPlan deep_probe_plan(LaunchPlan plan, const fs::path& dir) {
    plan.python_argv = {plan.env.python.string(), (dir / kDeepProbeFile).string(), dir.string()};
    return plan;
}

std::vector<fs::path> activation_path(const PythonEnv& env, Platform style) {
    if (style == Platform::Posix || env.kind == EnvKind::Venv) {
        return {env.bin_dir};
    }
    // conda's activate on Windows (conda/activate.py, _get_path_dirs).
    const fs::path& p = env.dir;
    return {p,
            p / "Library" / "mingw-w64" / "bin",
            p / "Library" / "usr" / "bin",
            p / "Library" / "bin",
            p / "Scripts",
            p / "bin"};
}

namespace {

std::string cudnn_reason(const NativeDecision& d) {
    std::string why =
        "the chosen cuDNN first, so that torch's and ctranslate2's loads by plain "
        "name find it:";
    for (const auto& c : d.choices) {
        why += " cuDNN " + c.candidate.version + " from " + c.candidate.dir.string() + ";";
    }
    why.pop_back();
    return why;
}

}  // namespace

EnvChange library_path_with(const std::vector<fs::path>& dirs, const std::string& reason,
                            const EnvMap& env_vars, Platform style) {
    const char sep = path_list_separator(style);
    const std::string var = style == Platform::Windows ? "PATH" : "LD_LIBRARY_PATH";
    std::string value;
    for (const auto& d : dirs) {
        value += (value.empty() ? "" : std::string(1, sep)) + d.string();
    }
    if (auto old = lookup(env_vars, var)) {
        for (const auto& entry : text::split(*old, sep)) {
            if (std::find(dirs.begin(), dirs.end(), fs::path(entry)) == dirs.end() &&
                !entry.empty()) {
                value += (value.empty() ? "" : std::string(1, sep)) + entry;
            }
        }
    }
    return {var, value, reason};
}

EnvChange native_library_path(const NativeDecision& decision, const EnvMap& env_vars,
                              Platform style) {
    return library_path_with(decision.library_dirs(), cudnn_reason(decision), env_vars, style);
}

std::vector<EnvChange> environment_changes(const LaunchPlan& plan, const EnvMap& env_vars,
                                           Platform style, const StartOutcome& outcome) {
    const char path_sep = path_list_separator(style);
    std::vector<EnvChange> out;
    for (const char* var : {"PYTHONHOME", "PYTHONPATH"}) {
        if (env_vars.count(var)) {
            out.push_back({var, std::nullopt,
                           "isolation: the shell's value would change which Python and modules "
                           "the env runs"});
        }
    }
    out.push_back({"PYTHONNOUSERSITE", "1",
                   "isolation: packages in the user's site folder must not shadow the env's"});

    std::string path;
    for (const auto& dir : activation_path(plan.env, style)) {
        path += (path.empty() ? "" : std::string(1, path_sep)) + dir.string();
    }
    std::string why = "as `conda activate` does: the env's programs first";
    if (plan.alias_dir && outcome.alias_dir) {
        path = plan.alias_dir->string() + path_sep + path;
        why +=
            "; `python` there runs the launcher so that bare `python` children are prepared "
            "too";
    }
    if (auto old = lookup(env_vars, "PATH")) {
        path += path_sep + *old;
    }
    if (!plan.native.choices.empty()) {
        if (style == Platform::Windows) {
            // cuDNN DLLs are found through PATH (and AddDllDirectory, start/cudnn_apply_win32.cpp).
            EnvMap with_path = env_vars;
            with_path["PATH"] = path;
            EnvChange c = native_library_path(plan.native, with_path, style);
            path = *c.value;
            why += "; " + c.reason;
        } else if (plan.cudnn_link_dir && outcome.cudnn_links) {
            out.push_back(library_path_with(
                {*plan.cudnn_link_dir},
                cudnn_reason(plan.native) + " (through links in this folder, to these files only)",
                env_vars, style));
        } else {
            out.push_back(native_library_path(plan.native, env_vars, style));
        }
    }
    out.push_back({"PATH", path, why});
    if (plan.cpu_only) {
        out.push_back(
            {"CUDA_VISIBLE_DEVICES", "", "--cpu: the app sees no GPU and runs on the CPU"});
    }

    if (plan.env.kind == EnvKind::Venv) {
        out.push_back({"VIRTUAL_ENV", plan.env.dir.string(), "as the venv's activate script does"});
        if (env_vars.count("CONDA_PREFIX")) {
            out.push_back({"CONDA_PREFIX", std::nullopt, "the app runs in a venv, not conda"});
        }
    } else {
        out.push_back({"CONDA_PREFIX", plan.env.dir.string(), "as `conda activate` does"});
        if (env_vars.count("VIRTUAL_ENV")) {
            out.push_back({"VIRTUAL_ENV", std::nullopt, "the app runs in a prefix, not a venv"});
        }
    }
    if (plan.command == Command::Finetune) {
        out.push_back({"TRAINER_TELEMETRY", "0", "as AllTalk's start_finetune scripts do"});
    }
    out.insert(out.end(), plan.configured_env.begin(), plan.configured_env.end());
    return out;
}

LaunchPlan make_plan(const LaunchRequest& request, const DiscoveryInputs& in,
                     const PlanContext& ctx) {
    LaunchPlan plan;
    plan.command = request.command;
    plan.launcher = in.exe;
    CommandResolution r = resolve_command(request, in, ctx);
    plan.root = std::move(r.root);
    plan.config_file = r.config_file;
    plan.env_choice = std::move(r.env_choice);
    plan.env = *r.env;
    plan.native = ctx.native_decided ? *ctx.native_decided
                  : ctx.analyze      ? ctx.analyze(r.native)
                                     : analyze_native(r.native);
    plan.native_from_reexec = ctx.native_decided.has_value();
    plan.cpu_only = r.cpu_only;
    plan.gpu_check = r.gpu_check;
    const Config& config = r.config;
    const CommandConfig* cc = r.command_config();

    std::vector<std::string> script_args;
    switch (plan.command) {
        case Command::Server:
            plan.script = entry_script(plan, config, "script.py");
            break;
        case Command::Finetune:
            plan.script = entry_script(plan, config, "finetune.py");
            break;
        case Command::Run: {
            fs::path script = absolute_from(request.script.value_or(""), in.cwd);
            if (!request.script || !is_file(script)) {
                throw LaunchError(Stage::Script,
                                  "The script " + script.string() +
                                      " does not exist. `alltalk-launch run` takes the "
                                      "path of a Python file, relative to the current "
                                      "directory or absolute.");
            }
            plan.script = script;
            break;
        }
        case Command::Python:
            break;
    }

    plan.python_argv.push_back(plan.env.python.string());
    if (plan.script) {
        plan.python_argv.push_back(plan.script->string());
        if (cc) {
            plan.python_argv.insert(plan.python_argv.end(), cc->args.begin(), cc->args.end());
        }
    }
    plan.python_argv.insert(plan.python_argv.end(), request.args.begin(), request.args.end());

    // AllTalk imports assume the root is the working directory; `python` keeps the caller's.
    plan.cwd = (plan.command == Command::Python || !plan.root.is_alltalk) ? in.cwd : plan.root.root;
    if (ctx.runtime_dir && !in.exe.empty()) {
        plan.alias_dir = *ctx.runtime_dir / alias_key(in.exe) / "bin";
    }
    // Linux only: Windows serves the chosen folders through AddDllDirectory and PATH.
    if (kHostPlatform == Platform::Posix && ctx.runtime_dir && !in.exe.empty() &&
        !plan.native.choices.empty()) {
        std::string files;
        for (const auto& c : plan.native.choices) {
            for (const auto& lib : c.candidate.libraries) {
                files += (c.candidate.dir / lib).string() + "\n";
            }
        }
        plan.cudnn_link_dir = *ctx.runtime_dir / alias_key(in.exe) / ("cudnn-" + alias_key(files));
    }
    if (plan.root.is_alltalk) {
        plan.log_file = plan.root.root / "logs" / "alltalk-launch.log";
    }
    auto add_configured = [&](const std::map<std::string, std::string>& vars) {
        for (const auto& [name, value] : vars) {
            plan.configured_env.push_back(
                {name, value, "from " + (config.file ? config.file->string() : "config")});
        }
    };
    add_configured(config.environment);
    if (cc) {
        add_configured(cc->environment);
    }
    plan.overlay = r.overlay_status;  // checked once, by the resolution
    plan.overlay_dir = r.native.overlay_dir;
    plan.env_changes = environment_changes(plan, in.env_vars, kHostPlatform);
    plan.torch_safe_globals = merge_safe_globals(default_safe_globals(), config.torch_safe_globals);
    return plan;
}

void require_overlay(const LaunchPlan& plan) {
    if (!plan.overlay || plan.overlay->state != overlay::State::Corrupt) {
        return;
    }
    const overlay::Status& s = *plan.overlay;
    const std::string cmd = to_string(plan.command);
    const std::string config = plan.config_file ? plan.config_file->string() : "the config";
    throw LaunchError(
        Stage::Config,
        ErrorText{"`" + cmd + "` has an overlay in " + config + ", but it is damaged: " +
                      s.problem + " (" + s.dir.string() + "). Without it " + cmd +
                      " would run with the env's own versions, which the overlay exists to "
                      "replace, so it was not started; the env itself is fine.",
                  "",
                  "Run `alltalk-launch overlay sync " + cmd +
                      "` to make it again, or `alltalk-launch overlay remove " + cmd +
                      "` to run on the env."});
}

std::string describe_safe_globals(const std::vector<SafeGlobal>& list) {
    std::ostringstream os;
    os << "  torch weights_only allow-list (registered with torch.serialization.add_safe_globals "
          "once torch and the class's module are loaded):\n";
    for (const auto& g : list) {
        os << "    " << g.full_name() << "  (" << g.source << ")\n";
    }
    return os.str();
}

std::string describe_plan(const LaunchPlan& plan, const std::vector<std::string>& cudnn_confirmed) {
    std::ostringstream os;
    auto row = [&](const char* key, const std::string& value) {
        os << "  " << key << std::string(12 - std::string(key).size(), ' ') << value << "\n";
    };
    os << "alltalk-launch plan (dry run: nothing was started)\n";
    row("command:", to_string(plan.command));
    row("root:", plan.root.root.string() + " (" + plan.root.source +
                     (plan.root.is_alltalk ? "" : ", not an AllTalk folder") + ")");
    row("config:", plan.config_file ? plan.config_file->string() : "none");
    row("env:", plan.env.dir.string() + " (" + to_string(plan.env.kind) + ", from " +
                    plan.env_choice.source + ")");
    row("python:", plan.env.version.text + " " + plan.env.python.string());
    row("libpython:", plan.env.libpython.string());
    if (plan.env.kind == EnvKind::Venv) {
        row("base:", plan.env.base_prefix.string());
    } else {
        row("home:", plan.env.home.string());
    }
    row("launcher:", plan.launcher.string() + " (sys.executable of the app and its children)");
    row("script:", plan.script ? plan.script->string() : "none (python command line)");
    std::string argv;
    for (std::size_t i = 1; i < plan.python_argv.size(); ++i) {
        argv += (i > 1 ? " " : "") + text::quote_arg(plan.python_argv[i], plan.env.platform);
    }
    row("argv:", "python " + argv);
    row("cwd:", plan.cwd.string());
    row("log:", plan.log_file ? plan.log_file->string() : "none (not an AllTalk folder)");
    if (plan.overlay) {
        row("overlay:", overlay::describe(*plan.overlay) +
                            (plan.overlay_dir ? " (ahead of site-packages for this command and "
                                                "its children)"
                             : plan.overlay->state == overlay::State::Missing
                                 ? " (the env's own packages are used)"
                                 : " (a launch stops here)"));
    }
    os << "  environment:\n";
    for (const auto& change : plan.env_changes) {
        os << "    " << change.name;
        if (change.value) {
            os << "=" << *change.value;
        } else {
            os << " (unset)";
        }
        os << "\n      # " << change.reason << "\n";
    }
    os << "    ALLTALK_LAUNCH_CHILD=<this plan>\n"
          "      # lets children started through sys.executable run with the same preparation\n";
    os << describe_safe_globals(plan.torch_safe_globals);
    os << describe_native(plan.native, cudnn_confirmed);
    return os.str();
}

}  // namespace alltalk
