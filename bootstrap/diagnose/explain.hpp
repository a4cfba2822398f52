#pragma once
// After a failure: which rule (bootstrap/data/rules.toml, shared with the doctor) explains it, and
// the short block printed after the app's own traceback. Pure: the caller supplies the installed
// facts (read lazily, only when something failed).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnose/import_failure.hpp"
#include "diagnose/rules.hpp"

namespace alltalk {

struct FailureInfo {
    std::string exception_type;  // qualified, e.g. "_pickle.UnpicklingError"; empty for a signal
    std::string message;         // str(exception)
    std::string traceback;       // the formatted traceback, for patterns and `unless`
    int signal = 0;              // a fatal signal (native crash), else 0
    std::uint32_t exception_code = 0;  // a fatal Windows exception (0xC0000005, ...), else 0
    // A line of text, not an exception (pasted, or logged without a traceback): rules match on
    // their patterns alone, whatever their exception types.
    bool line_only = false;
    // What the process printed to stderr before a native crash, for the pattern rules.
    std::string stderr_tail = {};
};

// A native crash: a fatal signal or a fatal Windows exception.
bool is_native_crash(const FailureInfo& failure);

// The rule that matches, if any. With partial facts (pasted text), a condition that cannot be
// judged does not stop a match; it is added to `assumed` (may be nullptr with complete facts).
const Rule* match_failure(const RuleSet& rules, const FailureInfo& failure,
                          const InstalledFacts& facts, std::vector<std::string>* assumed = nullptr);

// A failure that arrives as text only (a traceback logged as a message, as starlette hands uvicorn
// a lifespan failure): exception_type and message taken from the last exception line of the
// traceback when they are empty.
FailureInfo complete_failure(FailureInfo failure);

// What is known about a failure: a rule's explanation, else the generic one of a failed import.
struct Explanation {
    std::string key;       // what "once per process" counts: the rule id, or the import's key
    std::string id;        // shown in brackets: the rule id, "import-missing", "import-name"
    std::string message;   // what happened
    std::string involved;  // the installed versions the rule talks about; may be empty
    std::string fix;       // may be empty; render_fix(action) where there is an action
    FixAction action;      // the fix as data, expanded for this env
    // Pasted text without an env: the rule's conditions that could not be judged, in words
    // ("transformers is 4.52 or newer"); the message then begins "If ...: ".
    std::vector<std::string> assumed;
};

// The installed files, read only when a failed import is to be explained.
using ModulesReader = std::function<InstalledModules()>;

// nullopt when nothing is known. `modules` may be empty (no import explanation then).
std::optional<Explanation> explain_known(const RuleSet& rules, const FailureInfo& failure,
                                         const InstalledFacts& facts, const std::string& python,
                                         const ModulesReader& modules);

// "alltalk-launch: what happened [id]: ...", the versions involved and the fix.
std::string format_explanation(const Explanation& e);

// The block printed after the traceback: what happened, the installed versions involved, the fix
// as commands for this env; for a failure no rule knows, only the pointer to the doctor's report.
// `python` is the env's python, quoted.
std::string explain_failure(const RuleSet& rules, const FailureInfo& failure,
                            const InstalledFacts& facts, const std::string& python,
                            const ModulesReader& modules = {});

// The pointer printed for a failure nothing explains.
extern const char* const kUnknownFailurePointer;

// "SIGABRT (abort)", "SIGSEGV (invalid memory access)", ...
std::string signal_description(int signal);

// The signal that rules name for a fatal Windows exception, the one the same fault gives on POSIX
// (an access violation or a stack overflow is SIGSEGV, an illegal instruction SIGILL, a division
// by zero SIGFPE); 0 for a code that is not one of these. No allocation: called from the crash
// handler.
int signal_of_exception(std::uint32_t code) noexcept;

// "a Windows access violation (exception 0xC0000005: invalid memory access in native code)", ...
std::string exception_description(std::uint32_t code);

// Whether a child's exit status (as process::Child reports it) is a Windows fatal exception's code
// (an NTSTATUS error: 0xC0000000 and above), not a status the program chose. `platform`: the
// child's (kHostPlatform for a child of this launcher); always false on POSIX.
bool exit_is_windows_exception(int status, Platform platform);

// The argument of `alltalk-launch --explain-signal ARG`: a signal number ("6") or a Windows
// exception code in hex ("0xC0000005"); nullopt for anything else.
std::optional<FailureInfo> parse_fatal_failure(std::string_view arg);

}  // namespace alltalk
