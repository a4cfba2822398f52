#include "fix/workflow.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "base/error.hpp"
#include "base/text.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

FixRun::~FixRun() {
    if (!constraints.empty()) {
        std::error_code ec;
        fs::remove(constraints, ec);
    }
}

const std::vector<NamedStep>& fix_steps() {
    static const std::vector<NamedStep> steps = {
        {"gather", gather_step},        {"plan", plan_step},       {"predict", predict_step},
        {"check", check_step},          {"propose", propose_step}, {"confirm", confirm_step},
        {"save undo point", save_step}, {"apply", apply_step},     {"verify", verify_step},
    };
    return steps;
}

int run_fix_steps(FixRun& r, const FixSettings& s, const FixContext& c,
                  const std::vector<NamedStep>& steps) {
    for (const auto& step : steps) {
        if (const StepResult status = step.run(r, s, c)) {
            return *status;
        }
    }
    return 0;
}

DoctorFacts gather_fix_facts(Command command, const FixContext& c) {
    DoctorRequest request;
    request.commands = {command};
    request.overrides = c.overrides;
    std::vector<DoctorFacts> facts = gather_doctor_facts(request, c.discovery, PlanContext{});
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

namespace {

// The findings selected for the fix that ask for `key`.
std::vector<std::string> findings_asking_for(const std::string& key, const FixRun& r) {
    std::vector<std::string> by;
    for (const auto& f : r.before.findings) {
        const bool selected =
            std::find(r.request.from.begin(), r.request.from.end(), f.id) != r.request.from.end();
        for (const auto& req : f.action.install) {
            if (selected && requirement_key(req) == key &&
                std::find(by.begin(), by.end(), f.id) == by.end()) {
                by.push_back(f.id);
            }
        }
    }
    return by;
}

}  // namespace

void attribute_changes(Prediction& p, const Plan& plan, const FixRun& r, const FixSettings& s) {
    for (auto& c : p.changes) {
        if (c.why == "requested") {
            std::vector<std::string> by = findings_asking_for(c.key, r);
            if (s.profile) {
                by.push_back("profile " + *s.profile);
            }
            for (const auto& req : s.install) {
                if (requirement_key(req) == c.key) {
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
        for (const auto& t : r.trials) {
            for (const auto& pin : t.pins) {
                if (c.after && normalize_name(pin.substr(0, pin.find("=="))) == c.key) {
                    c.why = "found by trial: the imports that lack " +
                            text::join(t.target.names, ", ") + " work with it";
                }
            }
        }
    }
}

std::string refusal_for(const FindingDelta& d) {
    if (!d.creates_error()) {
        return "";
    }
    std::vector<std::string> ids;
    for (const auto& f : d.created) {
        if (f.severity == Severity::Error) {
            ids.push_back(f.id);
        }
    }
    return "the change would create " + std::to_string(ids.size()) + " new error" +
           (ids.size() == 1 ? "" : "s") + " (" + text::join(ids, ", ") + ")";
}

std::vector<std::string> unpredicted(const Prediction& p, const SiteScan& now) {
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

std::vector<PipStep> pip_steps(const std::string& python, const FixRequest& request,
                               const std::string& constraints,
                               const std::optional<std::string>& uv) {
    std::vector<PipStep> steps;
    if (auto u = uninstall_argv(python, request)) {
        steps.push_back({*u, "pip uninstall " + text::join(request.remove, " ")});
    }
    if (!request.install.empty()) {
        steps.push_back(
            {install_argv(python, request, constraints, uv),
             (uv ? "uv pip install " : "pip install ") + text::join(request.install, " ")});
    }
    return steps;
}

}  // namespace alltalk::fix
