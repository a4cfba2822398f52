#pragma once
// `alltalk-launch doctor --deep`: what the command imports at start, imported in a child prepared
// exactly as the launch (diagnose/deep_run.cpp runs it; the probe is
// python_shims/alltalk_launch_deep_probe.py). Here: the probe's records read into values, and
// the findings they make (pure), each failure explained by the same rules and generic import
// explanation as a failure after a traceback.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnose/explain.hpp"

namespace alltalk {

// The probe, compiled in (python_shims/alltalk_launch_deep_probe.py).
std::string_view deep_probe_source();

enum class StepStatus { Ok, Failed, TimedOut, Crashed };
const char* to_string(StepStatus s);

struct DeepStep {
    std::string kind = "import";  // "import", "gpu" (torch.cuda), "read" (a script unreadable)
    std::string name;             // the statement, e.g. "from TTS.api import TTS"
    std::string module;           // the module it imports
    std::string file;             // the script the statement is in ("" for the added imports)
    int line = 0;
    bool optional = false;     // in a `try` that catches ImportError (the script copes)
    bool conditional = false;  // in a module-level `if`
    StepStatus status = StepStatus::Ok;
    double seconds = 0;
    std::string origin;  // the imported module's file
    FailureInfo failure;
    int exit_status = 0;  // Crashed: how the process ended
    std::optional<Explanation> explanation;
    // Set where the step ran in a further command's own child (diagnose/deep_run.cpp): that one.
    std::string command;
};

// A further command whose start's imports the deep check's child runs too: its name and script.
struct DeepAlso {
    std::string command;
    std::filesystem::path script;
};

struct DeepCheck {
    double timeout_s = 60;
    std::vector<DeepStep> steps;
    // The child ended before running any step (the launch itself failed): its output's end.
    std::optional<std::string> launch_error;
    int launch_status = 0;
    double seconds = 0;  // the whole check, wall time
    // The further commands whose start's imports the same child ran (they launch alike).
    std::vector<DeepAlso> also;
};

// The probe's JSON records, in order (results.jsonl). `count` is set from the "steps" record;
// `done` when the probe finished. Returns false for a line that is not a record.
struct ProbeRecord {
    std::string event;  // "steps", "begin", "end", "done"
    int index = -1;
    int count = -1;
    DeepStep step;
};
std::optional<ProbeRecord> parse_probe_record(std::string_view line);

// Explains each failed step (rules, then the generic import explanation).
void explain_steps(DeepCheck& check, const RuleSet& rules, const InstalledFacts& facts,
                   const std::string& python, const ModulesReader& modules);

}  // namespace alltalk
