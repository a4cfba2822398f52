#pragma once
// `alltalk-launch doctor`: facts about an AllTalk environment, gathered from the file system and
// the OS without running the env's Python (doctor_facts.cpp), turned into findings by a pure
// function (diagnose) so that every rule can be tested with hand-made facts.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/environ.hpp"
#include "cudnn/select.hpp"
#include "diagnose/rules.hpp"
#include "discover/python_env.hpp"
#include "discover/root.hpp"
#include "gpu/probe.hpp"
#include "pypa/pip_check.hpp"

namespace alltalk {

struct Finding {
    std::string id;
    Severity severity = Severity::Warning;
    std::string message;
    std::string fix;  // a command for this env, or advice; may be empty
};

struct StartupHook {
    std::filesystem::path file;  // sitecustomize.py, usercustomize.py or a .pth file
    std::string imports;         // what it imports at every Python start, e.g. "torch, TTS"
};

struct DoctorFacts {
    RootChoice root;
    std::optional<std::filesystem::path> env_dir;
    std::optional<PythonEnv> env;  // nullopt: the env could not be read (env_error says why)
    std::string env_error;
    PythonVersion launcher_python = built_python_version();
    Platform platform = Platform::Posix;  // the target's, for commands and paths
    bool windows() const { return platform == Platform::Windows; }
    SiteScan scan;
    pep508::MarkerEnv markers;  // PEP 508 variables of the env's Python on this machine
    EnvMap env_vars;            // the shell's environment
    std::vector<StartupHook> startup_hooks;
    std::vector<int> ports_in_use;  // of AllTalk's ports
    std::optional<std::filesystem::path> ffmpeg;
    bool ffmpeg_checked = false;
    // Native libraries and GPUs (the launcher's own analysis, cudnn/ and gpu/).
    std::optional<NativeDecision> native;
    std::optional<GpuProbe> gpus;
    std::optional<std::vector<std::string>> torch_archs;  // nullopt: no CUDA torch found
};

struct DoctorReport {
    std::string python_version;
    std::filesystem::path python_prefix;
    std::filesystem::path python;
    std::filesystem::path root;
    std::size_t distributions = 0;
    CheckResult check;
    std::vector<Finding> findings;  // errors first, then warnings, then info

    bool has_errors() const;
};

// AllTalk's ports: API, Gradio UI, finetuning UI.
inline constexpr int kAllTalkPorts[] = {7851, 7852, 7052};

DoctorReport diagnose(const DoctorFacts& facts, const RuleSet& rules);

// Gathers the facts (effects: file system, sockets, PATH). Throws LaunchError only when the root
// itself cannot be used (exit status 2).
DoctorFacts gather_facts(const DiscoveryInputs& in);

// The PEP 508 variables of `env`'s Python on this machine (uname for the platform ones).
pep508::MarkerEnv marker_env(const PythonEnv& env);

// Output.
std::string format_text(const DoctorReport& report);
std::string format_json(const DoctorReport& report);
// Markdown for a bug report; the home folder and the user name are replaced.
std::string format_markdown(const DoctorReport& report, const std::string& home,
                            const std::string& user);

}  // namespace alltalk
