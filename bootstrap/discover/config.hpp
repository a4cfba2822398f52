#pragma once
// alltalk-launch.toml: per command (server, finetune) the script, default arguments, env folder
// and extra environment variables; top-level defaults for all commands.
//
//   env = "alltalk_environment/env"        # optional default for every command
//   [environment]                          # optional, for every command
//   HF_HUB_OFFLINE = "1"
//   [server]
//   script = "script.py"
//   args = ["--tts_model", "xtts"]
//   [finetune]
//   env = "finetune_env"                   # the finetune UI may need its own gradio/pydantic
//   overlay = ["gradio==3.50.2"]           # or only its own versions (discover/overlay.hpp)
//   [finetune.environment]
//   GRADIO_ANALYTICS_ENABLED = "False"
//   [torch]
//   safe_globals = ["mypkg.module.MyConfig"]  # more classes torch.load(weights_only=True) accepts
//   [native]
//   cudnn = "/opt/cudnn-9/lib"             # use this cuDNN folder (like --cudnn DIR)
//   cudnn_majors = [8]                     # cuDNN majors needed beyond what packages declare
//   gpu_check = false                      # skip the GPU / torch architecture check
//   cpu = true                             # hide the GPUs from the app (like --cpu)
//
// Relative paths are relative to the folder of the config file.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "discover/safe_globals.hpp"

namespace alltalk {

struct CommandConfig {
    std::optional<std::string> script;
    std::vector<std::string> args;
    std::optional<std::filesystem::path> env;
    std::map<std::string, std::string> environment;
    // `overlay`: PEP 508 requirements (each checked at load) for this command's overlay, a folder
    // of the distributions that differ from the env's, ahead of its site-packages for this command
    // alone (discover/overlay.hpp). Empty: no overlay.
    std::vector<std::string> overlay;
    std::string overlay_source;  // "<file>:<line>" of the key, for messages
};

struct NativeConfig {
    std::optional<std::filesystem::path> cudnn;
    std::vector<int> cudnn_majors;
    std::optional<bool> gpu_check;
    std::optional<bool> cpu;
    std::string source;  // "<file>:<line>" of [native], for messages
};

struct Config {
    std::optional<std::filesystem::path> file;  // where it was read from, if anywhere
    std::optional<std::filesystem::path> env;
    std::map<std::string, std::string> environment;
    CommandConfig server;
    CommandConfig finetune;
    std::vector<SafeGlobal> torch_safe_globals;  // [torch] safe_globals, source = file:line
    NativeConfig native;                         // [native]

    const CommandConfig* command(const std::string& name) const;
};

// Parses config text; `origin` names the file in messages and anchors relative paths. Unknown keys,
// wrong types and syntax errors are a LaunchError(Stage::Config) naming the file, line and key.
Config parse_config(std::string_view text, const std::filesystem::path& origin);

// Reads and parses a file; an unreadable file is a LaunchError(Stage::Config).
Config load_config(const std::filesystem::path& file);

}  // namespace alltalk
