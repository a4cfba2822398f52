#include "fix/views.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/files.hpp"
#include "diagnose/deep_run.hpp"
#include "fix/plan.hpp"
#include "fix/state_dir.hpp"
#include "fix/trial_run.hpp"
#include "os/process.hpp"
#include "plan/resolve.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

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

std::vector<OtherView> shared_views(const DiscoveryInputs& in, const LaunchRequest& overrides,
                                    const DoctorFacts& target) {
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
        request.overrides = overrides;
        std::vector<DoctorFacts> facts;
        try {
            facts = gather_doctor_facts(request, in, PlanContext{});
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

namespace {

Finding view_finding(const char* id, Severity severity, std::string message) {
    Finding f;
    f.id = id;
    f.severity = severity;
    f.message = std::move(message);
    return f;
}

// The imports that work for the view now (its deep check), each once.
std::vector<std::string> working_imports(OtherView& view, const ViewImports& imports) {
    add_deep_check(imports.launch_argv, imports.deep_timeout, view.facts);
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
    return statements;
}

// Python that runs each statement on its own, so that every one that fails is named, and prints
// the failures as one JSON line after kMarker.
std::string each_statement_code(const std::vector<std::string>& statements) {
    return "import json\n_failed = []\nfor _s in " + nlohmann::json(statements).dump() +
           ":\n    try:\n        exec(_s, {})\n    except BaseException as _e:\n"
           "        _failed.append([_s, type(_e).__name__ + ': ' + str(_e)])\n"
           "print(" +
           py_literal(kMarker) + " + json.dumps(_failed), flush=True)\n";
}

// The failures the child printed after kMarker (not an array: it did not finish).
nlohmann::json printed_failures(const std::string& out) {
    const auto at = out.rfind(kMarker);
    if (at == std::string::npos) {
        return nlohmann::json();
    }
    const std::size_t from = at + std::string(kMarker).size();
    const auto end = out.find('\n', at);
    return nlohmann::json::parse(
        out.substr(from, end == std::string::npos ? std::string::npos : end - from), nullptr,
        false);
}

// Runs `statements` for the view with the change's installs in a scratch folder ahead of the
// env (and its overlay ahead of that, as at its start); what fails goes into view.broken.
void run_view_imports(OtherView& view, const Prediction& p, const ViewImports& imports,
                      const std::vector<std::string>& statements) {
    const std::string name = to_string(view.command);
    const PythonEnv& env = *view.facts.env;
    const ScratchDir s(scratch_root(env, imports.dry_run), "view-");
    const fs::path site = s.path() / "site";
    const auto install =
        target_install_argv(process::to_utf8(env.python), process::to_utf8(site), p.installs, true);
    auto status = run_bounded(install, s.path() / "install.log", kViewImportsTimeout);
    if (!status || *status != 0) {
        view.broken.push_back(
            view_finding("view-imports", Severity::Warning,
                         "The change could not be installed into a scratch folder to run " + name +
                             "'s imports against it, so they were not checked."));
        return;
    }
    std::vector<fs::path> first;
    if (auto dir = overlay_dir_of(view.facts)) {
        first.push_back(*dir);
    }
    first.push_back(site);
    std::vector<std::string> run = imports.launch_argv;
    run.insert(run.end(),
               {"python", "-c",
                imports_code(first, view.facts.root.root, {each_statement_code(statements)})});
    const fs::path log = s.path() / "imports.log";
    status = run_bounded(run, log, kViewImportsTimeout);
    view.imports_checked = true;
    view.imports = static_cast<int>(statements.size());
    const nlohmann::json failed = printed_failures(files::read_all(log));
    if (!failed.is_array()) {
        view.broken.push_back(view_finding(
            "view-imports", Severity::Error,
            name + "'s imports did not finish against the change (" +
                (status ? "exit status " + std::to_string(*status) : "out of time") + ")."));
        return;
    }
    for (const auto& item : failed) {
        if (item.is_array() && item.size() == 2 && item[0].is_string() && item[1].is_string()) {
            view.broken.push_back(view_finding(
                "view-import", Severity::Error,
                "`" + item[0].get<std::string>() + "` works for " + name +
                    " now, and fails after the change: " + item[1].get<std::string>()));
        }
    }
}

}  // namespace

void predict_view(OtherView& view, const Prediction& p, const ViewImports& imports) {
    const DoctorReport now = diagnose(before_facts(view.facts), builtin_rules());
    const DoctorReport after =
        diagnose(predicted_facts(view.facts, view_after(view.facts, p.after)), builtin_rules());
    for (const auto& f : compare_findings(now.findings, after.findings).created) {
        if (f.severity == Severity::Error) {
            view.broken.push_back(f);
        }
    }
    if (!imports.run || p.installs.empty()) {
        return;
    }
    // The imports that work for it now, again with the change ahead of the env.
    const std::vector<std::string> statements = working_imports(view, imports);
    if (!statements.empty()) {
        run_view_imports(view, p, imports, statements);
    }
}

OverlayTarget overlay_target(const DiscoveryInputs& in, const LaunchRequest& overrides,
                             Command command) {
    LaunchRequest request = overrides;
    request.command = command;
    const CommandResolution r = resolve_command(request, in, PlanContext{}, EnvReading::Report);
    OverlayTarget t;
    t.config = r.config_file ? *r.config_file : r.root.root / "alltalk-launch.toml";
    std::error_code ec;
    t.config_exists = fs::exists(t.config, ec);
    t.current = r.overlay();
    return t;
}

}  // namespace alltalk::fix
