#pragma once
// `fix --command C` in an env that another command also runs from: the other command's view
// (its overlay, if any, over the env) after the change, predicted before anything changes. Its
// rules and pip-check conflicts are checked on the prediction; with --deep, the imports that work
// for it now are run again with the change installed in a scratch folder ahead of the env. When
// the change breaks that view, fix proposes an overlay for C instead (fix_cmd.cpp): the same
// versions for C alone, the env left as it is.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "diagnose/doctor.hpp"
#include "fix/predict.hpp"

namespace alltalk {

struct OtherView {
    Command command = Command::Server;
    DoctorFacts facts;             // its view now
    std::vector<Finding> broken;   // the errors the change would give it that it has not now
    bool imports_checked = false;  // --deep: its imports were run against the change
    int imports = 0;               // how many
};

// The other commands that run from the env of `target` (the same env folder), with their facts.
std::vector<OtherView> shared_views(const cli::Options& opts, const DoctorFacts& target);

// The view after the change: its overlay (current or stale) over the predicted env.
SiteScan view_after(const DoctorFacts& view, const SiteScan& base_after);

// Fills `view.broken`; with `deep`, also runs its imports against the change's installs.
void predict_view(const cli::Options& opts, OtherView& view, const fix::Prediction& p, bool deep);

// The config file that holds the commands' settings (the one read, or <root>/alltalk-launch.toml),
// and the command's overlay requirements in it now.
struct OverlayTarget {
    std::filesystem::path config;
    bool config_exists = false;
    std::vector<std::string> current;  // [command] overlay now
};
OverlayTarget overlay_target(const cli::Options& opts, Command command);

}  // namespace alltalk
