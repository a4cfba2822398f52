#include "diagnose/deep.hpp"

#include <nlohmann/json.hpp>

#include "diagnose/deep_probe_data.hpp"

namespace alltalk {

std::string_view deep_probe_source() {
    return data::kDeepProbe;
}

const char* to_string(StepStatus s) {
    switch (s) {
        case StepStatus::Ok:
            return "ok";
        case StepStatus::Failed:
            return "failed";
        case StepStatus::TimedOut:
            return "timed out";
        case StepStatus::Crashed:
            return "crashed";
    }
    return "?";
}

std::optional<ProbeRecord> parse_probe_record(std::string_view line) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("event")) {
        return std::nullopt;
    }
    auto str = [&](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    ProbeRecord r;
    r.event = str("event");
    r.index = j.value("i", -1);
    r.count = j.value("count", -1);
    DeepStep& s = r.step;
    s.kind = str("kind");
    s.name = str("name");
    s.module = str("module");
    s.file = str("file");
    s.line = j.value("line", 0);
    s.optional = j.value("optional", false);
    s.conditional = j.value("conditional", false);
    s.seconds = j.value("seconds", 0.0);
    s.origin = str("origin");
    s.status = str("status") == "failed" ? StepStatus::Failed : StepStatus::Ok;
    s.failure.exception_type = str("type");
    s.failure.message = str("message");
    s.failure.traceback = str("traceback");
    return r;
}

void explain_steps(DeepCheck& check, const RuleSet& rules, const InstalledFacts& facts,
                   const std::string& python, const ModulesReader& modules) {
    std::optional<InstalledModules> read;
    const ModulesReader once = [&] {
        if (!read) {
            read = modules ? modules() : InstalledModules{};
        }
        return *read;
    };
    for (auto& s : check.steps) {
        if (s.status == StepStatus::Failed ||
            (s.status == StepStatus::Crashed && is_native_crash(s.failure))) {
            s.explanation = explain_known(rules, s.failure, facts, python, once);
        }
    }
}

}  // namespace alltalk
