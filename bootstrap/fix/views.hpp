#pragma once
// `fix --command C` in an env that another command also runs from: the other command's view
// (its overlay, if any, over the env) after the change, predicted before anything changes. Its
// rules and pip-check conflicts are checked on the prediction; with --deep, the imports that work
// for it now are run again with the change installed in a scratch folder ahead of the env. When
// the change breaks that view, fix proposes an overlay for C instead (fix/workflow.hpp): the same
// versions for C alone, the env left as it is.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "diagnose/doctor.hpp"
#include "fix/predict.hpp"

namespace alltalk::fix {

struct OtherView {
    Command command = Command::Server;
    DoctorFacts facts;             // its view now
    std::vector<Finding> broken;   // the errors the change would give it that it has not now
    bool imports_checked = false;  // --deep: its imports were run against the change
    int imports = 0;               // how many
};

// The other commands that run from the env of `target` (the same env folder), with their facts.
std::vector<OtherView> shared_views(const DiscoveryInputs& in, const LaunchRequest& overrides,
                                    const DoctorFacts& target);

// The view after the change: its overlay (current or stale) over the predicted env.
SiteScan view_after(const DoctorFacts& view, const SiteScan& base_after);

// With --deep, how the view's imports are run against the change.
struct ViewImports {
    bool run = false;                      // --deep
    std::vector<std::string> launch_argv;  // the launcher and its launch options
    bool dry_run = false;                  // scratch folders outside the env
    double deep_timeout = 60;              // per import of its deep check
};

// Fills `view.broken`; with `imports.run`, also runs its imports against the change's installs.
void predict_view(OtherView& view, const Prediction& p, const ViewImports& imports);

// The config file that holds the commands' settings (the one read, or <root>/alltalk-launch.toml),
// and the command's overlay requirements in it now.
struct OverlayTarget {
    std::filesystem::path config;
    bool config_exists = false;
    std::vector<std::string> current;  // [command] overlay now
};
OverlayTarget overlay_target(const DiscoveryInputs& in, const LaunchRequest& overrides,
                             Command command);

}  // namespace alltalk::fix
