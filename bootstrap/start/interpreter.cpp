#include "start/interpreter.hpp"

#include <system_error>
#include <vector>

#include "base/build_info.hpp"
#include "base/error.hpp"
#include "embed/embed_abi.h"
#include "os/dynlib.hpp"
#include "os/process.hpp"
#include "start/embed_runner.hpp"
#include "start/explain_hook.hpp"

namespace fs = std::filesystem;

namespace alltalk {

int run_interpreter(const LaunchPlan& plan, bool verbose) {
    // The env's python3XY.dll / libpython first: a missing or broken one is the user's problem to
    // fix and is reported before anything about the launcher's own files.
    std::string err;
    // conda's DLL folders (Library\bin, ...) for the extension modules (a no-op on POSIX).
    dynlib::add_search_dirs(activation_path(plan.env, Platform::Windows));
    dynlib::Library libpython =
        dynlib::load(plan.env.libpython, /*global=*/true, err, dynlib::Bind::Now);
    if (!libpython) {
        throw LaunchError(Stage::Python,
                          "Could not load the env's Python library " + plan.env.libpython.string() +
                              ": " + err + ". The environment " + plan.env.dir.string() +
                              " may be damaged or built for another machine: recreate "
                              "it (AllTalk's installer), or point --env at another one.");
    }
    std::vector<const char*> argv;
    for (const auto& a : plan.python_argv) {
        argv.push_back(a.c_str());
    }
    argv.push_back(nullptr);

    std::string safe_globals;
    for (const auto& g : plan.torch_safe_globals) {
        safe_globals += (safe_globals.empty() ? "" : "\n") + g.spec();
    }
    const std::vector<std::pair<std::string, std::string>> items = {
        {"command", to_string(plan.command)},
        {"root", plan.root.root.string()},
        {"env", plan.env.dir.string()},
        {"env_kind", to_string(plan.env.kind)},
        {"python", plan.env.python.string()},
        {"python_version", plan.env.version.text},
        {"libpython", plan.env.libpython.string()},
        {"script", plan.script ? plan.script->string() : ""},
        {"config", plan.config_file ? plan.config_file->string() : ""},
        {"launcher", plan.launcher.string()},
        {"torch_safe_globals", safe_globals},  // "module:qualname" lines, for the allow-list shim
        {"verbose", verbose ? "1" : ""},
        // The command's overlay, put ahead of site_packages by the boot shim ("": none).
        {"overlay", plan.overlay_dir ? process::to_utf8(*plan.overlay_dir) : ""},
        {"site_packages", process::to_utf8(plan.env.site_packages)},
    };
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : items) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    const std::string program = plan.env.python.string();

    alltalk_embed_request req{};
    req.argc = static_cast<int>(plan.python_argv.size());
    req.argv = argv.data();
    req.program_name = program.c_str();
    req.launcher_version = build::kVersion;
    req.plan_size = static_cast<int>(items.size());
    req.plan_keys = keys.data();
    req.plan_values = values.data();
    req.verbose = verbose ? 1 : 0;
    req.explain = explain_exception_callback;

    // Failures of the app are explained after its own traceback (rules read only then).
    install_crash_reporter(plan);

    char error[2048] = {0};
    int status = embed::run(libpython, req, error, sizeof error);
    // An exit status can be negative too (sys.exit(-1); STATUS_CONTROL_C_EXIT on Windows): only
    // the error text tells a failed start.
    if (status == -1 && error[0] != '\0') {
        throw LaunchError(Stage::Python,
                          "The Python of " + plan.env.dir.string() + " failed to start: " + error +
                              ". Its standard library may be incomplete or damaged: "
                              "run `alltalk-launch doctor`, or recreate the env with "
                              "AllTalk's installer.");
    }
    return status;
}

}  // namespace alltalk
