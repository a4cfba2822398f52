#include "fix/predict.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "pypa/pep508.hpp"
#include "pypa/pip_check.hpp"

namespace alltalk::fix {

namespace {

// Who needs `key` among the distributions of the predicted env that the fix brings in.
std::string needed_by(const std::string& key, const std::vector<ReportItem>& items) {
    std::vector<std::string> who;
    for (const auto& item : items) {
        if (item.dist.key == key) {
            continue;  // its own extras (narwhals[pandas]) do not make it needed
        }
        for (const auto& text : item.dist.requires_dist) {
            auto req = pep508::parse_requirement(text);
            if (req && req->key == key) {
                who.push_back(item.dist.name + " " + item.dist.version_text);
                break;
            }
        }
    }
    if (who.empty()) {
        return "pulled in by pip's resolver";
    }
    std::string out = "needed by ";
    for (std::size_t i = 0; i < who.size(); ++i) {
        out += (i == 0 ? "" : ", ") + who[i];
    }
    return out;
}

// The id under which a finding is the same before and after.
std::string identity(const Finding& f) {
    if (f.id == "requirement-conflict" || f.id == "requirement-missing") {
        return f.id + "|" + f.message;
    }
    return f.id;
}

}  // namespace

Prediction predict(const SiteScan& before, const std::vector<std::string>& remove,
                   const PipReport& report) {
    std::set<std::string> gone;
    for (const auto& name : remove) {
        gone.insert(normalize_name(name));
    }
    std::map<std::string, const ReportItem*> incoming;
    for (const auto& item : report.install) {
        incoming[item.dist.key] = &item;
    }
    Prediction p;
    std::map<std::string, Change> changes;
    for (const auto& d : before.dists) {
        const bool removed = gone.count(d.key) > 0;
        auto in = incoming.find(d.key);
        if (!removed && in == incoming.end()) {
            p.after.dists.push_back(d);
            continue;
        }
        p.replaced.push_back(d.key);
        Change c{d.key, d.name, d.version_text, std::nullopt, "removed by the fix"};
        if (in != incoming.end()) {
            c.after = in->second->dist.version_text;
            c.why = in->second->requested ? "requested" : needed_by(d.key, report.install);
        }
        changes[d.key] = c;
    }
    for (const auto& item : report.install) {
        p.after.dists.push_back(item.dist);
        p.installs.push_back(item.dist.name + "==" + item.dist.version_text);
        if (!changes.count(item.dist.key)) {
            changes[item.dist.key] =
                Change{item.dist.key, item.dist.name, std::nullopt, item.dist.version_text,
                       item.requested ? "requested" : needed_by(item.dist.key, report.install)};
        }
    }
    std::sort(p.after.dists.begin(), p.after.dists.end(),
              [](const Distribution& a, const Distribution& b) { return a.key < b.key; });
    p.after.problems = before.problems;
    for (auto& [key, c] : changes) {
        p.changes.push_back(std::move(c));
    }
    return p;
}

std::vector<Conflict> broken_dependents(const SiteScan& before, const Prediction& p,
                                        const pep508::MarkerEnv& markers,
                                        const std::vector<std::string>& requested) {
    std::set<std::string> changed, asked(requested.begin(), requested.end());
    for (const auto& c : p.changes) {
        changed.insert(c.key);
    }
    const CheckResult was = check_requirements(before, markers);
    const CheckResult is = check_requirements(p.after, markers);
    std::vector<Conflict> out;
    for (const auto& c : is.conflicts) {
        const bool old =
            std::any_of(was.conflicts.begin(), was.conflicts.end(), [&](const Conflict& b) {
                return b.package == c.package && b.requirement == c.requirement;
            });
        if (old || !changed.count(c.dependency) || asked.count(c.package) ||
            !before.find(c.package) || std::any_of(out.begin(), out.end(), [&](const Conflict& o) {
                return o.package == c.package;
            })) {
            continue;
        }
        out.push_back(c);
    }
    return out;
}

bool FindingDelta::creates_error() const {
    return std::any_of(created.begin(), created.end(),
                       [](const Finding& f) { return f.severity == Severity::Error; });
}

FindingDelta compare_findings(const std::vector<Finding>& before,
                              const std::vector<Finding>& after) {
    std::set<std::string> was, is;
    for (const auto& f : before) {
        was.insert(identity(f));
    }
    for (const auto& f : after) {
        is.insert(identity(f));
    }
    FindingDelta d;
    for (const auto& f : before) {
        if (!is.count(identity(f))) {
            d.fixed.push_back(f);
        }
    }
    for (const auto& f : after) {
        (was.count(identity(f)) ? d.left : d.created).push_back(f);
    }
    return d;
}

DoctorFacts before_facts(const DoctorFacts& facts) {
    DoctorFacts f = facts;
    f.deep.reset();
    return f;
}

DoctorFacts predicted_facts(const DoctorFacts& facts, const SiteScan& after) {
    DoctorFacts f = before_facts(facts);
    f.scan = after;
    return f;
}

}  // namespace alltalk::fix
