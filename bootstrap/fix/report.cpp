#include "fix/report.hpp"

#include <algorithm>

#include "os/process.hpp"

namespace alltalk::fix {

using json = nlohmann::json;

namespace {

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) {
        s.append(width - s.size(), ' ');
    }
    return s;
}

}  // namespace

std::string severity_counts(const std::vector<Finding>& findings) {
    int errors = 0, warnings = 0;
    for (const auto& f : findings) {
        errors += f.severity == Severity::Error;
        warnings += f.severity == Severity::Warning;
    }
    return std::to_string(errors) + (errors == 1 ? " error, " : " errors, ") +
           std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings");
}

std::string change_table(const Prediction& p) {
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

json run_json(const FixRun& r, const FixSettings& s) {
    json j;
    j["command"] = to_string(s.command);
    j["env"] = r.facts.env ? process::to_utf8(r.facts.env->dir) : "";
    j["dry_run"] = s.dry_run;
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
        j["overlay"] = {{"command", to_string(s.command)},
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

}  // namespace alltalk::fix
