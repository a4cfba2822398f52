#pragma once
// Reading text that users paste or that the app printed: a console log, a traceback, AllTalk's
// log file, pip's output. Pure: the text in, the failures it holds and the facts it states out.
// Tolerant of what copying does to a console: "\r\n" and lone "\r", ANSI colours, a prefix before
// every line (docker compose's "app-1  | ", a logger's "ERROR | root | "), lines that the
// terminal cut (continued unindented). Linear in the text, so that a 50 MB log reads in well
// under a second: every needle (the rules' patterns, the version names, the traceback marker) is
// found in one pass over the whole text, not line by line.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "diagnose/explain.hpp"

namespace alltalk {

// One exception of a traceback as Python prints it ("Type: message" after the frames).
struct PastedException {
    std::size_t line = 0;  // 1-based line of its "Traceback (most recent call last):"
    FailureInfo failure;   // type, message, and its own frames as `traceback`
};

// A failure found in the text.
struct PastedFailure {
    std::size_t line = 0;       // 1-based line where it starts
    std::size_t last_line = 0;  // where it ends
    // A traceback's chain, the first cause first ("During handling of the above exception" /
    // "The above exception was the direct cause"): the last is the one that reached the top.
    // Empty for a failure that is a line of its own.
    std::vector<PastedException> chain;
    // The failure as the matcher sees it: a traceback's last exception with the whole block as
    // its traceback text (as the live hooks see it), or the line itself (FailureInfo::line_only).
    FailureInfo failure;
    std::string headline;  // what the user would recognise: "NameError: name 'x' is ...", the line
};

// What the text itself says about the env it came from.
struct PastedFacts {
    std::map<std::string, std::string> versions;  // normalised name -> version ("torch" -> "2.2.1")
    std::string python_version;  // "3.11" from paths, "3.11.9" from "Python 3.11.9"
    enum class Os { Unknown, Windows, Linux, MacOS } os = Os::Unknown;
};

struct PastedText {
    std::vector<PastedFailure> failures;  // in the order of the text
    PastedFacts facts;
    std::size_t lines = 0;
};

// ANSI escapes removed, "\r\n" and lone "\r" made "\n".
std::string normalize_console_text(std::string_view text);

// `patterns`: substrings whose lines (outside tracebacks) are failures of their own, e.g. every
// rule's failure patterns (failure_patterns()). `names`: the distributions whose versions the text
// may state ("torch 2.2.1", "torch==2.2.1"), e.g. every name the rules' conditions use.
PastedText read_pasted(std::string_view text, const std::vector<std::string>& patterns,
                       const std::vector<std::string>& names);

// The traceback chain in a traceback text (one block, as traceback.format_exception gives it),
// the first cause first; empty when the text holds no "Traceback (most recent call last):".
std::vector<PastedException> traceback_chain(std::string_view traceback);

// The rules' failure patterns, and the names of the distributions their conditions use.
std::vector<std::string> failure_patterns(const RuleSet& rules);
std::vector<std::string> condition_names(const RuleSet& rules);

}  // namespace alltalk
