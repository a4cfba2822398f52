#pragma once
// The launch plan: everything discovered and decided before the interpreter starts, as a value.
// make_plan() only reads the file system; it changes nothing, so --dry-run prints exactly what a
// real run does and the tests can check it without starting Python. After make_plan the plan is
// never changed: the effects (start/) return a StartOutcome of what they achieved, and the
// environment changes for that outcome are worked out again from the plan (environment_changes).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/environ.hpp"
#include "cudnn/select.hpp"
#include "discover/config.hpp"
#include "discover/overlay.hpp"
#include "discover/python_env.hpp"
#include "discover/root.hpp"
#include "discover/safe_globals.hpp"
#include "plan/resolve.hpp"

namespace alltalk {

struct LaunchPlan {
    Command command = Command::Server;
    RootChoice root;
    std::optional<std::filesystem::path> config_file;
    EnvChoice env_choice;
    PythonEnv env;
    std::filesystem::path launcher;               // becomes sys.executable in the app
    std::optional<std::filesystem::path> script;  // server, finetune, run
    std::vector<std::string> python_argv;         // the interpreter's argv; [0] = env python
    std::filesystem::path cwd;
    std::vector<EnvChange> env_changes;              // applied before the interpreter starts
    std::optional<std::filesystem::path> alias_dir;  // `python` there runs the launcher
    std::optional<std::filesystem::path> log_file;
    // torch weights_only allow-list: the compiled-in defaults, then [torch] safe_globals.
    std::vector<SafeGlobal> torch_safe_globals;
    // cuDNN needs, candidates and the choice per major (cudnn/select.hpp); applied before the
    // interpreter starts (start/cudnn_apply.hpp).
    NativeDecision native;
    // Linux: a private runtime folder of links to exactly the chosen cuDNN files; it alone goes on
    // LD_LIBRARY_PATH, so that no other library of the chosen folders (a conda env's libstdc++,
    // the CUDA toolkit's libcublas) shadows what torch and the app's children would load.
    std::optional<std::filesystem::path> cudnn_link_dir;
    bool native_from_reexec = false;  // `native` was handed over by the launcher's re-exec
    bool cpu_only = false;            // --cpu or [native] cpu: CUDA_VISIBLE_DEVICES= for the app
    bool gpu_check = true;  // the torch architecture check (--no-gpu-check, [native] gpu_check)
    // [environment] and [<command>.environment] of the config, in order, with their source.
    std::vector<EnvChange> configured_env;
    // The command's overlay ([server] / [finetune] overlay), when it has one: its state, read at
    // plan time (overlay.json and one listing of site-packages, or the launcher's cache of that:
    // PlanContext::check_overlay). Corrupt stops a launch
    // (require_overlay); --dry-run shows every state.
    std::optional<overlay::Status> overlay;
    // The folder put ahead of site-packages in this process and its children (a Current or Stale
    // overlay); what children get through the child codec.
    std::optional<std::filesystem::path> overlay_dir;

    // The argv that the script sees: python_argv without the interpreter (and its options).
    std::vector<std::string> script_argv() const;
};

// What the start-up effects achieved (start/prepare.hpp): a folder the plan names could not be
// made, so the environment changes do without it.
struct StartOutcome {
    bool alias_dir = true;    // plan.alias_dir was made (bare `python` runs the launcher)
    bool cudnn_links = true;  // plan.cudnn_link_dir was made (else the chosen folders themselves)
};

// Resolves the command (resolve_command: root, config, env, cuDNN inputs), decides the cuDNN
// choice, argv, cwd and environment. Throws LaunchError with a user-facing paragraph for each bad
// input.
LaunchPlan make_plan(const LaunchRequest& request, const DiscoveryInputs& in,
                     const PlanContext& ctx);

// `doctor --deep`'s child: the launch's own plan (pure), running the probe that the doctor wrote
// to `dir` (dir/alltalk_deep_probe.py, given `dir`) instead of the command's script; everything
// else, the script named in the plan included, stays the launch's.
LaunchPlan deep_probe_plan(LaunchPlan plan, const std::filesystem::path& dir);
inline constexpr const char* kDeepProbeFile = "alltalk_deep_probe.py";

// The folders that `conda activate` (or a venv's activate script) puts first on PATH, in order.
std::vector<std::filesystem::path> activation_path(const PythonEnv& env, Platform style);

// The environment changes for a plan (pure): make_plan's plan.env_changes are those for an outcome
// where every effect succeeded; start/ asks again with the outcome it had.
std::vector<EnvChange> environment_changes(const LaunchPlan& plan, const EnvMap& env_vars,
                                           Platform style, const StartOutcome& outcome = {});

// The library search variable and its value that serve the chosen cuDNN folders first (pure):
// LD_LIBRARY_PATH on Linux, PATH on Windows; the chosen folders are taken out of the old value
// first, so that the result is the same when the launcher runs again with it (children, re-exec).
EnvChange native_library_path(const NativeDecision& decision, const EnvMap& env_vars,
                              Platform style);
// The same with given folders (the link folder) first.
EnvChange library_path_with(const std::vector<std::filesystem::path>& dirs,
                            const std::string& reason, const EnvMap& env_vars, Platform style);

// Throws LaunchError(Stage::Config) when the command's overlay is corrupt: the command was
// configured to need other versions than the env's, and running it on the env's own would fail
// later and further from the cause. A stale overlay is used, and a missing one (never made, or
// removed with `overlay remove`) leaves the env's own packages; the caller warns for both.
void require_overlay(const LaunchPlan& plan);

// --dry-run text; `cudnn_confirmed` as for describe_native.
std::string describe_plan(const LaunchPlan& plan,
                          const std::vector<std::string>& cudnn_confirmed = {});

// The allow-list part of --dry-run (also logged with -v).
std::string describe_safe_globals(const std::vector<SafeGlobal>& list);

}  // namespace alltalk
