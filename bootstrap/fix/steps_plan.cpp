// The steps up to the check: gather, plan, predict, check (fix/workflow.hpp).
#include <algorithm>

#include "base/error.hpp"
#include "base/text.hpp"
#include "diagnose/deep_run.hpp"
#include "fix/pip.hpp"
#include "fix/report.hpp"
#include "fix/run_lock.hpp"
#include "fix/state_dir.hpp"
#include "fix/workflow.hpp"
#include "os/process.hpp"

namespace alltalk::fix {

namespace {

// pip older than 22.2 cannot plan without changing anything: upgrading it is the first step.
// Returns true when pip was upgraded.
bool offer_pip_upgrade(const FixRun& r, const std::string& version, const FixSettings& s,
                       const FixContext& c) {
    const std::string python = process::to_utf8(r.facts.env->python);
    c.say("pip " + version +
          " in this env cannot say what it would change without changing it (`pip install "
          "--dry-run --report` came in pip " +
          kPipReportSince + "). The first step is upgrading pip: " +
          text::quote_arg(python, r.facts.platform) + " -m pip install --upgrade pip");
    if (s.dry_run) {
        return false;
    }
    if (!s.yes) {
        const Answer a = c.ask("Upgrade pip first?");
        if (a == Answer::NoTerminal) {
            throw LaunchError(Stage::Fix,
                              ErrorText{"pip must be upgraded first, and there is no terminal "
                                        "to ask on.",
                                        "", "Run again with --yes to upgrade pip and go on."},
                              kFixNeedsYesStatus);
        }
        if (a == Answer::No) {
            return false;
        }
    }
    ApplyRequest a;
    a.env = *r.facts.env;
    a.scan = r.facts.scan;
    a.replaced = {"pip"};
    a.summary = "upgrade pip " + version + " (needed to plan fixes)";
    a.steps.push_back({{python, "-m", "pip", "install", "--upgrade", "--no-input", "pip>=22.2"},
                       "pip install --upgrade pip"});
    ApplyResult res;
    c.around_pip([&] { res = apply_fix(a); });
    if (!res.ok) {
        throw LaunchError(Stage::Fix, ErrorText{"Upgrading pip failed (" + res.failed_step + ").",
                                                "", "alltalk-launch fix --undo puts it back."});
    }
    return true;
}

// The findings' requests, as --only and --profile select them, with --install's own.
void collect_requests(FixRun& r, const FixSettings& s) {
    r.request = collect(r.before.findings, s.only, s.profile, builtin_rules());
    for (const auto& req : s.install) {
        std::erase_if(r.request.install, [&](const std::string& have) {
            return requirement_key(have) == requirement_key(req);
        });
        r.request.install.push_back(req);
    }
    if (!s.install.empty()) {
        r.request.from.push_back("--install " + text::join(s.install, " "));
    }
}

// --deep: the trial fixes for imports that lack a name, and the pins of those that worked.
void add_trial_fixes(FixRun& r, const FixSettings& s, const FixContext& c) {
    const bool selected =
        s.only.empty() || std::find(s.only.begin(), s.only.end(), "import-name") != s.only.end();
    if (!s.deep || !selected) {
        return;
    }
    TrialSettings ts{c.launch_argv, s.dry_run, s.trial_timeout, s.trials_timeout, c.say};
    r.trials = run_trial_fixes(ts, r.facts, r.pip);
    for (const auto& t : r.trials) {
        if (t.version.empty()) {
            continue;
        }
        for (const auto& pin : t.pins) {
            if (std::find(r.request.install.begin(), r.request.install.end(), pin) ==
                r.request.install.end()) {
                r.request.install.push_back(pin);
            }
        }
        r.request.from.push_back("import-name (" + t.target.dist + " " + t.version +
                                 ", found by trial)");
        // Its finding is no longer one to do by hand.
        std::erase_if(r.request.manual, [](const Finding& f) { return f.id == "import-name"; });
    }
}

void report_trials(const FixRun& r, const FixContext& c) {
    for (const auto& t : r.trials) {
        c.out(t.version.empty()
                  ? "Trial fix for " + t.target.dist + ": none found (" + t.note + ")\n"
                  : "Trial fix for " + t.target.dist + ": " + t.version + " has " +
                        text::join(t.target.names, ", ") + " (found in " +
                        std::to_string(t.trials) + " trials; its imports work)\n");
    }
}

}  // namespace

StepResult gather_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    prepare_pip_environment();
    r.facts = gather_fix_facts(s.command, c);
    const PythonEnv& env = *r.facts.env;
    if (!s.dry_run) {
        // At once, not after minutes of planning (FixLock::acquire says it again, holding the
        // lock, before pip changes anything).
        refuse_while_running(env.dir, "fix", c.discovery.env_vars);
    }
    std::optional<std::string> pip = pip_version(r.facts.scan);
    if (!pip) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"The env " + env.dir.string() +
                          " has no pip, and fix works through the "
                          "env's own pip.",
                      "",
                      "Add pip to it: " + text::quote_arg(env.python.string(), env.platform) +
                          " -m ensurepip --upgrade"});
    }
    if (!pip_can_plan(*pip)) {
        if (!offer_pip_upgrade(r, *pip, s, c)) {
            return s.dry_run ? 0 : 1;
        }
        r.facts = gather_fix_facts(s.command, c);
        pip = pip_version(r.facts.scan);
    }
    r.pip = pip.value_or("");
    if (s.deep) {
        c.say("importing what " + std::string(to_string(s.command)) + " imports (doctor --deep)");
        add_deep_check(c.launch_argv, s.deep_timeout, r.facts);
    }
    r.before = diagnose(r.facts, builtin_rules());
    return std::nullopt;
}

StepResult plan_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    collect_requests(r, s);
    add_trial_fixes(r, s, c);
    const PythonEnv& env = *r.facts.env;
    c.out("alltalk-launch fix: " + std::string(to_string(s.command)) + ", env " + env.dir.string() +
          " (Python " + env.version.text + ", pip " + r.pip + ")\n");
    c.out("Now: " + severity_counts(r.before.findings) + ".\n");
    for (const auto& m : r.request.manual) {
        c.out("  not automated: " + m.id + ": " + (m.fix.empty() ? m.action.note : m.fix) + "\n");
    }
    if (r.request.empty()) {
        c.out("Nothing to fix automatically" +
              std::string(r.before.findings.empty() ? ": the doctor finds nothing.\n" : ".\n"));
        return 0;
    }
    report_trials(r, c);
    c.out("Fixing: " + text::join(r.request.from, ", ") + "\n");
    return std::nullopt;
}

StepResult predict_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    c.say("asking the env's pip what would change (pip install --dry-run): this changes nothing");
    r.requested = r.request.install;  // before dependents join
    const PythonEnv& env = *r.facts.env;
    r.plan = plan_keeping_dependents(env, r.request, r.facts.base_scan, r.facts.markers,
                                     s.plan_timeout, scratch_root(env, s.dry_run), c.say);
    r.request = r.plan->request;
    r.prediction = r.plan->prediction;
    attribute_changes(*r.prediction, *r.plan, r, s);
    for (const auto& u : r.plan->unkept) {
        c.out("pip found no release of " + u.package + " that fits the change (" + u.package + " " +
              u.version + " requires " + u.requirement + ").\n");
    }
    return std::nullopt;
}

StepResult check_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    // The command's view after: its overlay, if it has one, over the predicted env.
    const DoctorReport predicted = diagnose(
        predicted_facts(r.facts, view_after(r.facts, r.prediction->after)), builtin_rules());
    r.delta = compare_findings(diagnose(before_facts(r.facts), builtin_rules()).findings,
                               predicted.findings);
    // The deep check's findings are not predicted; one a trial fix proved is fixed.
    const bool by_trial = std::any_of(r.trials.begin(), r.trials.end(),
                                      [](const TrialOutcome& t) { return !t.version.empty(); });
    for (const auto& f : r.before.findings) {
        if (by_trial && f.id == "import-name") {
            r.delta->fixed.push_back(f);
        }
    }
    c.out(r.prediction->changes.empty() ? "pip would change nothing: the requirements already "
                                          "hold.\n"
                                        : "\n" + change_table(*r.prediction));
    c.out("\nThis fixes:\n" + finding_lines(r.delta->fixed));
    c.out("It leaves:\n" + finding_lines(r.delta->left));
    c.out("It creates:\n" + finding_lines(r.delta->created));
    r.refusal = refusal_for(*r.delta);
    r.refused = !r.refusal.empty() && !s.force;
    if (r.refused) {
        c.out("\nRefused: " + r.refusal +
              ". Nothing was changed. Fix fewer findings at a time (--only RULE_ID), or apply it "
              "anyway with --force.\n");
        return 1;
    }
    if (!r.refusal.empty()) {
        c.out("\n--force: applying although " + r.refusal + ".\n");
    }
    return std::nullopt;
}

}  // namespace alltalk::fix
