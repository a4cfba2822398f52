#pragma once
// Per-command overlays (read side; `alltalk-launch overlay sync` writes them, fix/overlay.hpp): a
// folder holding only the distributions that differ for one command, put ahead of the env's
// site-packages for that command alone: <env>/.alltalk-launch/overlays/<command>/, with
// overlay.json naming the requirements, the distributions it holds and a hash of its inputs.
//
// Checking one costs one read of overlay.json and one listing of site-packages (the names of its
// *.dist-info folders, the base env's half of the inputs); a command without an overlay costs
// nothing. The launcher keeps a current or stale answer (start/native_cache.hpp).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "discover/python_env.hpp"

namespace alltalk::overlay {

inline constexpr const char* kManifestFile = "overlay.json";
inline constexpr int kManifestVersion = 1;

std::filesystem::path overlays_root(const PythonEnv& env);  // <env>/.alltalk-launch/overlays
std::filesystem::path overlay_dir(const PythonEnv& env, const std::string& command);

struct Manifest {
    std::vector<std::string> requirements;                           // as configured
    std::vector<std::pair<std::string, std::string>> distributions;  // (name, version) it holds
    std::string inputs_hash;                                         // inputs_hash() at sync
};

// overlay.json's text (pure).
std::string encode_manifest(const Manifest& m);
// nullopt with `error` when the text is not an overlay.json this launcher wrote.
std::optional<Manifest> decode_manifest(std::string_view text, std::string* error = nullptr);

// The names of the *.dist-info folders directly in `site_packages`, sorted (one listing).
std::vector<std::string> dist_info_names(const std::filesystem::path& site_packages);

// The hash of an overlay's inputs (pure): its requirements in order, and the base env's
// dist-info folder names (name-version), sorted. 16 hex digits (FNV-1a, 64 bits: change
// detection, cheap at every start).
std::string inputs_hash(const std::vector<std::string>& requirements,
                        std::vector<std::string> dist_info_names);

enum class State {
    Current,  // synced from these requirements and this base env
    Stale,    // the requirements or the base env changed since (`overlay sync` again)
    Missing,  // configured but never synced (or removed)
    Corrupt,  // overlay.json unreadable or not one this launcher wrote
};
const char* to_string(State s);

struct Status {
    std::string command;
    State state = State::Missing;
    std::filesystem::path dir;
    std::optional<Manifest> manifest;  // Current and Stale
    std::string problem;               // Corrupt: what is wrong with overlay.json
};

// The state of `command`'s overlay for `requirements` (not empty) in `env`.
Status check(const PythonEnv& env, const std::string& command,
             const std::vector<std::string>& requirements);

// One line for --dry-run and `overlay status`: "finetune: current, 4 distributions (gradio
// 3.50.2, ...) in DIR", with the command to run when it is not current.
std::string describe(const Status& s);

}  // namespace alltalk::overlay
