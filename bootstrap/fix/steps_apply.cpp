// The steps from the proposal on: propose, confirm, save undo point, apply, verify
// (fix/workflow.hpp). Each has two ways: into the env with its pip, or into an overlay for the
// command when the change would break another command's view of the env.
#include <algorithm>
#include <fstream>
#include <system_error>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "diagnose/deep_run.hpp"
#include "discover/config_edit.hpp"
#include "discover/overlay.hpp"
#include "fix/overlay.hpp"
#include "fix/pip.hpp"
#include "fix/report.hpp"
#include "fix/state_dir.hpp"
#include "fix/workflow.hpp"
#include "os/durable.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

namespace {

// The other commands' views, each predicted; the names of those the change breaks.
std::vector<std::string> check_views(FixRun& r, const FixSettings& s, const FixContext& c) {
    r.views = shared_views(c.discovery, c.overrides, r.facts);
    const ViewImports imports{s.deep, c.launch_argv, s.dry_run, s.deep_timeout};
    std::vector<std::string> broken;
    for (auto& v : r.views) {
        const std::string name = to_string(v.command);
        if (s.deep) {
            c.say("running what " + name +
                  " imports against the change (a scratch folder; the env is not changed)");
        }
        predict_view(v, *r.prediction, imports);
        if (!v.broken.empty()) {
            broken.push_back(name);
            c.out("\n`" + name + "` runs from the same env, and this change would break it:\n" +
                  finding_lines(v.broken));
            continue;
        }
        c.out("\n`" + name + "` runs from the same env: the change keeps its view working (" +
              (v.imports_checked ? std::to_string(v.imports) + " of its imports run against it"
                                 : "its rules and requirements checked; --deep also runs its "
                                   "imports") +
              ").\n");
    }
    return broken;
}

// The overlay for the command instead of the change to the env: its requirements and the
// config's text with them, proven to read back before anything is written.
void propose_overlay(FixRun& r, const FixSettings& s, const FixContext& c,
                     const std::vector<std::string>& broken) {
    const std::string cmd = to_string(s.command);
    const OverlayTarget target = overlay_target(c.discovery, c.overrides, s.command);
    r.overlay = merged_overlay(target.current, r.requested);
    r.overlay_config = target.config;
    c.out("\nInstead, " + cmd + " gets these versions in its own overlay (" +
          overlay::overlay_dir(*r.facts.env, cmd).string() + "), ahead of the env for " + cmd +
          " alone; the env itself is not changed, so " + text::join(broken, ", ") +
          " keeps its view. In " + target.config.string() + ":\n    [" + cmd +
          "]\n    overlay = " + toml_string_array(*r.overlay) + "\n");
    std::error_code ec;
    r.overlay_existed = fs::exists(r.overlay_config, ec);
    r.overlay_old_text = r.overlay_existed ? files::read_all(r.overlay_config) : std::string();
    r.overlay_new_text = with_overlay(r.overlay_old_text, r.overlay_config, cmd, *r.overlay);
}

// pip's uninstall stash ("~ttr" for attrs' "attr") that pip could not remove, because another
// program held a file in it (an antivirus scan, OneDrive, an Explorer preview): removed now if
// it can be, else named. Left there, every later pip run warns "Ignoring invalid distribution".
void clear_pip_leftovers(const PythonEnv& env, const std::string& undo_id, const FixContext& c) {
    std::vector<std::string> before;
    try {
        before = read_undo_point(env, undo_id).top_level_before;
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
        c.out(rec ? "pip left its temporary folder " + process::to_utf8(it->path()) +
                        " behind, and it cannot be removed yet (" + rec.message() +
                        "): another program holds a file in it (an antivirus scan, OneDrive, an "
                        "Explorer window). Delete it once that program lets go; until then pip "
                        "warns \"Ignoring invalid distribution " +
                        name + "\".\n"
                  : "Removed " + process::to_utf8(it->path()) +
                        ", the temporary folder pip could not remove while another program held "
                        "a file in it.\n");
    }
}

// The status after a change: failed when errors remain that the change was predicted to create.
int outcome_status(const FixRun& r) {
    return r.after->has_errors() && r.delta->creates_error() ? 1 : 0;
}

// The prediction's pins, for pip to install exactly what was predicted.
fs::path write_constraints(const PythonEnv& env, const Prediction& p) {
    const fs::path constraints =
        state_dir(env) / ("constraints-" + std::to_string(process::current_pid()) + ".txt");
    std::error_code ec;
    fs::create_directories(constraints.parent_path(), ec);
    std::ofstream out(constraints, std::ios::binary);
    out << constraints_text(p.installs);
    if (!out) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"fix could not write to " + constraints.parent_path().string() + ".", "",
                      "Check that the env is writable by this user."});
    }
    return constraints;
}

std::optional<std::string> uv_for(const FixRun& r, const FixSettings& s, const FixContext& c) {
    if (s.installer != "uv" || r.request.install.empty()) {
        return std::nullopt;
    }
    const PythonEnv& env = *r.facts.env;
    std::optional<std::string> uv = find_uv(env, c.discovery.env_vars);
    if (!uv) {
        throw LaunchError(Stage::Fix,
                          ErrorText{"--installer uv: no uv was found, in the env (" +
                                        env.bin_dir.string() + ") or on PATH.",
                                    "", "Install uv, or apply with pip (the default)."});
    }
    return uv;
}

void save_config_as_it_was(const FixRun& r, const FixContext& c) {
    if (!r.overlay_existed) {
        return;
    }
    const fs::path keep = r.overlay_config.string() + ".before-fix";
    if (files::replace_file_atomically(keep, r.overlay_old_text)) {
        throw LaunchError(Stage::Fix, ErrorText{"fix could not save " + keep.string() +
                                                    " (the config as it was), so it changed "
                                                    "nothing.",
                                                "", "Check that the folder is writable."});
    }
    c.out("The config as it was is kept in " + keep.string() + ".\n");
}

StepResult apply_overlay(FixRun& r, const FixSettings& s, const FixContext& c) {
    const std::string cmd = to_string(s.command);
    if (files::replace_file_atomically(r.overlay_config, r.overlay_new_text)) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{
                "fix could not write " + r.overlay_config.string() + ", so it changed nothing.", "",
                "Check that the file is writable, or add the lines "
                "above by hand and run `alltalk-launch overlay sync " +
                    cmd + "`."});
    }
    c.out("Wrote [" + cmd + "] overlay to " + r.overlay_config.string() + ".\n");
    OverlaySync done;
    c.around_pip([&] {
        done =
            sync_overlay(*r.facts.env, cmd, *r.overlay, r.overlay_config.string(), s.plan_timeout,
                         [&](const std::string& line) { c.say("overlay " + cmd + ": " + line); });
    });
    r.overlay_synced = true;
    c.out("The overlay of " + cmd + " holds " + std::to_string(done.manifest.distributions.size()) +
          " distributions; the env was not changed. `alltalk-launch overlay remove " + cmd +
          "` and the config line taken out put it back.\n");
    return std::nullopt;
}

StepResult verify_overlay(FixRun& r, const FixSettings& s, const FixContext& c) {
    r.after = diagnose(gather_fix_facts(s.command, c), builtin_rules());
    c.out("\nBefore -> after (" + std::string(to_string(s.command)) + "): " +
          severity_counts(r.before.findings) + " -> " + severity_counts(r.after->findings) + ".\n");
    c.out("Now:\n" + finding_lines(r.after->findings));
    return outcome_status(r);
}

}  // namespace

StepResult propose_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    if (!r.prediction->changes.empty()) {
        const std::vector<std::string> broken = check_views(r, s, c);
        if (!broken.empty() && s.force) {
            c.out("--force: changing the env anyway, for every command.\n");
        } else if (!broken.empty() && (!r.request.remove.empty() || r.request.index_url ||
                                       !r.request.options.empty())) {
            r.refusal = "the change would break " + text::join(broken, ", ") +
                        ", and it cannot go into an overlay for " + to_string(s.command) +
                        " (an overlay adds versions; it cannot remove distributions or take pip "
                        "options)";
            r.refused = true;
            c.out("\nRefused: " + r.refusal +
                  ". Nothing was changed. Give that command its own env (`env = ...` in its "
                  "section), or apply to the env anyway with --force.\n");
            return 1;
        } else if (!broken.empty()) {
            propose_overlay(r, s, c, broken);
        }
    }
    if (s.dry_run) {
        c.out("\n--dry-run: nothing was changed.\n");
        return 0;
    }
    if (!r.overlay && r.prediction->changes.empty()) {
        return 0;
    }
    return std::nullopt;
}

StepResult confirm_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    if (s.yes) {
        return std::nullopt;
    }
    const Answer a =
        c.ask(r.overlay ? "\nWrite this overlay to " + r.overlay_config.string() + " and sync it?"
                        : "\nApply this change? An undo point is saved first.");
    if (a == Answer::NoTerminal) {
        c.out(r.overlay ? "\nNot applied: there is no terminal to ask on. Run again with --yes to "
                          "write the overlay and sync it.\n"
                        : "\nNot applied: there is no terminal to ask on. Run again with --yes to "
                          "apply this plan.\n");
        return kFixNeedsYesStatus;
    }
    if (a == Answer::No) {
        c.out("Not applied.\n");
        return 1;
    }
    return std::nullopt;
}

StepResult save_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    if (r.overlay) {
        save_config_as_it_was(r, c);  // the way back for the config: the file as it was, beside it
        return std::nullopt;
    }
    const PythonEnv& env = *r.facts.env;
    const std::optional<std::string> uv = uv_for(r, s, c);
    r.constraints = write_constraints(env, *r.prediction);
    ApplyRequest a;
    a.env = env;
    a.scan = r.facts.scan;
    a.replaced = r.prediction->replaced;
    a.installs = r.prediction->installs;
    a.summary = "fix " + text::join(r.request.from, ", ");
    a.steps =
        pip_steps(process::to_utf8(env.python), r.request, process::to_utf8(r.constraints), uv);
    r.apply = std::move(a);
    r.saved = save_undo_point(*r.apply);
    return std::nullopt;
}

StepResult apply_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    if (r.overlay) {
        return apply_overlay(r, s, c);
    }
    ApplyResult res;
    c.around_pip([&] { res = run_pip_steps(*r.saved, *r.apply); });
    r.saved.reset();
    r.applied = res.ok;
    r.undo_id = res.undo_id;
    if (!res.ok) {
        c.out("\nThe fix failed at: " + res.failed_step +
              ". Put the env back with: alltalk-launch fix --undo" +
              (res.undo_id.empty() ? "" : " " + res.undo_id) + "\n");
        return 1;
    }
    return std::nullopt;
}

StepResult verify_step(FixRun& r, const FixSettings& s, const FixContext& c) {
    if (r.overlay) {
        return verify_overlay(r, s, c);
    }
    DoctorFacts now = gather_fix_facts(s.command, c);
    if (s.deep) {
        add_deep_check(c.launch_argv, s.deep_timeout, now);
    }
    r.after = diagnose(now, builtin_rules());
    r.unpredicted = unpredicted(*r.prediction, now.base_scan);
    c.out("\nBefore -> after: " + severity_counts(r.before.findings) + " -> " +
          severity_counts(r.after->findings) + ".\n");
    c.out("Now:\n" + finding_lines(r.after->findings));
    c.out(r.unpredicted.empty()
              ? "pip installed exactly what was predicted.\n"
              : "Not as predicted:\n    " + text::join(r.unpredicted, "\n    ") + "\n");
    if (!r.undo_id.empty()) {
        clear_pip_leftovers(*r.facts.env, r.undo_id, c);
        c.out("Undo point " + r.undo_id + ": alltalk-launch fix --undo puts the env back.\n");
    }
    return outcome_status(r);
}

}  // namespace alltalk::fix
