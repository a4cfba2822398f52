#include "diagnose/explain.hpp"

#include <algorithm>
#include <csignal>

namespace alltalk {

namespace {

bool contains(std::string_view hay, std::string_view needle) {
    return !needle.empty() && hay.find(needle) != std::string_view::npos;
}

std::string last_part(std::string_view qualified) {
    std::size_t dot = qualified.rfind('.');
    return std::string(dot == std::string_view::npos ? qualified : qualified.substr(dot + 1));
}

// The names of the distributions a rule's conditions talk about, with their installed versions.
std::string versions_involved(const Rule& r, const InstalledFacts& facts) {
    std::string out;
    for (const auto& c : r.when) {
        std::string_view text = c;
        if (!text.empty() && text.front() == '!') {
            text.remove_prefix(1);
        }
        auto req = pep508::parse_requirement(text);
        if (!req) {
            continue;
        }
        std::string v;
        if (req->key == "python") {
            v = "Python " + facts.python_version;
        } else {
            const Distribution* d = facts.scan ? facts.scan->find(req->key) : nullptr;
            v = d ? d->name + " " + d->version_text : req->name + " not installed";
        }
        if (out.find(v) == std::string::npos) {
            out += (out.empty() ? "" : ", ") + v;
        }
    }
    return out;
}

// "Unsupported global: GLOBAL a.b.C was not an allowed global" -> "a.b.C" (torch's wording).
std::string unsupported_global(std::string_view message) {
    const std::string_view key = "GLOBAL ";
    std::size_t at = message.find(key);
    if (at == std::string_view::npos) {
        return {};
    }
    at += key.size();
    std::size_t end = at;
    while (end < message.size() && message[end] != ' ' && message[end] != '\n' &&
           message[end] != '\'' && message[end] != '"') {
        ++end;
    }
    return std::string(message.substr(at, end - at));
}

const char* kPointer =
    "alltalk-launch: no known cause for this failure. To report it, attach the output of:\n"
    "    alltalk-launch doctor --report alltalk-report.md\n";

}  // namespace

std::string signal_description(int sig) {
    switch (sig) {
        case SIGABRT:
            return "SIGABRT (abort: a library gave up, often after failing to load a native "
                   "library)";
        case SIGSEGV:
            return "SIGSEGV (invalid memory access in native code)";
        case SIGFPE:
            return "SIGFPE (arithmetic error in native code)";
        case SIGILL:
            return "SIGILL (an instruction this CPU does not have: a build for another CPU)";
#ifdef SIGBUS
        case SIGBUS:
            return "SIGBUS (bad memory access, e.g. a truncated file that was mapped)";
#endif
        default:
            return "signal " + std::to_string(sig);
    }
}

const Rule* match_failure(const RuleSet& rules, const FailureInfo& f, const InstalledFacts& facts) {
    const std::string type = last_part(f.exception_type);
    for (const auto& r : rules.rules) {
        if (r.exception_types.empty() && r.patterns.empty() && r.signals.empty()) {
            continue;  // a doctor-only rule
        }
        if (f.signal != 0) {
            if (std::find(r.signals.begin(), r.signals.end(), f.signal) == r.signals.end()) {
                continue;
            }
        } else {
            if (r.exception_types.empty() && r.patterns.empty()) {
                continue;
            }
            if (!r.exception_types.empty() &&
                std::none_of(
                    r.exception_types.begin(), r.exception_types.end(),
                    [&](const std::string& t) { return t == type || t == f.exception_type; })) {
                continue;
            }
            if (!r.patterns.empty() &&
                std::none_of(r.patterns.begin(), r.patterns.end(), [&](const std::string& p) {
                    return contains(f.message, p) || contains(f.traceback, p);
                })) {
                continue;
            }
        }
        if (std::any_of(r.unless.begin(), r.unless.end(), [&](const std::string& p) {
                return contains(f.message, p) || contains(f.traceback, p);
            })) {
            continue;
        }
        if (!all_hold(r.when, facts)) {
            continue;
        }
        return &r;
    }
    return nullptr;
}

std::string explain_failure(const RuleSet& rules, const FailureInfo& f, const InstalledFacts& facts,
                            const std::string& python) {
    std::string out;
    if (f.signal != 0) {
        out += "alltalk-launch: the app was stopped by " + signal_description(f.signal) + ".\n";
    }
    const Rule* r = match_failure(rules, f, facts);
    if (!r) {
        return out + kPointer;
    }
    std::string message = expand(r->message, facts, python);
    std::string fix = expand(r->fix, facts, python);
    const std::string global = unsupported_global(f.message);
    for (std::string* text : {&message, &fix}) {
        for (std::size_t at = text->find("{global}"); at != std::string::npos;
             at = text->find("{global}")) {
            text->replace(at, 8, global.empty() ? "<the class torch names>" : global);
        }
    }
    out += "alltalk-launch: what happened [" + r->id + "]: " + message + "\n";
    if (const std::string v = versions_involved(*r, facts); !v.empty()) {
        out += "alltalk-launch: in this environment: " + v + "\n";
    }
    if (!fix.empty()) {
        out += "alltalk-launch: fix:\n    " + fix + "\n";
    }
    return out;
}

}  // namespace alltalk
