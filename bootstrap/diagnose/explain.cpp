#include "diagnose/explain.hpp"

#include <algorithm>
#include <csignal>

#include "base/text.hpp"

namespace alltalk {

namespace {

bool contains(std::string_view hay, std::string_view needle) {
    return !needle.empty() && hay.find(needle) != std::string_view::npos;
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
        if (judge(c, facts) == Judgement::Unknown) {
            continue;  // pasted text that does not say
        }
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

}  // namespace

const char* const kUnknownFailurePointer =
    "alltalk-launch: no known cause for this failure. To report it, attach the output of:\n"
    "    alltalk-launch doctor --report alltalk-report.md\n";

bool is_native_crash(const FailureInfo& f) {
    return f.signal != 0 || f.exception_code != 0;
}

namespace {

struct WindowsException {
    std::uint32_t code;
    int signal;        // what the C runtime's signal() calls it
    const char* name;  // as faulthandler names it ("Windows fatal exception: access violation")
    const char* what;
};

// The fatal exceptions of native code (ntstatus.h), and what each usually means here.
constexpr WindowsException kWindowsExceptions[] = {
    {0xC0000005u, SIGSEGV, "access violation", "invalid memory access in native code"},
    {0xC0000006u, SIGSEGV, "page error",
     "a mapped file could not be read, e.g. a truncated DLL or a file on a lost network drive"},
    {0xC00000FDu, SIGSEGV, "stack overflow",
     "native code used up its thread's stack, usually by endless recursion"},
    {0xC000001Du, SIGILL, "illegal instruction",
     "an instruction this CPU does not have: a build for another CPU"},
    {0xC0000096u, SIGILL, "privileged instruction", "native code ran an instruction it may not"},
    {0xC0000094u, SIGFPE, "integer divide by zero", "arithmetic error in native code"},
    {0xC0000095u, SIGFPE, "integer overflow", "arithmetic error in native code"},
    {0xC000008Eu, SIGFPE, "float divide by zero", "arithmetic error in native code"},
    {0xC0000091u, SIGFPE, "float overflow", "arithmetic error in native code"},
    {0xC0000090u, SIGFPE, "invalid float operation", "arithmetic error in native code"},
    // abort() and std::terminate in the MSVC runtime end in __fastfail: the Windows form of
    // SIGABRT (a library gave up, as cuDNN and ctranslate2 do after a DLL failed to load).
    {0xC0000409u, SIGABRT, "fast fail",
     "native code stopped the process on purpose (abort, __fastfail): a library gave up, often "
     "after failing to load a DLL"},
};

const WindowsException* windows_exception(std::uint32_t code) noexcept {
    for (const auto& e : kWindowsExceptions) {
        if (e.code == code) {
            return &e;
        }
    }
    return nullptr;
}

std::string hex8(std::uint32_t v) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out = "0x";
    for (int shift = 28; shift >= 0; shift -= 4) {
        out += digits[(v >> shift) & 0xFu];
    }
    return out;
}

}  // namespace

int signal_of_exception(std::uint32_t code) noexcept {
    const WindowsException* e = windows_exception(code);
    return e ? e->signal : 0;
}

bool exit_is_windows_exception(int status, Platform platform) {
    return platform == Platform::Windows &&
           (static_cast<std::uint32_t>(status) & 0xC0000000u) == 0xC0000000u;
}

std::string exception_description(std::uint32_t code) {
    if (const WindowsException* e = windows_exception(code)) {
        return std::string("a Windows ") + e->name + " (exception " + hex8(code) + ": " + e->what +
               ")";
    }
    return "Windows exception " + hex8(code);
}

std::optional<FailureInfo> parse_fatal_failure(std::string_view arg) {
    FailureInfo f;
    if (arg.size() > 2 && arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X')) {
        if (arg.size() > 10) {
            return std::nullopt;
        }
        std::uint32_t code = 0;
        for (char c : arg.substr(2)) {
            const int d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (d < 0) {
                return std::nullopt;
            }
            code = code << 4 | static_cast<std::uint32_t>(d);
        }
        if (code == 0) {
            return std::nullopt;
        }
        f.exception_code = code;
        return f;
    }
    if (arg.empty() || arg.size() > 3) {
        return std::nullopt;
    }
    int sig = 0;
    for (char c : arg) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        sig = sig * 10 + (c - '0');
    }
    if (sig <= 0 || sig > 128) {
        return std::nullopt;
    }
    f.signal = sig;
    return f;
}

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

const Rule* match_failure(const RuleSet& rules, const FailureInfo& f, const InstalledFacts& facts,
                          std::vector<std::string>* assumed) {
    const std::string type = text::last_dotted_part(f.exception_type);
    const auto in_text = [&](const std::string& p) {
        return contains(f.message, p) || contains(f.traceback, p);
    };
    for (const auto& r : rules.rules) {
        if (r.exception_types.empty() && r.patterns.empty() && r.signals.empty()) {
            continue;  // a doctor-only rule
        }
        if (is_native_crash(f)) {
            const int sig = f.signal != 0 ? f.signal : signal_of_exception(f.exception_code);
            if (std::find(r.signals.begin(), r.signals.end(), sig) == r.signals.end()) {
                continue;
            }
        } else if (f.line_only) {
            if (r.patterns.empty() || std::none_of(r.patterns.begin(), r.patterns.end(), in_text)) {
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
                std::none_of(r.patterns.begin(), r.patterns.end(), in_text)) {
                continue;
            }
        }
        if (std::any_of(r.unless.begin(), r.unless.end(), in_text)) {
            continue;
        }
        std::vector<std::string> unknown;
        bool holds = true;
        for (const auto& c : r.when) {
            const Judgement j = judge(c, facts);
            if (j == Judgement::Unknown) {
                unknown.push_back(c);
            } else if (j != Judgement::Holds) {
                holds = false;
                break;
            }
        }
        if (!holds || (!unknown.empty() && !assumed)) {
            continue;
        }
        if (assumed) {
            *assumed = std::move(unknown);
        }
        return &r;
    }
    return nullptr;
}

FailureInfo complete_failure(FailureInfo f) {
    if (!f.exception_type.empty() || f.traceback.empty() || is_native_crash(f)) {
        return f;
    }
    const std::size_t from = f.traceback.rfind("Traceback (most recent call last):");
    if (from == std::string::npos) {
        return f;
    }
    // After the frames (indented), the first line that is not indented: "Type: message".
    std::size_t pos = f.traceback.find('\n', from);
    while (pos != std::string::npos && pos + 1 < f.traceback.size()) {
        const std::size_t start = pos + 1;
        const char c = f.traceback[start];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            std::string rest = f.traceback.substr(start);
            while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) {
                rest.pop_back();
            }
            const std::size_t colon = rest.find(": ");
            const std::size_t eol = rest.find('\n');
            if (colon != std::string::npos && (eol == std::string::npos || colon < eol)) {
                f.exception_type = rest.substr(0, colon);
                f.message = rest.substr(colon + 2);
            } else {
                f.exception_type = rest.substr(0, eol);
            }
            return f;
        }
        pos = f.traceback.find('\n', start);
    }
    return f;
}

namespace {

Explanation from_rule(const Rule& r, const FailureInfo& f, const InstalledFacts& facts,
                      const std::string& python, std::vector<std::string> assumed) {
    Explanation e;
    e.key = e.id = r.id;
    // {global} first: expand() would take it for a distribution's name.
    std::string message = r.message;
    FixAction action = r.action;
    const std::string global = unsupported_global(f.message);
    for (std::string* text : {&message, &action.note}) {
        for (std::size_t at = text->find("{global}"); at != std::string::npos;
             at = text->find("{global}")) {
            text->replace(at, 8, global.empty() ? "<the class torch names>" : global);
        }
    }
    e.message = expand(message, facts, python);
    e.action = expand_action(action, facts, python);
    e.fix = render_fix(e.action, python, facts.platform);
    e.involved = versions_involved(r, facts);
    for (const auto& c : assumed) {
        std::string words = condition_in_words(c);
        if (!words.empty()) {
            e.assumed.push_back(std::move(words));
        }
    }
    if (!e.assumed.empty()) {
        std::string lead = "If " + e.assumed.front();
        for (std::size_t i = 1; i < e.assumed.size(); ++i) {
            lead += (i + 1 == e.assumed.size() ? ", and " : ", ") + e.assumed[i];
        }
        e.message = lead + ": " + e.message;
    }
    return e;
}

}  // namespace

std::optional<Explanation> explain_known(const RuleSet& rules, const FailureInfo& f,
                                         const InstalledFacts& facts, const std::string& python,
                                         const ModulesReader& modules) {
    std::vector<std::string> assumed;
    std::vector<std::string>* assume = facts.partial ? &assumed : nullptr;
    if (is_native_crash(f) && !f.stderr_tail.empty()) {
        // What the process printed before it died (cuDNN's and ctranslate2's own reasons) says
        // more than the signal does.
        FailureInfo printed;
        printed.line_only = true;
        printed.message = printed.traceback = f.stderr_tail;
        if (const Rule* r = match_failure(rules, printed, facts, assume)) {
            return from_rule(*r, printed, facts, python, assumed);
        }
    }
    if (const Rule* r = match_failure(rules, f, facts, assume)) {
        return from_rule(*r, f, facts, python, assumed);
    }
    if (!modules || is_native_crash(f)) {
        return std::nullopt;
    }
    auto failure = parse_import_failure(f);
    if (!failure) {
        return std::nullopt;
    }
    auto imp = explain_import_failure(*failure, modules(), facts, python);
    if (!imp) {
        return std::nullopt;
    }
    return Explanation{imp->key, imp->id, imp->message, "", imp->fix, imp->action, {}};
}

std::string format_explanation(const Explanation& e) {
    std::string out = "alltalk-launch: what happened [" + e.id + "]: " + e.message + "\n";
    if (!e.involved.empty()) {
        out += "alltalk-launch: in this environment: " + e.involved + "\n";
    }
    if (!e.fix.empty()) {
        out += "alltalk-launch: fix:\n    " + e.fix + "\n";
    }
    return out;
}

std::string explain_failure(const RuleSet& rules, const FailureInfo& f, const InstalledFacts& facts,
                            const std::string& python, const ModulesReader& modules) {
    std::string out;
    if (f.exception_code != 0) {
        out += "alltalk-launch: the app was stopped by " + exception_description(f.exception_code) +
               ".\n";
    } else if (f.signal != 0) {
        out += "alltalk-launch: the app was stopped by " + signal_description(f.signal) + ".\n";
    }
    auto e = explain_known(rules, f, facts, python, modules);
    return out + (e ? format_explanation(*e) : std::string(kUnknownFailurePointer));
}

}  // namespace alltalk
