#pragma once
// `alltalk-launch doctor`: facts about an AllTalk environment, gathered from the file system and
// the OS without running the env's Python (doctor_facts.cpp), turned into findings by a pure
// function (diagnose) so that every rule can be tested with hand-made facts.
//
// The doctor checks what a command will run: each command is resolved as the launcher resolves it
// (plan/resolve.hpp: the same env, cuDNN override and majors, cpu and gpu_check). By default it
// checks `server`, and `finetune` too when finetune resolves differently; commands that resolve
// alike share one check. Each finding says which commands it concerns.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/environ.hpp"
#include "cudnn/select.hpp"
#include "diagnose/deep.hpp"
#include "diagnose/rules.hpp"
#include "discover/overlay.hpp"
#include "discover/python_env.hpp"
#include "discover/root.hpp"
#include "gpu/probe.hpp"
#include "plan/resolve.hpp"
#include "pypa/pip_check.hpp"

namespace alltalk {

// `fix` is always render_fix(action): the text the doctor prints and what `alltalk-launch fix`
// applies cannot disagree.
struct Finding {
    std::string id;
    Severity severity = Severity::Warning;
    std::string message;
    std::string fix;                // a command for this env, or advice; may be empty
    FixAction action;               // what `alltalk-launch fix` applies (expanded for this env)
    std::vector<Command> commands;  // the commands it concerns (empty: not labelled)

    Finding() = default;
    // Advice only (nothing to install or remove): the action's note.
    Finding(std::string id_, Severity severity_, std::string message_, std::string advice)
        : id(std::move(id_)), severity(severity_), message(std::move(message_)) {
        action.note = std::move(advice);
        fix = action.note;
    }
    // `python` is the env's python, quoted.
    Finding(std::string id_, Severity severity_, std::string message_, FixAction action_,
            std::string_view python, Platform platform)
        : id(std::move(id_)), severity(severity_), message(std::move(message_)) {
        set_action(std::move(action_), python, platform);
    }
    void set_action(FixAction a, std::string_view python, Platform platform) {
        action = std::move(a);
        fix = render_fix(action, python, platform);
    }
};

struct StartupHook {
    std::filesystem::path file;  // sitecustomize.py, usercustomize.py or a .pth file
    std::string imports;         // what it imports at every Python start, e.g. "torch, TTS"
};

// A port AllTalk listens on, and where the doctor read it.
struct AllTalkPort {
    int port = 0;
    std::string what;    // "API", "web UI", "finetuning UI"
    std::string source;  // "confignew.json api_def.api_port_number", or "default"
};

// What AllTalk's own settings files say (nothing when they are absent or unreadable).
struct AllTalkSettings {
    std::string engine;           // v2: system/tts_engines/tts_engines.json engine_loaded
    bool deepspeed = false;       // DeepSpeed turned on
    std::string deepspeed_where;  // the file and key that turn it on
};

// What AllTalk v2's finetune.py checks before training (gathered when finetune is checked).
struct FinetuneFacts {
    bool checked = false;
    std::optional<std::uint64_t> disk_free;      // bytes free where AllTalk is
    std::optional<std::uint64_t> ram_available;  // bytes (Linux: /proc/meminfo MemAvailable)
    bool v2 = false;                             // models/xtts/<model> is where base models go
    std::vector<std::string> base_models;        // models/xtts/<name> with all six files
    bool imports_pynvml = false;                 // finetune.py imports pynvml (v2 does)
};

struct DoctorFacts {
    std::vector<Command> commands;  // the commands this check covers (server, finetune)
    // The command's resolution failed (root, config or env), so nothing else was gathered: only
    // a further command gets this (the first one's failure means the doctor cannot run).
    std::optional<LaunchError> unresolved;
    RootChoice root;
    std::optional<std::filesystem::path> env_dir;
    std::string env_source;        // where the env choice came from ("--env", a config key, ...)
    std::optional<PythonEnv> env;  // nullopt: the env could not be read (env_error says why)
    ErrorText env_error;           // why the env cannot be launched; empty `what`: it can
    PythonVersion launcher_python = built_python_version();
    Platform platform = Platform::Posix;  // the target's, for commands and paths
    bool windows() const { return platform == Platform::Windows; }
    SiteScan scan;
    pep508::MarkerEnv markers;  // PEP 508 variables of the env's Python on this machine
    EnvMap env_vars;            // the shell's environment
    std::vector<StartupHook> startup_hooks;
    std::vector<AllTalkPort> ports_in_use;  // of alltalk_ports(root)
    AllTalkSettings alltalk;                // alltalk_settings(root)
    FinetuneFacts finetune;                 // when this check covers finetune
    std::optional<std::filesystem::path> ffmpeg;
    bool ffmpeg_checked = false;
    // Native libraries and GPUs (the launcher's own analysis, cudnn/ and gpu/), from the command's
    // resolution: --cudnn / [native] cudnn, [native] cudnn_majors, --cpu / [native] cpu and
    // --no-gpu-check / [native] gpu_check as the launch takes them.
    std::optional<std::filesystem::path> cudnn_override;
    std::string cudnn_override_source;
    std::vector<int> cudnn_majors;
    bool cpu_only = false;  // the app sees no GPU: no GPU probe, GPU-only needs are warnings
    bool gpu_check = true;  // false: an architecture mismatch is a warning (the launch allows it)
    std::optional<NativeDecision> native;
    std::optional<GpuProbe> gpus;
    std::optional<std::vector<std::string>> torch_archs;  // nullopt: no CUDA torch found
    std::vector<std::filesystem::path> torch_arch_files;  // torch's CUDA libraries that were read
    std::string torch_arch_error;  // non-empty: one could not be read (gpu/torch_arch.hpp)
    // The command's overlay (discover/overlay.hpp), when it has one; a current or stale one is
    // part of `scan` (the command's view: the overlay's distributions over the env's).
    std::optional<overlay::Status> overlay;
    // The env's own site-packages, without the overlay: what pip sees and changes (`fix`).
    SiteScan base_scan;
    // doctor --deep: the imports of the command's start, run in a child prepared as its launch.
    std::optional<DeepCheck> deep;
    // The further commands of this check whose scripts that child imports too: those that launch
    // alike and whose scripts sit beside the first's, with the same [command] environment.
    std::vector<DeepAlso> deep_also;
};

struct DoctorReport {
    std::vector<Command> commands;        // those this check covers
    std::optional<ErrorText> unresolved;  // the command could not be resolved (DoctorFacts)
    std::string env_source;
    bool cpu_only = false;
    bool gpu_check = true;
    std::optional<std::filesystem::path> cudnn_override;
    std::string cudnn_override_source;
    std::vector<int> cudnn_majors;
    std::string python_version;
    std::filesystem::path python_prefix;
    std::filesystem::path python;
    std::filesystem::path root;
    std::size_t distributions = 0;
    CheckResult check;
    std::optional<DeepCheck> deep;  // doctor --deep
    std::vector<Finding> findings;  // errors first, then warnings, then info

    bool has_errors() const;
};

// AllTalk's default ports: API, Gradio UI, finetuning UI (finetune.py's fixed server_port).
inline constexpr int kAllTalkPorts[] = {7851, 7852, 7052};

// The ports of the AllTalk at `root`, from its own confignew.json: v2's api_def.api_port_number
// and gradio_port_number, v1's port_number (the API; its UI is the API's page); the defaults for
// what the file lacks or when it cannot be read. The finetuning UI's port is fixed.
std::vector<AllTalkPort> alltalk_ports(const std::filesystem::path& root);

// v2: the engine loaded (tts_engines.json) and its model_settings.json's
// settings.deepspeed_enabled; v1: confignew.json's deepspeed_activate.
AllTalkSettings alltalk_settings(const std::filesystem::path& root);

// The base models that finetune.py accepts: the folders under models/xtts holding config.json,
// model.pth, mel_stats.pth, speakers_xtts.pth, vocab.json and dvae.pth (sorted).
std::vector<std::string> finetune_base_models(const std::filesystem::path& root);

// The findings of one check, each labelled with facts.commands.
DoctorReport diagnose(const DoctorFacts& facts, const RuleSet& rules);

// What `doctor` was asked to check.
struct DoctorRequest {
    std::vector<Command> commands;  // empty: server, and finetune where it resolves differently
    LaunchRequest overrides;        // --cudnn, --cpu, --no-gpu-check (command, script, args unused)
};

// One check: a resolution and the commands that resolve to it.
struct DoctorCheck {
    std::vector<Command> commands;
    std::optional<CommandResolution> resolution;  // nullopt: unresolved says why
    std::optional<LaunchError> unresolved;
};

// Resolves each command as the launch does (EnvReading::Report) and groups the commands that
// resolve alike (CommandResolution::same_checks_as), in request order. The first command's
// failure to resolve is thrown (the doctor cannot run); a further command's is its check's
// `unresolved`.
std::vector<DoctorCheck> doctor_checks(const DoctorRequest& request, const DiscoveryInputs& in,
                                       const PlanContext& ctx);

// Gathers the facts of one check (effects: file system, sockets, PATH, the GPU probe).
DoctorFacts gather_facts(const DoctorCheck& check, const DiscoveryInputs& in);

// Every check's facts, in doctor_checks() order.
std::vector<DoctorFacts> gather_doctor_facts(const DoctorRequest& request,
                                             const DiscoveryInputs& in, const PlanContext& ctx);

// The doctor's result over all checks: each check's report, and their findings merged (a finding
// that several checks make is listed once, with all their commands).
struct DoctorResult {
    std::vector<DoctorReport> checks;  // the first is the primary one (server by default)
    std::vector<Finding> findings;     // errors first, then warnings, then info
    std::vector<Command> commands;     // every command checked, in order

    bool has_errors() const;
};

DoctorResult diagnose_all(const std::vector<DoctorFacts>& facts, const RuleSet& rules);

// The PEP 508 variables of `env`'s Python on this machine (uname for the platform ones).
pep508::MarkerEnv marker_env(const PythonEnv& env);

// Output. A finding is tagged with its commands where it does not concern every command checked.
std::string format_text(const DoctorResult& result);
std::string format_json(const DoctorResult& result);
// Markdown for a bug report; the home folder and the user name are replaced.
std::string format_markdown(const DoctorResult& result, const std::string& home,
                            const std::string& user);

}  // namespace alltalk
