#pragma once
// Finding the AllTalk root: --root > ALLTALK_ROOT > the executable's folder or a parent of it
// that holds script.py and finetune.py > the current directory.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/environ.hpp"

namespace alltalk {

// What discovery looks at, gathered once by the caller so that discovery itself is testable.
struct DiscoveryInputs {
    std::optional<std::filesystem::path> root_option;    // --root
    std::optional<std::filesystem::path> env_option;     // --env
    std::optional<std::filesystem::path> config_option;  // --config
    EnvMap env_vars;                                     // the process environment
    std::filesystem::path cwd;                           // the current directory
    std::filesystem::path exe;                           // the launcher executable
};

struct RootChoice {
    std::filesystem::path root;
    std::string source;       // "--root", "ALLTALK_ROOT", "launcher folder", "current directory"
    bool is_alltalk = false;  // holds script.py and finetune.py
    std::vector<std::string> tried;  // each place looked at, for messages and -v
};

// True when `dir` holds AllTalk's two entry points.
bool looks_like_alltalk_root(const std::filesystem::path& dir);

// Never throws for a missing AllTalk tree: `is_alltalk` says whether one was found. An explicit
// --root or ALLTALK_ROOT that is not a folder is an error (LaunchError, stage "root").
RootChoice find_root(const DiscoveryInputs& in);

// Makes `p` absolute against `base` and lexically normal, without resolving symbolic links.
std::filesystem::path absolute_from(const std::filesystem::path& p,
                                    const std::filesystem::path& base);

}  // namespace alltalk
