#pragma once
// Undo points: <env>/.alltalk-launch/undo/<id>/ holds, for every distribution that a fix replaces
// or removes, each file of its RECORD as it was (hard links where the file system allows, copies
// otherwise), and manifest.json (fix/undo_manifest.hpp). Everything is written and flushed before
// pip starts; the manifest is written first as "recording" and last as "ready".
//
// Hard links are safe because pip never writes through an installed file: it renames the old
// files away (its uninstall stash) or unlinks them before writing new ones
// (tests/integration/test_fix_undo.py proves it on real pip).
//
// Restoring needs neither pip nor the network: it removes what the fix installed, puts the saved
// files back, checks every hash and marks the point "restored" (kept, so that --history shows
// it; `fix --forget ID` removes it).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "discover/python_env.hpp"
#include "fix/undo_manifest.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::fix {

struct RecordOptions {
    bool allow_links = true;  // false: copy every file
    // Called after each saved file (progress; the tests use it to stop the launcher mid-way).
    std::function<void(std::size_t done, std::size_t total)> on_saved;
};

struct RecordStats {
    std::size_t files = 0;
    std::size_t linked = 0;
    std::size_t copied = 0;
    std::size_t hashed = 0;   // files whose hash RECORD did not give (or gave for another size)
    std::uint64_t bytes = 0;  // of all saved files
    std::uint64_t copied_bytes = 0;  // of those copied
};

// Records an undo point for the distributions `replaced` (PEP 503 keys, looked up in `scan`, which
// is of env.site_packages) before a fix that installs `installs`. Returns its manifest, state
// "ready". Throws LaunchError(Stage::Fix), having removed the partial point, when the env is not
// writable, the disk is full, or a distribution has no RECORD.
UndoManifest record_undo_point(const PythonEnv& env, const SiteScan& scan,
                               const std::vector<std::string>& replaced,
                               const std::vector<std::string>& installs, const std::string& summary,
                               const RecordOptions& options = {}, RecordStats* stats = nullptr);

// Moves the point's state and writes its manifest atomically (temporary name, flush, rename).
void set_undo_state(const PythonEnv& env, UndoManifest& m, UndoState to);
void save_manifest(const PythonEnv& env, const UndoManifest& m);

struct UndoPointEntry {
    std::string id;
    std::optional<UndoManifest> manifest;  // nullopt: damaged (problem says how)
    std::string problem;
};

// Every undo point of the env, oldest first.
std::vector<UndoPointEntry> list_undo_points(const PythonEnv& env);

// The manifest of one point; LaunchError for an unknown id or a damaged manifest.
UndoManifest read_undo_point(const PythonEnv& env, const std::string& id);

// The latest point whose fix was interrupted (state "applying"): the next fix refuses to start.
std::optional<UndoManifest> interrupted_undo_point(const PythonEnv& env);

// Removes the points left in state "recording" by a fix that was killed while writing them
// (they changed nothing); called with the fix lock held, so none of them is being written.
// Returns their ids.
std::vector<std::string> remove_incomplete_undo_points(const PythonEnv& env);

// Removes a point; LaunchError for an unknown id.
void forget_undo_point(const PythonEnv& env, const std::string& id);

struct RestoreResult {
    std::string id;
    bool incomplete = false;  // it was "recording" or "ready": nothing had changed, removed
    std::size_t restored_files = 0;
    std::size_t removed_paths = 0;
    std::vector<VersionChange> back;  // name: after -> before, as restored
};

// Undoes the point `id` (nullopt: the latest one not restored yet). Throws LaunchError(Stage::Fix)
// with nothing changed for: no point, an unknown id, a damaged point (manifest or a saved file's
// hash), an env that is not writable.
RestoreResult restore_undo_point(const PythonEnv& env, const std::optional<std::string>& id);

}  // namespace alltalk::fix
