#include "fix_cmd.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <system_error>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "console.hpp"
#include "diagnose/doctor.hpp"
#include "discover/config_edit.hpp"
#include "doctor_cmd.hpp"
#include "fix/apply.hpp"
#include "fix/overlay.hpp"
#include "fix/pip.hpp"
#include "fix/plan.hpp"
#include "fix/predict.hpp"
#include "fix/run_lock.hpp"
#include "fix/state_dir.hpp"
#include "fix/undo.hpp"
#include "fix_trial.hpp"
#include "fix_views.hpp"
#include "os/durable.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk {

// fix --undo / --history / --forget (launcher/undo_cmd.cpp).
int run_fix_maintenance(const cli::Options& opts);

namespace {

using json = nlohmann::json;

// How long pip may take to work out one plan.
constexpr double kPlanTimeoutSeconds = 900;

// What `fix` found and decided, for the text and the JSON output.
struct FixRun {
    Command command = Command::Server;
    DoctorFacts facts;
    DoctorReport before;
    fix::FixRequest request;
    std::optional<fix::Prediction> prediction;
    std::optional<fix::FindingDelta> delta;
    bool refused = false;
    std::string refusal;
    bool applied = false;
    std::string undo_id;
    std::optional<DoctorReport> after;
    std::vector<std::string> unpredicted;  // differences between the prediction and the result
    std::vector<TrialOutcome> trials;      // fix --deep: the trial fixes
    std::vector<OtherView> views;          // other commands that run from the same env
    // The change breaks another command's view: the requested versions go into an overlay for
    // this command instead (fix_views.hpp), written to `overlay_config`.
    std::optional<std::vector<std::string>> overlay;
    std::filesystem::path overlay_config;
    bool overlay_synced = false;
};

DoctorReport diagnose_one(const DoctorFacts& f) {
    return diagnose(f, builtin_rules());
}

std::string severity_counts(const std::vector<Finding>& findings) {
    int errors = 0, warnings = 0;
    for (const auto& f : findings) {
        errors += f.severity == Severity::Error;
        warnings += f.severity == Severity::Warning;
    }
    return std::to_string(errors) + (errors == 1 ? " error, " : " errors, ") +
           std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings");
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) {
        s.append(width - s.size(), ' ');
    }
    return s;
}

std::string change_table(const fix::Prediction& p) {
    std::size_t w_name = 12, w_now = 3, w_after = 5;
    for (const auto& c : p.changes) {
        w_name = std::max(w_name, c.name.size());
        w_now = std::max(w_now, c.before.value_or("-").size());
        w_after = std::max(w_after, c.after.value_or("-").size());
    }
    std::string out = "  " + pad("distribution", w_name) + "  " + pad("now", w_now) + "  " +
                      pad("after", w_after) + "  why\n";
    for (const auto& c : p.changes) {
        out += "  " + pad(c.name, w_name) + "  " + pad(c.before.value_or("-"), w_now) + "  " +
               pad(c.after.value_or("-"), w_after) + "  " + c.why + "\n";
    }
    return out;
}

std::string finding_lines(const std::vector<Finding>& findings) {
    std::string out;
    for (const auto& f : findings) {
        out += "    [" + std::string(to_string(f.severity)) + "] " + f.id + ": " + f.message + "\n";
    }
    return out.empty() ? "    (none)\n" : out;
}

json finding_json(const std::vector<Finding>& findings) {
    json a = json::array();
    for (const auto& f : findings) {
        a.push_back({{"id", f.id},
                     {"severity", to_string(f.severity)},
                     {"message", f.message},
                     {"fix", f.fix}});
    }
    return a;
}

json run_json(const FixRun& r, bool dry_run) {
    json j;
    j["command"] = to_string(r.command);
    j["env"] = r.facts.env ? process::to_utf8(r.facts.env->dir) : "";
    j["dry_run"] = dry_run;
    j["findings"] = finding_json(r.before.findings);
    j["request"] = {{"from", r.request.from},
                    {"remove", r.request.remove},
                    {"install", r.request.install},
                    {"options", r.request.options},
                    {"index_url", r.request.index_url ? json(*r.request.index_url) : json()}};
    j["manual"] = finding_json(r.request.manual);
    json changes = json::array();
    if (r.prediction) {
        for (const auto& c : r.prediction->changes) {
            changes.push_back({{"name", c.name},
                               {"now", c.before ? json(*c.before) : json()},
                               {"after", c.after ? json(*c.after) : json()},
                               {"why", c.why}});
        }
    }
    j["changes"] = changes;
    if (r.delta) {
        j["fixes"] = finding_json(r.delta->fixed);
        j["leaves"] = finding_json(r.delta->left);
        j["creates"] = finding_json(r.delta->created);
    }
    json trials = json::array();
    for (const auto& t : r.trials) {
        trials.push_back({{"distribution", t.target.dist},
                          {"installed", t.target.installed},
                          {"module", t.target.module},
                          {"names", t.target.names},
                          {"imports", t.target.imports},
                          {"found", t.version.empty() ? json() : json(t.version)},
                          {"pins", t.pins},
                          {"trials", t.trials},
                          {"note", t.note}});
    }
    j["trial_fixes"] = trials;
    json views = json::array();
    for (const auto& v : r.views) {
        views.push_back({{"command", to_string(v.command)},
                         {"breaks", finding_json(v.broken)},
                         {"imports_checked", v.imports_checked},
                         {"imports", v.imports}});
    }
    j["other_views"] = views;
    if (r.overlay) {
        j["overlay"] = {{"command", to_string(r.command)},
                        {"requirements", *r.overlay},
                        {"config", process::to_utf8(r.overlay_config)},
                        {"synced", r.overlay_synced}};
    }
    j["refused"] = r.refused;
    if (r.refused) {
        j["reason"] = r.refusal;
    }
    j["applied"] = r.applied;
    if (!r.undo_id.empty()) {
        j["undo_id"] = r.undo_id;
    }
    if (r.after) {
        j["after"] = finding_json(r.after->findings);
        j["unpredicted"] = r.unpredicted;
    }
    return j;
}

// Runs `f`, which runs pip with its output live: stdout is flushed first, and with --json pip's
// output goes to stderr, so that the JSON is alone on stdout.
template <typename F>
auto running_pip(bool json, F&& f) {
    std::fflush(stdout);
    std::optional<console::StdoutToStderr> keep_stdout_for_json;
    if (json) {
        keep_stdout_for_json.emplace();
    }
    return f();
}

// The check of the command's env, as the doctor makes it.
DoctorFacts gather(const cli::Options& opts, Command command) {
    DoctorRequest request;
    request.commands = {command};
    request.overrides = opts.request;
    std::vector<DoctorFacts> facts =
        gather_doctor_facts(request, cli::discovery_inputs(opts), PlanContext{});
    DoctorFacts f = std::move(facts.front());
    if (f.unresolved) {
        throw *f.unresolved;
    }
    if (!f.env) {
        throw LaunchError(
            Stage::Fix, ErrorText{"The env of `alltalk-launch " + std::string(to_string(command)) +
                                      "` could not be read, so there is nothing fix can change: " +
                                      f.env_error.what,
                                  f.env_error.tried, f.env_error.fix});
    }
    return f;
}

// The differences between what was predicted and what is installed now.
std::vector<std::string> unpredicted(const fix::Prediction& p, const SiteScan& now) {
    std::vector<std::string> out;
    std::set<std::string> keys;
    for (const auto& d : p.after.dists) {
        keys.insert(d.key);
        const Distribution* n = now.find(d.key);
        if (!n) {
            out.push_back(d.name + " " + d.version_text + " was predicted, but is not installed");
        } else if (n->version_text != d.version_text) {
            out.push_back(d.name + " " + n->version_text + " is installed, but " + d.version_text +
                          " was predicted");
        }
    }
    for (const auto& n : now.dists) {
        if (!keys.count(n.key)) {
            out.push_back(n.name + " " + n.version_text + " is installed, but was not predicted");
        }
    }
    return out;
}

// pip older than 22.2 cannot plan without changing anything: upgrading it is the first step.
// Returns true when pip was upgraded (the facts are gathered again).
bool offer_pip_upgrade(const cli::Options& opts, const FixRun& r, const std::string& version) {
    const cli::FixOptions& fo = *opts.fix;
    const std::string python = process::to_utf8(r.facts.env->python);
    std::fprintf(stderr,
                 "alltalk-launch: pip %s in this env cannot say what it would change without "
                 "changing it (`pip install --dry-run --report` came in pip %s). The first step "
                 "is upgrading pip: %s -m pip install --upgrade pip\n",
                 version.c_str(), kPipReportSince,
                 text::quote_arg(python, r.facts.platform).c_str());
    if (opts.dry_run) {
        return false;
    }
    if (!fo.yes) {
        if (!console::stdin_is_terminal()) {
            throw LaunchError(Stage::Fix,
                              ErrorText{"pip must be upgraded first, and there is no terminal "
                                        "to ask on.",
                                        "", "Run again with --yes to upgrade pip and go on."},
                              kFixNeedsYesStatus);
        }
        if (!console::ask("Upgrade pip first?")) {
            return false;
        }
    }
    fix::ApplyRequest a;
    a.env = *r.facts.env;
    a.scan = r.facts.scan;
    a.replaced = {"pip"};
    a.summary = "upgrade pip " + version + " (needed to plan fixes)";
    a.steps.push_back({{python, "-m", "pip", "install", "--upgrade", "--no-input", "pip>=22.2"},
                       "pip install --upgrade pip"});
    const fix::ApplyResult res = fix::apply_fix(a);
    if (!res.ok) {
        throw LaunchError(Stage::Fix, ErrorText{"Upgrading pip failed (" + res.failed_step + ").",
                                                "", "alltalk-launch fix --undo puts it back."});
    }
    return true;
}

// The other commands that run from this env, each view predicted; when the change breaks one,
// the requested versions go into an overlay for this command instead (r.overlay). False: apply
// to the env as planned.
template <typename Out>
bool propose_overlay(const cli::Options& opts, FixRun& r, const std::vector<std::string>& requested,
                     Out&& out) {
    const cli::FixOptions& fo = *opts.fix;
    r.views = shared_views(opts, r.facts);
    std::vector<std::string> broken;
    for (auto& v : r.views) {
        if (fo.deep && !fo.json) {
            std::fprintf(stderr,
                         "alltalk-launch: running what %s imports against the change (a scratch "
                         "folder; the env is not changed)\n",
                         to_string(v.command));
        }
        predict_view(opts, v, *r.prediction, fo.deep);
        if (!v.broken.empty()) {
            broken.push_back(to_string(v.command));
            out("\n`" + std::string(to_string(v.command)) +
                "` runs from the same env, and this change would break it:\n" +
                finding_lines(v.broken));
        } else {
            out("\n`" + std::string(to_string(v.command)) +
                "` runs from the same env: the change keeps its view working (" +
                (v.imports_checked ? std::to_string(v.imports) + " of its imports run against it"
                                   : "its rules and requirements checked; --deep also runs its "
                                     "imports") +
                ").\n");
        }
    }
    if (broken.empty()) {
        return false;
    }
    const std::string cmd = to_string(r.command);
    if (fo.force) {
        out("--force: changing the env anyway, for every command.\n");
        return false;
    }
    if (!r.request.remove.empty() || r.request.index_url || !r.request.options.empty()) {
        r.refusal = "the change would break " + text::join(broken, ", ") +
                    ", and it cannot go into an overlay for " + cmd +
                    " (an overlay adds versions; it cannot remove distributions or take pip "
                    "options)";
        r.refused = true;
        out("\nRefused: " + r.refusal +
            ". Nothing was changed. Give that command its own env (`env = ...` in its section), "
            "or apply to the env anyway with --force.\n");
        return false;
    }
    const OverlayTarget target = overlay_target(opts, r.command);
    r.overlay = fix::merged_overlay(target.current, requested);
    r.overlay_config = target.config;
    out("\nInstead, " + cmd + " gets these versions in its own overlay (" +
        overlay::overlay_dir(*r.facts.env, cmd).string() + "), ahead of the env for " + cmd +
        " alone; the env itself is not changed, so " + text::join(broken, ", ") +
        " keeps its view. In " + target.config.string() + ":\n    [" + cmd +
        "]\n    overlay = " + toml_string_array(*r.overlay) + "\n");
    return true;
}

// Writes the overlay's config entry and syncs it (the proposal of propose_overlay).
template <typename Out>
int apply_overlay(const cli::Options& opts, FixRun& r, Out&& out) {
    const cli::FixOptions& fo = *opts.fix;
    auto finish = [&](int status) {
        if (fo.json) {
            std::fputs((run_json(r, opts.dry_run).dump(2) + "\n").c_str(), stdout);
        }
        return status;
    };
    const std::string cmd = to_string(r.command);
    std::error_code ec;
    const bool existed = fs::exists(r.overlay_config, ec);
    const std::string old_text = existed ? files::read_all(r.overlay_config) : std::string();
    // Proven before anything is written: the edited file reads back with this overlay.
    const std::string new_text = with_overlay(old_text, r.overlay_config, cmd, *r.overlay);
    if (opts.dry_run) {
        out("\n--dry-run: nothing was changed.\n");
        return finish(0);
    }
    if (!fo.yes) {
        if (!console::stdin_is_terminal()) {
            out("\nNot applied: there is no terminal to ask on. Run again with --yes to write the "
                "overlay and sync it.\n");
            return finish(kFixNeedsYesStatus);
        }
        if (!console::ask("\nWrite this overlay to " + r.overlay_config.string() +
                          " and sync it?")) {
            out("Not applied.\n");
            return finish(1);
        }
    }
    if (existed) {
        // The way back for the config: the file as it was, beside it.
        const fs::path keep = r.overlay_config.string() + ".before-fix";
        if (files::replace_file_atomically(keep, old_text)) {
            throw LaunchError(Stage::Fix, ErrorText{"fix could not save " + keep.string() +
                                                        " (the config as it was), so it changed "
                                                        "nothing.",
                                                    "", "Check that the folder is writable."});
        }
        out("The config as it was is kept in " + keep.string() + ".\n");
    }
    if (files::replace_file_atomically(r.overlay_config, new_text)) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{
                "fix could not write " + r.overlay_config.string() + ", so it changed nothing.", "",
                "Check that the file is writable, or add the lines "
                "above by hand and run `alltalk-launch overlay sync " +
                    cmd + "`."});
    }
    out("Wrote [" + cmd + "] overlay to " + r.overlay_config.string() + ".\n");
    const fix::OverlaySync done = running_pip(fo.json, [&] {
        return fix::sync_overlay(*r.facts.env, cmd, *r.overlay, r.overlay_config.string(),
                                 kPlanTimeoutSeconds, [&](const std::string& line) {
                                     if (!fo.json) {
                                         std::fprintf(stderr, "alltalk-launch: overlay %s: %s\n",
                                                      cmd.c_str(), line.c_str());
                                     }
                                 });
    });
    r.overlay_synced = true;
    out("The overlay of " + cmd + " holds " + std::to_string(done.manifest.distributions.size()) +
        " distributions; the env was not changed. `alltalk-launch overlay remove " + cmd +
        "` and the config line taken out put it back.\n");
    DoctorFacts now = gather(opts, r.command);
    r.after = diagnose_one(now);
    out("\nBefore -> after (" + cmd + "): " + severity_counts(r.before.findings) + " -> " +
        severity_counts(r.after->findings) + ".\n");
    out("Now:\n" + finding_lines(r.after->findings));
    return finish(r.after->has_errors() && r.delta->creates_error() ? 1 : 0);
}

// pip's uninstall stash ("~ttr" for attrs' "attr") that pip could not remove, because another
// program held a file in it (an antivirus scan, OneDrive, an Explorer preview): removed now if
// it can be, else named. Left there, every later pip run warns "Ignoring invalid distribution".
template <typename Out>
void clear_pip_leftovers(const PythonEnv& env, const std::string& undo_id, const Out& out) {
    std::vector<std::string> before;
    try {
        before = fix::read_undo_point(env, undo_id).top_level_before;
    } catch (const LaunchError&) {
        return;
    }
    std::error_code ec;
    for (fs::directory_iterator it(env.site_packages, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = process::to_utf8(it->path().filename());
        if (name.empty() || name[0] != '~' ||
            std::find(before.begin(), before.end(), name) != before.end()) {
            continue;
        }
        std::error_code rec;
        fs::remove_all(it->path(), rec);
        out(rec ? "pip left its temporary folder " + process::to_utf8(it->path()) +
                      " behind, and it cannot be removed yet (" + rec.message() +
                      "): another program holds a file in it (an antivirus scan, OneDrive, an "
                      "Explorer window). Delete it once that program lets go; until then pip "
                      "warns \"Ignoring invalid distribution " +
                      name + "\".\n"
                : "Removed " + process::to_utf8(it->path()) +
                      ", the temporary folder pip could not remove while another program held a "
                      "file in it.\n");
    }
}

int plan_and_apply(const cli::Options& opts) {
    const cli::FixOptions& fo = *opts.fix;
    FixRun r;
    r.command = fo.command.value_or(Command::Server);
    fix::prepare_pip_environment();
    r.facts = gather(opts, r.command);
    const PythonEnv& env = *r.facts.env;
    if (!opts.dry_run) {
        // At once, not after minutes of planning (FixLock::acquire says it again, holding the
        // lock, before pip changes anything).
        fix::refuse_while_running(env.dir, "fix", process::environment());
    }
    std::optional<std::string> pip = fix::pip_version(r.facts.scan);
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
    if (!fix::pip_can_plan(*pip)) {
        if (!offer_pip_upgrade(opts, r, *pip)) {
            return opts.dry_run ? 0 : 1;
        }
        r.facts = gather(opts, r.command);
        pip = fix::pip_version(r.facts.scan);
    }
    if (fo.deep) {
        if (!fo.json) {
            std::fprintf(stderr, "alltalk-launch: importing what %s imports (doctor --deep)\n",
                         to_string(r.command));
        }
        add_deep_check(opts, r.facts);
    }
    r.before = diagnose_one(r.facts);
    r.request = fix::collect(r.before.findings, fo.only, fo.profile, builtin_rules());
    for (const auto& req : fo.install) {
        std::erase_if(r.request.install, [&](const std::string& have) {
            return fix::requirement_key(have) == fix::requirement_key(req);
        });
        r.request.install.push_back(req);
    }
    if (!fo.install.empty()) {
        r.request.from.push_back("--install " + text::join(fo.install, " "));
    }
    if (fo.deep && (fo.only.empty() ||
                    std::find(fo.only.begin(), fo.only.end(), "import-name") != fo.only.end())) {
        r.trials = run_trial_fixes(opts, r.facts, *pip);
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

    const std::string python = process::to_utf8(env.python);
    auto out = [&](const std::string& s) {
        if (!fo.json) {
            std::fputs(s.c_str(), stdout);
            std::fflush(stdout);  // before pip's own output, which goes straight to the terminal
        }
    };
    out("alltalk-launch fix: " + std::string(to_string(r.command)) + ", env " + env.dir.string() +
        " (Python " + env.version.text + ", pip " + *pip + ")\n");
    out("Now: " + severity_counts(r.before.findings) + ".\n");
    for (const auto& m : r.request.manual) {
        out("  not automated: " + m.id + ": " + (m.fix.empty() ? m.action.note : m.fix) + "\n");
    }
    if (r.request.empty()) {
        out("Nothing to fix automatically" +
            std::string(r.before.findings.empty() ? ": the doctor finds nothing.\n" : ".\n"));
        if (fo.json) {
            std::fputs((run_json(r, opts.dry_run).dump(2) + "\n").c_str(), stdout);
        }
        return 0;
    }
    for (const auto& t : r.trials) {
        out(t.version.empty() ? "Trial fix for " + t.target.dist + ": none found (" + t.note + ")\n"
                              : "Trial fix for " + t.target.dist + ": " + t.version + " has " +
                                    text::join(t.target.names, ", ") + " (found in " +
                                    std::to_string(t.trials) + " trials; its imports work)\n");
    }
    out("Fixing: " + text::join(r.request.from, ", ") + "\n");
    if (!fo.json) {
        std::fprintf(stderr,
                     "alltalk-launch: asking the env's pip what would change (pip install "
                     "--dry-run): this changes nothing\n");
    }
    const std::vector<std::string> requested = r.request.install;  // before dependents join
    fix::Plan plan = fix::plan_keeping_dependents(
        env, r.request, r.facts.base_scan, r.facts.markers, kPlanTimeoutSeconds,
        fix::scratch_root(env, opts.dry_run), [&](const std::string& line) {
            if (!fo.json) {
                std::fprintf(stderr, "alltalk-launch: %s\n", line.c_str());
            }
        });
    r.request = std::move(plan.request);
    r.prediction = std::move(plan.prediction);
    for (auto& c : r.prediction->changes) {
        if (c.why == "requested") {
            // Which of the selected findings asked for it.
            std::vector<std::string> by;
            for (const auto& f : r.before.findings) {
                const bool selected = std::find(r.request.from.begin(), r.request.from.end(),
                                                f.id) != r.request.from.end();
                for (const auto& req : f.action.install) {
                    if (selected && fix::requirement_key(req) == c.key &&
                        std::find(by.begin(), by.end(), f.id) == by.end()) {
                        by.push_back(f.id);
                    }
                }
            }
            if (fo.profile) {
                by.push_back("profile " + *fo.profile);
            }
            for (const auto& req : fo.install) {
                if (fix::requirement_key(req) == c.key) {
                    by.push_back("--install");
                }
            }
            if (!by.empty()) {
                c.why = "requested by " + text::join(by, ", ");
            }
        }
        for (const auto& j : plan.joined) {
            if (j.package == c.key) {
                c.why =
                    "kept working: " + j.package + " " + j.version + " requires " + j.requirement;
            }
        }
    }
    for (const auto& u : plan.unkept) {
        out("pip found no release of " + u.package + " that fits the change (" + u.package + " " +
            u.version + " requires " + u.requirement + ").\n");
    }
    for (auto& c : r.prediction->changes) {
        for (const auto& t : r.trials) {
            for (const auto& pin : t.pins) {
                if (c.after && normalize_name(pin.substr(0, pin.find("=="))) == c.key) {
                    c.why = "found by trial: the imports that lack " +
                            text::join(t.target.names, ", ") + " work with it";
                }
            }
        }
    }
    // The command's view after: its overlay, if it has one, over the predicted env.
    const DoctorReport predicted =
        diagnose_one(fix::predicted_facts(r.facts, view_after(r.facts, r.prediction->after)));
    r.delta = fix::compare_findings(diagnose_one(fix::before_facts(r.facts)).findings,
                                    predicted.findings);
    for (const auto& f : r.before.findings) {
        // The deep check's findings are not predicted; one a trial fix proved is fixed.
        const bool by_trial = f.id == "import-name" &&
                              std::any_of(r.trials.begin(), r.trials.end(),
                                          [](const TrialOutcome& t) { return !t.version.empty(); });
        if (by_trial) {
            r.delta->fixed.push_back(f);
        }
    }

    if (r.prediction->changes.empty()) {
        out("pip would change nothing: the requirements already hold.\n");
    } else {
        out("\n" + change_table(*r.prediction));
    }
    out("\nThis fixes:\n" + finding_lines(r.delta->fixed));
    out("It leaves:\n" + finding_lines(r.delta->left));
    out("It creates:\n" + finding_lines(r.delta->created));
    if (r.delta->creates_error()) {
        std::vector<std::string> ids;
        for (const auto& f : r.delta->created) {
            if (f.severity == Severity::Error) {
                ids.push_back(f.id);
            }
        }
        r.refusal = "the change would create " + std::to_string(ids.size()) + " new error" +
                    (ids.size() == 1 ? "" : "s") + " (" + text::join(ids, ", ") + ")";
        r.refused = !fo.force;
    }
    if (r.refused) {
        out("\nRefused: " + r.refusal +
            ". Nothing was changed. Fix fewer findings at a time (--only RULE_ID), or apply it "
            "anyway with --force.\n");
    } else if (!r.refusal.empty()) {
        out("\n--force: applying although " + r.refusal + ".\n");
    }
    if (!r.refused && !r.prediction->changes.empty()) {
        if (propose_overlay(opts, r, requested, out)) {
            return apply_overlay(opts, r, out);
        }
    }
    if (r.refused || opts.dry_run || r.prediction->changes.empty()) {
        if (fo.json) {
            std::fputs((run_json(r, opts.dry_run).dump(2) + "\n").c_str(), stdout);
        }
        if (opts.dry_run && !r.refused && !fo.json) {
            out("\n--dry-run: nothing was changed.\n");
        }
        return r.refused ? 1 : 0;
    }
    if (!fo.yes) {
        if (!console::stdin_is_terminal()) {
            out("\nNot applied: there is no terminal to ask on. Run again with --yes to apply "
                "this plan.\n");
            if (fo.json) {
                std::fputs((run_json(r, false).dump(2) + "\n").c_str(), stdout);
            }
            return kFixNeedsYesStatus;
        }
        if (!console::ask("\nApply this change? An undo point is saved first.")) {
            out("Not applied.\n");
            return 1;
        }
    }

    // Applied with the plan's versions pinned, so that pip installs what was predicted.
    const fs::path constraints =
        fix::state_dir(env) / ("constraints-" + std::to_string(process::current_pid()) + ".txt");
    std::error_code ec;
    fs::create_directories(constraints.parent_path(), ec);
    {
        std::ofstream c(constraints, std::ios::binary);
        c << fix::constraints_text(r.prediction->installs);
        if (!c) {
            throw LaunchError(
                Stage::Fix,
                ErrorText{"fix could not write to " + constraints.parent_path().string() + ".", "",
                          "Check that the env is writable by this user."});
        }
    }
    struct RemoveAfter {
        fs::path p;
        ~RemoveAfter() {
            std::error_code e;
            fs::remove(p, e);
        }
    } remove_after{constraints};
    fix::ApplyRequest a;
    a.env = env;
    a.scan = r.facts.scan;
    a.replaced = r.prediction->replaced;
    a.installs = r.prediction->installs;
    a.summary = "fix " + text::join(r.request.from, ", ");
    if (auto u = fix::uninstall_argv(python, r.request)) {
        a.steps.push_back({*u, "pip uninstall " + text::join(r.request.remove, " ")});
    }
    if (!r.request.install.empty()) {
        std::optional<std::string> uv;
        if (fo.installer == "uv") {
            uv = fix::find_uv(env, cli::discovery_inputs(opts).env_vars);
            if (!uv) {
                throw LaunchError(Stage::Fix,
                                  ErrorText{"--installer uv: no uv was found, in the env (" +
                                                env.bin_dir.string() + ") or on PATH.",
                                            "", "Install uv, or apply with pip (the default)."});
            }
        }
        a.steps.push_back(
            {fix::install_argv(python, r.request, process::to_utf8(constraints), uv),
             (uv ? "uv pip install " : "pip install ") + text::join(r.request.install, " ")});
    }
    const fix::ApplyResult res = running_pip(fo.json, [&] { return fix::apply_fix(a); });
    r.applied = res.ok;
    r.undo_id = res.undo_id;
    if (!res.ok) {
        out("\nThe fix failed at: " + res.failed_step +
            ". Put the env back with: alltalk-launch fix --undo" +
            (res.undo_id.empty() ? "" : " " + res.undo_id) + "\n");
        if (fo.json) {
            std::fputs((run_json(r, false).dump(2) + "\n").c_str(), stdout);
        }
        return 1;
    }
    DoctorFacts now = gather(opts, r.command);
    if (fo.deep) {
        add_deep_check(opts, now);
    }
    r.after = diagnose_one(now);
    r.unpredicted = unpredicted(*r.prediction, now.base_scan);
    out("\nBefore -> after: " + severity_counts(r.before.findings) + " -> " +
        severity_counts(r.after->findings) + ".\n");
    out("Now:\n" + finding_lines(r.after->findings));
    if (r.unpredicted.empty()) {
        out("pip installed exactly what was predicted.\n");
    } else {
        out("Not as predicted:\n    " + text::join(r.unpredicted, "\n    ") + "\n");
    }
    if (!r.undo_id.empty()) {
        clear_pip_leftovers(*r.facts.env, r.undo_id, out);
        out("Undo point " + r.undo_id + ": alltalk-launch fix --undo puts the env back.\n");
    }
    if (fo.json) {
        std::fputs((run_json(r, false).dump(2) + "\n").c_str(), stdout);
    }
    return r.after->has_errors() && r.delta->creates_error() ? 1 : 0;
}

}  // namespace

int run_fix(const cli::Options& opts) {
    if (opts.fix->action != cli::FixOptions::Action::Apply) {
        return run_fix_maintenance(opts);
    }
    try {
        return plan_and_apply(opts);
    } catch (const LaunchError& e) {
        std::fprintf(stderr, "alltalk-launch: error: %s\n", e.what());
        return e.exit_status() == kLaunchFailureStatus ? 2 : e.exit_status();
    }
}

}  // namespace alltalk
