#pragma once
// The torch `weights_only` allow-list: which pickled globals (module path + qualified name) the
// launcher lets torch.load accept, so that XTTS models and fine-tuning checkpoints load with
// torch's protection on. The default list is data (bootstrap/data/torch_safe_globals.toml, compiled
// into the launcher); users extend it with `[torch] safe_globals = [...]` in alltalk-launch.toml.
// Pure logic: parsing and checking entries; the Python shim does the registering.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alltalk {

struct SafeGlobal {
    std::string module;    // "TTS.tts.configs.xtts_config"
    std::string qualname;  // "XttsConfig" (may be dotted for nested classes)
    std::string source;    // "default" or "<config file>:<line>"

    // What pickle writes and torch names in its error: module + "." + qualname.
    std::string full_name() const { return module + "." + qualname; }
    // What the shim receives: "module:qualname".
    std::string spec() const { return module + ":" + qualname; }
};

// Parses "pkg.module.Class" (split at the last dot) or "pkg.module:Outer.Inner". Returns the reason
// when the text is not a valid entry or would let a pickle run code (eval, os.system, subprocess,
// pickle loaders, functools.partial, ...); nullopt when the entry is acceptable and `out` is set.
std::optional<std::string> parse_safe_global(std::string_view text, SafeGlobal& out);

// The compiled-in default list, from the entries CMake took out of the data file (no TOML is
// parsed at start). Throws LaunchError(Stage::Install) if the embedded data is broken.
const std::vector<SafeGlobal>& default_safe_globals();

// Parses the default list's TOML text (the tests hold the entries above against it).
std::vector<SafeGlobal> parse_default_safe_globals(std::string_view toml_text);

// Defaults followed by the user's entries, without duplicates (first source kept).
std::vector<SafeGlobal> merge_safe_globals(const std::vector<SafeGlobal>& defaults,
                                           const std::vector<SafeGlobal>& user);

}  // namespace alltalk
