#pragma once
// One resolution per command: the AllTalk root, the config file, the env (which folder, from
// where, and its inspected layout) and the inputs of the cuDNN and GPU decisions. The launch
// (make_plan, so --dry-run too) and the doctor both start from resolve_command(), so that what the
// doctor checks is exactly the env and the cuDNN setup that `alltalk-launch server` or `finetune`
// will use.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "cudnn/select.hpp"
#include "discover/config.hpp"
#include "discover/overlay.hpp"
#include "discover/python_env.hpp"
#include "discover/root.hpp"

namespace alltalk {

enum class Command { Server, Finetune, Run, Python };
const char* to_string(Command c);

// What the user asked for on the command line, already parsed.
struct LaunchRequest {
    Command command = Command::Server;
    std::optional<std::filesystem::path> script;  // `run SCRIPT`
    std::vector<std::string> args;                // script arguments, or python's for `python`
    std::optional<std::filesystem::path> cudnn;   // --cudnn DIR
    bool cpu = false;                             // --cpu
    bool no_gpu_check = false;                    // --no-gpu-check
};

// Facts the plan needs besides discovery: where the `python` alias folder may live.
struct PlanContext {
    PythonVersion want = built_python_version();
    std::optional<std::filesystem::path> runtime_dir;  // process::runtime_dir_candidate()
    // The system folders searched for cuDNN after the env's; nullopt: system_cudnn_dirs().
    std::optional<std::vector<std::pair<std::filesystem::path, std::string>>> system_library_dirs;
    // The decision the launcher made before its re-exec (cudnn/codec.hpp): used instead of
    // selecting again.
    std::optional<NativeDecision> native_decided;
    // How the selection is made when not handed over: nullptr is analyze_native(); the launcher
    // passes its cached form (start/native_cache.hpp).
    std::function<NativeDecision(const NativeFacts&)> analyze;
    // How the command's overlay is checked: nullptr is overlay::check(); the launcher passes its
    // cached form (start/native_cache.hpp).
    std::function<overlay::Status(const PythonEnv&, const std::string& command,
                                  const std::vector<std::string>& requirements)>
        check_overlay;
};

// How resolve_command() treats an env whose Python cannot be launched (another version, no
// shared library, nothing readable).
enum class EnvReading {
    Launch,  // a LaunchError: nothing can start
    Report,  // kept in CommandResolution::env_error, the env read at any version if it can be
};

struct CommandResolution {
    Command command = Command::Server;
    RootChoice root;
    std::optional<std::filesystem::path> config_file;
    Config config;
    EnvChoice env_choice;
    // The inspected env. EnvReading::Launch: always set. Report: set when the env could be read at
    // all, even at another Python version than PlanContext::want.
    std::optional<PythonEnv> env;
    PythonVersion want;  // the Python the launch embeds (PlanContext::want)
    // EnvReading::Report only: why this env cannot be launched (its stage, what, tried and fix).
    std::optional<LaunchError> env_error;
    // The inputs of the cuDNN decision (analyze_native): the env (when read), the process
    // environment, the override (--cudnn, else [native] cudnn), [native] cudnn_majors and the
    // system folders of PlanContext.
    NativeFacts native;
    bool cpu_only = false;  // --cpu or [native] cpu
    bool gpu_check = true;  // not --no-gpu-check, and [native] gpu_check not false
    // [server] / [finetune] of the config, when the command has such a section.
    const CommandConfig* command_config() const;
    // The command's overlay requirements (empty: none).
    std::vector<std::string> overlay() const;
    // Its state, when it has one and the env was read (discover/overlay.hpp check); a current or
    // stale one is also native.overlay_dir.
    std::optional<overlay::Status> overlay_status;
    // Whether `other` checks the same things: the same env folder, cuDNN inputs, cpu, gpu_check and
    // overlay.
    bool same_checks_as(const CommandResolution& other) const;
};

// Finds the root, reads the config and chooses and inspects the env of request.command, and
// collects the cuDNN and GPU settings from request (--cudnn, --cpu, --no-gpu-check) and the
// config. request.script and request.args are not used. Throws LaunchError for a root, config or
// env that cannot be used (and, with EnvReading::Launch, for an env's Python that cannot be).
CommandResolution resolve_command(const LaunchRequest& request, const DiscoveryInputs& in,
                                  const PlanContext& ctx, EnvReading reading = EnvReading::Launch);

// --config, else <root>/alltalk-launch.toml when it exists.
std::optional<std::filesystem::path> find_config(const DiscoveryInputs& in, const RootChoice& root);

}  // namespace alltalk
