#pragma once
// An undo point's manifest (<env>/.alltalk-launch/undo/<id>/manifest.json) as a value, its JSON
// form and its states (pure; fix/undo.hpp does the file work). The state moves
//   recording -> ready -> applying -> applied | failed ;  applying, applied, failed -> restored
// "recording": the point is being written and nothing in the env has changed yet; "ready": it is
// complete and pip has not started; "applying": pip may have changed anything.
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alltalk::fix {

enum class UndoState { Recording, Ready, Applying, Applied, Failed, Restored };
const char* to_string(UndoState s);
std::optional<UndoState> parse_undo_state(std::string_view s);
// Whether the state may move from `from` to `to`.
bool can_move(UndoState from, UndoState to);

// One file of a replaced distribution, as it was before the fix.
struct SavedFile {
    std::string path;  // as RECORD writes it: '/'-separated, relative to site-packages
    std::string hash;  // "sha256=..." (RECORD's, or computed when RECORD gives none)
    std::uint64_t size = 0;
    std::string saved;  // where its copy lies, relative to the point's folder ("files/0/12")
};

struct SavedDist {
    std::string name;
    std::string version;
    std::string installer;     // the INSTALLER file's text ("pip", "uv"); empty when none
    std::string metadata_dir;  // relative to site-packages ("six-1.16.0.dist-info")
    std::vector<SavedFile> files;
    // The top-level folders of site-packages that its files are in.
    std::vector<std::string> folders;
};

// What the fix changed, filled in when it ended: before/after versions (empty: not installed).
struct VersionChange {
    std::string name;
    std::string before;
    std::string after;
};

struct UndoManifest {
    static constexpr int kFormat = 1;
    std::string id;
    std::string created;  // UTC, ISO 8601
    UndoState state = UndoState::Recording;
    std::string summary;                        // what the fix was to do, for the history
    std::string site_packages;                  // the folder it is about (UTF-8)
    std::vector<std::string> installs;          // "name==version" the fix was to install
    std::vector<std::string> top_level_before;  // every entry of site-packages before the fix
    std::vector<SavedDist> dists;  // the distributions that the fix replaces or removes
    // For each folder in SavedDist::folders: every path inside it before the fix, relative to
    // site-packages, folders ending in '/'. Undo removes what is not listed.
    std::map<std::string, std::vector<std::string>> folder_entries;
    std::vector<VersionChange> changes;  // when applied or failed
    std::string failed_step;             // when failed
    std::string ended;                   // when applied / failed / restored (UTC)
};

std::string to_json(const UndoManifest& m);

// Throws LaunchError(Stage::Fix) that names `where` and what is wrong: not JSON, a key missing or
// of the wrong type, an unknown state, a saved path that leaves the point's folder.
UndoManifest manifest_from_json(std::string_view text, const std::string& where);

// Moves m.state, or throws LaunchError(Stage::Fix) for a move the states do not allow.
void move_state(UndoManifest& m, UndoState to);

// A sortable id: "20261202-011500-<pid>" (UTC).
std::string make_undo_id(std::time_t now, long long pid);

// "2026-12-02T01:15:00Z".
std::string utc_text(std::time_t now);

}  // namespace alltalk::fix
