#pragma once
// `alltalk-launch overlay sync|remove` (effects; the read side is discover/overlay.hpp): pip
// resolves the overlay's requirements against the base env (`install --dry-run --report`, by the
// env's own pip, changing nothing), and exactly the report's distributions that differ from the
// base are installed with `pip install --no-deps --target` into a folder beside the overlay, which
// then takes its place. The base env is never modified; a failed sync leaves the old overlay.
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "discover/overlay.hpp"
#include "discover/python_env.hpp"
#include "pypa/pip_report.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::fix {

using NameVersion = std::pair<std::string, std::string>;

// The report's distributions that the overlay must hold (pure): those the base does not have at
// the same version, in the report's order. The others (pip lists only what differs, so none are
// expected; checked anyway) go to `same`, so that a torch the base already has never lands there.
std::vector<NameVersion> overlay_installs(const PipReport& report, const SiteScan& base,
                                          std::vector<NameVersion>* same = nullptr);

// `current` with `wanted` merged in (pure): current's requirements for other distributions, then
// `wanted` (one for the same distribution replaces the current one). What `fix` proposes as a
// command's overlay when it has one already.
std::vector<std::string> merged_overlay(const std::vector<std::string>& current,
                                        const std::vector<std::string>& wanted);

// `python -m pip install --no-deps --target DIR name==version ...` (pure).
std::vector<std::string> overlay_install_argv(const std::string& python,
                                              const std::filesystem::path& dir,
                                              const std::vector<NameVersion>& installs);

struct OverlaySync {
    overlay::Manifest manifest;
    std::filesystem::path dir;
    std::vector<NameVersion> same;  // listed by pip, already in the base: not installed
};

// Makes `command`'s overlay from `requirements` (its configuration `source`, "file:line", for
// messages); `say` gets progress lines. Throws LaunchError (Stage::Fix): no pip or one too old to
// plan, pip cannot resolve the requirements (its reason shown), the install failed, the folder
// cannot be written; in each case the old overlay (if any) is left as it was.
OverlaySync sync_overlay(const PythonEnv& env, const std::string& command,
                         const std::vector<std::string>& requirements, const std::string& source,
                         double timeout_s, const std::function<void(const std::string&)>& say);

// Deletes `command`'s overlay; false when there was none.
bool remove_overlay(const PythonEnv& env, const std::string& command);

}  // namespace alltalk::fix
