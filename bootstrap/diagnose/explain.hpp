#pragma once
// After a failure: which rule (bootstrap/data/rules.toml, shared with the doctor) explains it, and
// the short block printed after the app's own traceback. Pure: the caller supplies the installed
// facts (read lazily, only when something failed).
#include <optional>
#include <string>
#include <string_view>

#include "diagnose/rules.hpp"

namespace alltalk {

struct FailureInfo {
    std::string exception_type;  // qualified, e.g. "_pickle.UnpicklingError"; empty for a signal
    std::string message;         // str(exception)
    std::string traceback;       // the formatted traceback, for patterns and `unless`
    int signal = 0;              // a fatal signal (native crash), else 0
};

// The rule that matches, if any.
const Rule* match_failure(const RuleSet& rules, const FailureInfo& failure,
                          const InstalledFacts& facts);

// The block printed after the traceback: what happened, the installed versions involved, the fix
// as commands for this env; for a failure no rule knows, only the pointer to the doctor's report.
// `python` is the env's python, quoted.
std::string explain_failure(const RuleSet& rules, const FailureInfo& failure,
                            const InstalledFacts& facts, const std::string& python);

// "SIGABRT (abort)", "SIGSEGV (invalid memory access)", ...
std::string signal_description(int signal);

}  // namespace alltalk
