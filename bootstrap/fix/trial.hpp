#pragma once
// Trial fixes for what no rule knows (pure parts): an import that fails because the installed
// release of a distribution no longer has a name ("cannot import name 'N' from 'M'"). The newest
// release below the installed one under which the failing imports succeed is searched by
// bisection over the released versions, so that a name gone for several majors or for twenty
// minors costs a handful of trials. The trials themselves (pip, a scratch folder, a prepared
// child) are fix/trial_run.cpp.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnose/deep.hpp"
#include "diagnose/import_failure.hpp"

namespace alltalk::fix {

// One distribution to search: the owner of the module that lacks the name, and the imports (the
// deep check's statements) that must succeed.
struct TrialTarget {
    std::string dist;                  // as its metadata writes it
    std::string installed;             // its installed version
    std::string module;                // the module imported from
    std::vector<std::string> names;    // the names it lacks
    std::vector<std::string> imports;  // the failing statements, e.g. "import legacy_user"
};

// The targets of a deep check's failed steps (one per owning distribution, in step order).
std::vector<TrialTarget> trial_targets(const DeepCheck& check, const InstalledModules& modules);

// The versions of `pip index versions NAME` (newest first): its `--json` object's "versions"
// (pip 25.1 and later), else the "Available versions:" line of its text; empty when the output
// has neither.
std::vector<std::string> parse_index_versions(std::string_view output);
// The oldest pip whose `index versions` has --json.
inline constexpr const char* kPipIndexJsonSince = "25.1";

// The final releases below `installed`, oldest first (pre-, dev- and unparsable versions left
// out).
std::vector<std::string> releases_below(const std::vector<std::string>& versions,
                                        const std::string& installed);

// Searches candidates 0..n-1 (oldest first) for the newest one that passes, assuming that those
// that pass come before those that fail (the name existed up to some release). The newest is
// tried first (a name removed in the latest release costs one trial), then a bisection.
// `passes` returns nullopt to stop (out of time).
struct SearchResult {
    std::optional<std::size_t> found;
    std::vector<std::pair<std::size_t, bool>> tried;  // in order
    bool stopped = false;
};
SearchResult newest_passing(std::size_t n,
                            const std::function<std::optional<bool>(std::size_t)>& passes);

}  // namespace alltalk::fix
