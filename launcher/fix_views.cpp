#include "fix_views.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/files.hpp"
#include "deep_check.hpp"
#include "doctor_cmd.hpp"
#include "fix/plan.hpp"
#include "fix/state_dir.hpp"
#include "fix_trial.hpp"
#include "os/process.hpp"
#include "plan/resolve.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

constexpr Command kCommands[] = {Command::Server, Command::Finetune};

// How long the other command's imports may take against the change, all together.
constexpr double kViewImportsTimeout = 600;

const char* kMarker = "ALLTALK_VIEW_IMPORTS ";

bool same_dir(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return a == b || fs::equivalent(a, b, ec);
}

std::optional<fs::path> overlay_dir_of(const DoctorFacts& f) {
    if (f.overlay && (f.overlay->state == overlay::State::Current ||
                      f.overlay->state == overlay::State::Stale)) {
        return f.overlay->dir;
    }
    return std::nullopt;
}

}  // namespace

std::vector<OtherView> shared_views(const cli::Options& opts, const DoctorFacts& target) {
    std::vector<OtherView> out;
    if (!target.env || target.commands.empty()) {
        return out;
    }
    for (Command c : kCommands) {
        if (c == target.commands.front()) {
            continue;
        }
        DoctorRequest request;
        request.commands = {c};
        request.overrides = opts.request;
        std::vector<DoctorFacts> facts;
        try {
            facts = gather_doctor_facts(request, cli::discovery_inputs(opts), PlanContext{});
        } catch (const LaunchError&) {
            continue;  // it cannot be resolved, so it cannot be broken by this change either
        }
        if (facts.empty() || facts.front().unresolved || !facts.front().env ||
            !same_dir(facts.front().env->dir, target.env->dir)) {
            continue;
        }
        OtherView v;
        v.command = c;
        v.facts = std::move(facts.front());
        out.push_back(std::move(v));
    }
    return out;
}

SiteScan view_after(const DoctorFacts& view, const SiteScan& base_after) {
    if (auto dir = overlay_dir_of(view)) {
        return layered(scan_site_packages(*dir), base_after);
    }
    return base_after;
}

void predict_view(const cli::Options& opts, OtherView& view, const fix::Prediction& p, bool deep) {
    const DoctorReport now = diagnose(fix::before_facts(view.facts), builtin_rules());
    const DoctorReport after = diagnose(
        fix::predicted_facts(view.facts, view_after(view.facts, p.after)), builtin_rules());
    for (const auto& f : fix::compare_findings(now.findings, after.findings).created) {
        if (f.severity == Severity::Error) {
            view.broken.push_back(f);
        }
    }
    if (!deep || p.installs.empty()) {
        return;
    }
    // The imports that work for it now, again with the change ahead of the env.
    add_deep_check(opts, view.facts);
    std::vector<std::string> statements;
    if (view.facts.deep) {
        for (const auto& s : view.facts.deep->steps) {
            if (s.kind == "import" && s.status == StepStatus::Ok && !s.optional &&
                std::find(statements.begin(), statements.end(), s.name) == statements.end()) {
                statements.push_back(s.name);
            }
        }
    }
    view.facts.deep.reset();
    if (statements.empty()) {
        return;
    }
    const PythonEnv& env = *view.facts.env;
    const fix::ScratchDir s(fix::scratch_root(env, opts.dry_run), "view-");
    const fs::path site = s.path() / "site";
    const auto install = fix::target_install_argv(process::to_utf8(env.python),
                                                  process::to_utf8(site), p.installs, true);
    auto status = run_bounded(install, s.path() / "install.log", kViewImportsTimeout);
    if (!status || *status != 0) {
        Finding f;
        f.id = "view-imports";
        f.severity = Severity::Warning;
        f.message = "The change could not be installed into a scratch folder to run " +
                    std::string(to_string(view.command)) +
                    "'s imports against it, so they were not checked.";
        view.broken.push_back(f);
        return;
    }
    // Each statement on its own, so that every one that fails is named.
    std::string code = "import json\n_failed = []\nfor _s in " + nlohmann::json(statements).dump() +
                       ":\n    try:\n        exec(_s, {})\n    except BaseException as _e:\n"
                       "        _failed.append([_s, type(_e).__name__ + ': ' + str(_e)])\n"
                       "print(" +
                       py_literal(kMarker) + " + json.dumps(_failed), flush=True)\n";
    std::vector<fs::path> first;
    if (auto dir = overlay_dir_of(view.facts)) {
        first.push_back(*dir);  // its overlay stays ahead of everything, as at its start
    }
    first.push_back(site);
    std::vector<std::string> run = launch_options_argv(opts, fs::current_path());
    run.insert(run.end(), {"python", "-c", imports_code(first, view.facts.root.root, {code})});
    const fs::path log = s.path() / "imports.log";
    status = run_bounded(run, log, kViewImportsTimeout);
    view.imports_checked = true;
    view.imports = static_cast<int>(statements.size());
    const std::string out = files::read_all(log);
    const auto at = out.rfind(kMarker);
    nlohmann::json failed;
    if (at != std::string::npos) {
        const auto end = out.find('\n', at);
        failed = nlohmann::json::parse(
            out.substr(at + std::string(kMarker).size(),
                       end == std::string::npos ? std::string::npos
                                                : end - at - std::string(kMarker).size()),
            nullptr, false);
    }
    if (!failed.is_array()) {
        Finding f;
        f.id = "view-imports";
        f.severity = Severity::Error;
        f.message = std::string(to_string(view.command)) +
                    "'s imports did not finish against the change (" +
                    (status ? "exit status " + std::to_string(*status) : "out of time") + ").";
        view.broken.push_back(f);
        return;
    }
    for (const auto& item : failed) {
        if (!item.is_array() || item.size() != 2 || !item[0].is_string() || !item[1].is_string()) {
            continue;
        }
        Finding f;
        f.id = "view-import";
        f.severity = Severity::Error;
        f.message = "`" + item[0].get<std::string>() + "` works for " + to_string(view.command) +
                    " now, and fails after the change: " + item[1].get<std::string>();
        view.broken.push_back(f);
    }
}

OverlayTarget overlay_target(const cli::Options& opts, Command command) {
    LaunchRequest request = opts.request;
    request.command = command;
    const CommandResolution r =
        resolve_command(request, cli::discovery_inputs(opts), PlanContext{}, EnvReading::Report);
    OverlayTarget t;
    t.config = r.config_file ? *r.config_file : r.root.root / "alltalk-launch.toml";
    std::error_code ec;
    t.config_exists = fs::exists(t.config, ec);
    t.current = r.overlay();
    return t;
}

}  // namespace alltalk
