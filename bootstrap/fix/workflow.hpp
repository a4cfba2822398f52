#pragma once
// `alltalk-launch fix` as a pipeline: one value (FixRun) moves through named steps, each of which
// reads what the earlier ones decided and adds its own part:
//
//   gather -> plan -> predict -> check -> propose -> confirm -> save undo point -> apply -> verify
//
//   gather    the command's facts as the doctor reads them; pip that can plan (or its upgrade);
//             with --deep, the deep check
//   plan      the findings' requests (--only, --profile, --install), and with --deep the trial
//             fixes (fix/trial_run.hpp)
//   predict   pip's own resolver (--dry-run --report) with the dependents it would break kept
//             working, each change attributed to what asked for it
//   check     the findings before and after on the prediction; refused when it creates errors
//   propose   the other commands' views of the same env (fix/views.hpp); when the change breaks
//             one, an overlay for this command instead
//   confirm   --dry-run, --yes, or the question on the console (FixContext::ask)
//   save      the constraints of the prediction, the env's fix lock and the undo point (for an
//             overlay: the config as it was, beside it)
//   apply     the env's pip (or uv), or the overlay's config entry and its sync
//   verify    the findings after; what differs from the prediction; pip's leftovers
//
// A step returns a status to stop with, or nothing to go on. The command line (launcher/fix_cmd)
// turns its options into FixSettings and FixContext and prints the outcome's JSON; the steps'
// report text goes to FixContext::out. Errors are LaunchError(Stage::Fix), as everywhere.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "diagnose/doctor.hpp"
#include "fix/apply.hpp"
#include "fix/pip.hpp"
#include "fix/plan.hpp"
#include "fix/predict.hpp"
#include "fix/trial_run.hpp"
#include "fix/views.hpp"

namespace alltalk::fix {

// Exit statuses beyond 0 (done or nothing to do) and 1 (refused or failed).
inline constexpr int kFixNeedsYesStatus = 3;  // the plan needs a yes: no terminal, no --yes

// What the command line asked for, as values.
struct FixSettings {
    Command command = Command::Server;
    std::vector<std::string> only;       // --only RULE_ID...
    std::optional<std::string> profile;  // --profile NAME
    std::vector<std::string> install;    // --install REQ...
    bool yes = false, force = false, deep = false, dry_run = false;
    bool quiet = false;             // --json: no progress lines, pip's output to stderr
    std::string installer = "pip";  // pip | uv
    double trial_timeout = 300, trials_timeout = 1200;
    double deep_timeout = 60;   // per import of the deep check
    double plan_timeout = 900;  // pip working out one plan
};

enum class Answer { Yes, No, NoTerminal };

// Where the steps meet the process they run in.
struct FixContext {
    DiscoveryInputs discovery;
    LaunchRequest overrides;               // --cudnn, --cpu, --no-gpu-check
    std::vector<std::string> launch_argv;  // the launcher and its launch options (doctor --deep)
    std::function<void(const std::string&)> out;  // the report's text
    std::function<void(const std::string&)> say;  // a progress line
    std::function<Answer(const std::string&)> ask;
    // Runs pip (the function) with its output where the command line wants it.
    std::function<void(const std::function<void()>&)> around_pip;
};

// What `fix` found and decided, step by step.
struct FixRun {
    DoctorFacts facts;
    std::string pip;  // the env's pip version
    DoctorReport before;
    FixRequest request;
    std::vector<std::string> requested;  // request.install as asked, before dependents join
    std::vector<TrialOutcome> trials;    // --deep: the trial fixes
    std::optional<Plan> plan;
    std::optional<Prediction> prediction;
    std::optional<FindingDelta> delta;
    bool refused = false;
    std::string refusal;
    std::vector<OtherView> views;  // other commands that run from the same env
    // The change breaks another command's view: the requested versions go into an overlay for
    // this command instead, written to `overlay_config`.
    std::optional<std::vector<std::string>> overlay;
    std::filesystem::path overlay_config;
    bool overlay_existed = false;  // the config file, and its text before and after
    std::string overlay_old_text, overlay_new_text;
    bool overlay_synced = false;
    std::optional<ApplyRequest> apply;  // what the pip steps are
    std::optional<SavedPoint> saved;    // the lock and the undo point, until pip is done
    std::filesystem::path constraints;  // the prediction's pins for pip (removed at the end)
    bool applied = false;
    std::string undo_id;
    std::optional<DoctorReport> after;
    std::vector<std::string> unpredicted;  // differences between the prediction and the result

    FixRun() = default;
    FixRun(FixRun&&) = default;
    ~FixRun();  // removes the constraints file
};

using StepResult = std::optional<int>;  // a status: stop with it; nothing: the next step
using Step = StepResult (*)(FixRun&, const FixSettings&, const FixContext&);

StepResult gather_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult plan_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult predict_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult check_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult propose_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult confirm_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult save_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult apply_step(FixRun& r, const FixSettings& s, const FixContext& c);
StepResult verify_step(FixRun& r, const FixSettings& s, const FixContext& c);

struct NamedStep {
    const char* name;
    Step run;
};
// The steps in their order.
const std::vector<NamedStep>& fix_steps();

// Runs `steps` (fix_steps(), or a test's) in order on `r`, to the first that stops; the status to
// exit with.
int run_fix_steps(FixRun& r, const FixSettings& s, const FixContext& c,
                  const std::vector<NamedStep>& steps = fix_steps());

// The command's facts as the doctor reads them; throws when its env cannot be read.
DoctorFacts gather_fix_facts(Command command, const FixContext& c);

// Pure parts of the steps, for their tests.

// Each change of the prediction with what asked for it: the findings selected, the profile,
// --install, the dependents kept working, the trial fixes.
void attribute_changes(Prediction& p, const Plan& plan, const FixRun& r, const FixSettings& s);

// The refusal of a prediction that creates errors ("" when it creates none).
std::string refusal_for(const FindingDelta& d);

// The differences between what was predicted and what is installed now.
std::vector<std::string> unpredicted(const Prediction& p, const SiteScan& now);

// The pip steps of the prediction: uninstall, then install constrained by `constraints`, with uv
// when `uv` is given.
std::vector<PipStep> pip_steps(const std::string& python, const FixRequest& request,
                               const std::string& constraints,
                               const std::optional<std::string>& uv);

}  // namespace alltalk::fix
