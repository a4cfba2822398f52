#pragma once
// The command line (CLI11). Global options go before or after the subcommand. What belongs to the
// app is split off before CLI11 sees the rest, so that it reaches the script untouched:
//   server|finetune [OPTIONS] [-- ARGS]   everything after `--`
//   run [OPTIONS] SCRIPT [ARGS]           everything after SCRIPT
//   python [ARGS]                         everything after `python` (exactly python's own options)
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace alltalk::cli {

struct DoctorOptions {
    std::optional<Command> command;  // --command: server or finetune; none: both (see doctor.hpp)
    bool json = false;
    std::optional<std::filesystem::path> report;
    std::optional<std::filesystem::path> json_file;  // --json-file: the --json object, also
    bool deep = false;         // --deep: import what the command imports, in a prepared child
    double deep_timeout = 60;  // --deep-timeout S: per import
};

// `alltalk-launch fix` (launcher/fix_cmd.hpp). --dry-run is the global Options::dry_run.
struct FixOptions {
    enum class Action { Apply, Undo, History, Forget };
    Action action = Action::Apply;
    std::optional<Command> command;      // --command: server or finetune (default server)
    std::vector<std::string> only;       // --only RULE_ID...: these findings' fixes only
    std::optional<std::string> profile;  // --profile NAME: the profile's pins
    std::vector<std::string> install;    // --install REQ...: requirements of the user's own
    bool yes = false;                    // --yes: no question
    bool force = false;                  // --force: apply a plan that creates new errors
    bool json = false;                   // --json: the plan (and outcome) as JSON
    bool deep = false;  // --deep: doctor --deep's findings too, and trial fixes for them
    std::string installer = "pip";       // --installer pip|uv
    std::optional<std::string> undo_id;  // --undo [ID] (empty: the latest), --forget ID
    double trial_timeout = 300;          // --trial-timeout S: one trial fix
    double trials_timeout = 1200;        // --trials-timeout S: all trial fixes together
};

// `alltalk-launch overlay sync [COMMAND] | status | remove COMMAND` (launcher/overlay_cmd.hpp).
struct OverlayOptions {
    enum class Action { Sync, Status, Remove };
    Action action = Action::Status;
    std::optional<std::string> command;  // as typed: checked against the config's overlays
};

// `alltalk-launch setup` (launcher/setup_cmd.hpp). --dry-run is the global Options::dry_run.
struct SetupCliOptions {
    std::optional<std::filesystem::path> python;  // --python PATH
    std::string gpu = "auto";                     // --gpu auto|cuda|cpu
    std::optional<std::string> profile;           // --profile ID: a shipped lock
    std::optional<std::filesystem::path> lock;    // --lock FILE: a lock made by make_lock.py
    std::string installer = "pip";                // --installer pip|uv
    bool yes = false, force = false, json = false;
};

// `alltalk-launch explain [FILE|-]` (launcher/explain_cmd.hpp).
struct ExplainOptions {
    std::string file = "-";  // FILE, or "-" for standard input
    bool no_env = false;     // --no-env: judge by what the text says only
    bool json = false;
};

struct Options {
    std::optional<std::filesystem::path> root;
    std::optional<std::filesystem::path> env;
    std::optional<std::filesystem::path> config;
    bool verbose = false;
    bool dry_run = false;
    LaunchRequest request;
    std::optional<DoctorOptions> doctor;    // `doctor` instead of a launch
    std::optional<FixOptions> fix;          // `fix` instead of a launch
    std::optional<OverlayOptions> overlay;  // `overlay` instead of a launch
    std::optional<SetupCliOptions> setup;   // `setup` instead of a launch
    std::optional<ExplainOptions> explain;  // `explain` instead of a launch
    // --deep-probe DIR (hidden): the launch of `doctor --deep`'s child, which runs the probe in
    // DIR instead of the command's script (launcher/deep_check.hpp).
    std::optional<std::filesystem::path> deep_probe;
};

struct Parsed {
    std::optional<Options> options;  // empty: help, version or an error was printed
    int exit_status = 0;
};

Parsed parse(const std::vector<std::string>& args);  // args without argv[0]

// What discovery looks at: the options plus this process's environment, cwd and executable.
DiscoveryInputs discovery_inputs(const Options& opts);

// The launcher itself with the options this process got that choose what a launch runs (--root,
// --env, --config, --cudnn, --cpu, --no-gpu-check), paths made absolute from `cwd`: the start of
// the command line of every child prepared as the launch (doctor --deep, fix's trials).
std::vector<std::string> launch_options_argv(const Options& opts, const std::filesystem::path& cwd);

}  // namespace alltalk::cli
