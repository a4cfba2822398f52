#pragma once
// Known-bad combinations and known failures, as data (bootstrap/data/rules.toml, compiled in and
// parsed only when needed). One rule set serves the doctor (conditions on installed versions) and
// the failure explanations after a crash (exception type and message patterns plus the same
// conditions), so a fact is written once.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/environ.hpp"
#include "base/platform.hpp"
#include "pypa/pep508.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk {

enum class Severity { Error, Warning, Info };

// A fix as data: what `alltalk-launch fix` applies through the env's own pip, and what the
// doctor prints (render_fix), so that the two can never disagree. In a rule, `install` and
// `note` may hold {name} placeholders (installed versions), and `note` also {python} and {arg:X};
// expand_action() replaces them for one env. A finding's action is already expanded.
struct FixAction {
    std::vector<std::string> remove;       // distributions to uninstall first (pip uninstall -y)
    std::vector<std::string> install;      // PEP 508 requirements, resolved by pip with the env
    std::optional<std::string> index_url;  // --index-url (the torch CUDA indexes)
    std::vector<std::string> options;      // further pip install options: flags such as
                                           // --force-reinstall, --no-deps (no values)
    // What cannot be automated (the whole advice when there is nothing to install or remove), or
    // a remark that render_fix() prints in parentheses after the command.
    std::string note;
    // A fix that `alltalk-launch fix` can apply (something to install or remove).
    bool automatable() const { return !install.empty() || !remove.empty(); }
};
const char* to_string(Severity s);

struct Rule {
    std::string id;
    Severity severity = Severity::Warning;
    // Every entry must hold: "name<specifier>" = installed and its version matches (pre-releases
    // included); "!name" = not installed; a marker after ";" restricts it to some platforms.
    // The name "python" stands for the env's Python version. "$A|B": one of these environment
    // variables is set (not empty) in the app's environment; "!$A|B": none is.
    std::vector<std::string> when;
    std::string message;  // what is wrong and why, with {name} placeholders for installed versions
    FixAction action;     // the fix as data ([rule.fix]); render_fix(expand_action(...)) prints it
    bool doctor = true;   // reported by `alltalk-launch doctor` when `when` holds
    // Failure matching (after a crash): the exception's type name (last dotted part) and
    // substrings of its message or of the traceback text; empty = not a failure rule.
    std::vector<std::string> exception_types;
    std::vector<std::string> patterns;
    std::vector<std::string> unless;  // substrings that mean "already explained" (e.g. by a shim)
    std::vector<int> signals;         // fatal signals (native crashes) this rule explains
};

struct Profile {
    std::string id;
    std::string description;
    std::vector<std::string> detect;  // like Rule::when: the profile applies when all hold
    std::vector<std::string> expect;  // requirements the profile's known-good set satisfies
};

struct RuleSet {
    std::vector<Rule> rules;
    std::vector<Profile> profiles;
};

// The compiled-in rules. Throws LaunchError on a broken data file (a build problem).
const RuleSet& builtin_rules();
RuleSet parse_rules(std::string_view toml_text, std::string_view origin);

// What a condition is checked against.
struct InstalledFacts {
    const SiteScan* scan = nullptr;
    std::string python_version;  // "3.11.7"
    pep508::MarkerEnv markers;
    Platform platform = Platform::Posix;  // the env's: how fix commands are quoted
    // The app's environment variables, for "$A|B" conditions (nullptr: none is set).
    const EnvMap* env_vars = nullptr;
    // Facts read from pasted text rather than from an env: a distribution `scan` lacks, an empty
    // python_version, empty markers and "$A|B" are not known (judge() says Unknown), not absent.
    bool partial = false;
};

// The environment variables that "$A|B" conditions of `rules` name.
std::vector<std::string> condition_variables(const RuleSet& rules);

enum class Judgement { Holds, Fails, Unknown, Malformed };

// One condition against the facts; Unknown only where facts.partial.
Judgement judge(std::string_view condition, const InstalledFacts& facts);

// nullopt when the condition text is malformed; an Unknown condition does not hold.
std::optional<bool> condition_holds(std::string_view condition, const InstalledFacts& facts);

// A condition in words, for an explanation that assumes it: "transformers>=4.52" -> "transformers
// is 4.52 or newer", "!torchcodec" -> "torchcodec is not installed". Empty for one that says only
// that a distribution is installed (a pasted failure from it says as much).
std::string condition_in_words(std::string_view condition);
bool all_hold(const std::vector<std::string>& conditions, const InstalledFacts& facts);

// Replaces {python} (quoted env python) and {name} (installed version of `name`, or "not
// installed") in rule texts.
std::string expand(std::string_view text, const InstalledFacts& facts, std::string_view python);

// A rule's action for one env: expand() applied to its requirements and its note.
FixAction expand_action(const FixAction& action, const InstalledFacts& facts,
                        std::string_view python);

// The text the doctor and the failure explanations print for an (expanded) action, each argument
// quoted for `platform`'s shell (text::quote_arg); `python` is the env's python, already quoted:
//   PY -m pip uninstall -y A B   then   PY -m pip install OPTIONS REQ... --index-url URL   (note)
// An action with nothing to install or remove prints its note alone; an empty action, "".
std::string render_fix(const FixAction& action, std::string_view python, Platform platform);

}  // namespace alltalk
