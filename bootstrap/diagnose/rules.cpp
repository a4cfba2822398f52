#include "diagnose/rules.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <csignal>

#include "base/error.hpp"
#include "base/text.hpp"
#include "diagnose/rules_data.hpp"

namespace alltalk {

const char* to_string(Severity s) {
    switch (s) {
        case Severity::Error:
            return "error";
        case Severity::Warning:
            return "warning";
        case Severity::Info:
            return "info";
    }
    return "?";
}

namespace {

std::string where(std::string_view origin, const toml::node& node) {
    return std::string(origin) + ":" + std::to_string(node.source().begin.line);
}

std::vector<std::string> strings(const toml::table& t, const char* key, std::string_view origin) {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) {
        return out;
    }
    if (const auto* s = n->as_string()) {
        out.push_back(s->get());
        return out;
    }
    const auto* arr = n->as_array();
    if (!arr) {
        throw LaunchError(Stage::Rules,
                          where(origin, *n) + ": " + key + " must be a list of strings");
    }
    for (const auto& item : *arr) {
        const auto* s = item.as_string();
        if (!s) {
            throw LaunchError(Stage::Rules,
                              where(origin, item) + ": " + key + " must be a list of strings");
        }
        out.push_back(s->get());
    }
    return out;
}

std::string string(const toml::table& t, const char* key, std::string_view origin, bool required) {
    const toml::node* n = t.get(key);
    if (!n) {
        if (required) {
            throw LaunchError(Stage::Rules, std::string(origin) + ": a rule lacks `" + key + "`");
        }
        return {};
    }
    const auto* s = n->as_string();
    if (!s) {
        throw LaunchError(Stage::Rules, where(origin, *n) + ": " + key + " must be a string");
    }
    return s->get();
}

// The names between braces in `text`: "coqpit-config=={coqpit-config}" -> {"coqpit-config"}.
std::vector<std::string> placeholders(std::string_view text) {
    std::vector<std::string> out;
    for (std::size_t i = text.find('{'); i != std::string_view::npos; i = text.find('{', i + 1)) {
        const std::size_t close = text.find('}', i);
        if (close == std::string_view::npos) {
            break;
        }
        out.emplace_back(text.substr(i + 1, close - i - 1));
        i = close;
    }
    return out;
}

// The distributions that `when` requires installed ("name<spec>" without '!' or '$').
std::vector<std::string> required_installed(const std::vector<std::string>& when) {
    std::vector<std::string> out;
    for (const auto& c : when) {
        const std::string_view t = text::trim(c);
        if (t.empty() || t.front() == '!' || t.front() == '$') {
            continue;
        }
        if (auto req = pep508::parse_requirement(t)) {
            out.push_back(req->key);
        }
    }
    return out;
}

// pip install flags (no value) that a fix may use; values go through their own keys (index_url).
constexpr std::string_view kFixOptions[] = {
    "--force-reinstall",    "--no-deps",         "--upgrade", "--pre", "--no-cache-dir",
    "--no-build-isolation", "--ignore-installed"};

// A [rule.fix] table. Strict: unknown keys and requirements that are not PEP 508 are errors, so
// that what `alltalk-launch fix` applies is checked when the data is built.
FixAction parse_fix(const toml::table& t, const Rule& r, std::string_view origin) {
    const std::string at = where(origin, t) + ": rule " + r.id + ": [rule.fix] ";
    auto fail = [&](const std::string& why) { throw LaunchError(Stage::Rules, at + why); };
    for (const auto& [key, value] : t) {
        const std::string_view k = key.str();
        if (k != "install" && k != "remove" && k != "index_url" && k != "options" && k != "note") {
            fail("has an unknown key `" + std::string(k) +
                 "` (install, remove, index_url, options, note)");
        }
    }
    FixAction a;
    try {
        a.install = strings(t, "install", origin);
        a.remove = strings(t, "remove", origin);
        a.options = strings(t, "options", origin);
        a.note = string(t, "note", origin, false);
        if (t.get("index_url")) {
            a.index_url = string(t, "index_url", origin, false);
        }
    } catch (const LaunchError& e) {  // a value of the wrong type: name the rule too
        throw LaunchError(Stage::Rules, e.text().what + " (rule " + r.id + ", [rule.fix])");
    }
    const auto installed = required_installed(r.when);
    for (const auto& req : a.install) {
        // The shape with each {name} replaced by a version; only installed versions that the
        // rule's conditions guarantee can be placed in a requirement.
        std::string shape = req;
        for (const auto& name : placeholders(req)) {
            if (std::find(installed.begin(), installed.end(), normalize_name(name)) ==
                installed.end()) {
                fail("install '" + req + "': {" + name +
                     "} is not a distribution that the rule's `when` requires installed");
            }
            const std::string ph = "{" + name + "}";
            shape.replace(shape.find(ph), ph.size(), "1.0");
        }
        std::string error;
        if (!pep508::parse_requirement(shape, &error)) {
            fail("install '" + req + "' is not a PEP 508 requirement: " + error);
        }
    }
    for (const auto& name : a.remove) {
        auto req = pep508::parse_requirement(name);
        if (!req || req->text != req->name) {
            fail("remove '" + name + "' is not a distribution name");
        }
    }
    for (const auto& o : a.options) {
        if (std::find(std::begin(kFixOptions), std::end(kFixOptions), o) == std::end(kFixOptions)) {
            fail("option '" + o + "' is not one of the pip install flags a fix may use");
        }
    }
    if (a.index_url &&
        ((!a.index_url->starts_with("https://") && !a.index_url->starts_with("http://")) ||
         a.index_url->find_first_of(" \t\n\"'{}") != std::string::npos)) {
        fail("index_url '" + *a.index_url + "' is not a URL");
    }
    if (a.install.empty() && (a.index_url || !a.options.empty())) {
        fail("index_url and options need something to install");
    }
    if (!a.automatable() && a.note.empty()) {
        fail("is empty (install, remove or note)");
    }
    if (a.automatable() && a.note.starts_with("(")) {
        fail("note: written without parentheses (the command's remark gets them when printed)");
    }
    return a;
}

int signal_number(const std::string& name) {
    if (name == "SIGABRT") {
        return SIGABRT;
    }
    if (name == "SIGSEGV") {
        return SIGSEGV;
    }
    if (name == "SIGFPE") {
        return SIGFPE;
    }
    if (name == "SIGILL") {
        return SIGILL;
    }
#ifdef SIGBUS
    if (name == "SIGBUS") {
        return SIGBUS;
    }
#endif
    return 0;
}

}  // namespace

RuleSet parse_rules(std::string_view toml_text, std::string_view origin) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        throw LaunchError(Stage::Rules, std::string(origin) + ":" +
                                            std::to_string(e.source().begin.line) + ": " +
                                            std::string(e.description()));
    }
    RuleSet set;
    if (const auto* arr = doc["rule"].as_array()) {
        for (const auto& node : *arr) {
            const auto* t = node.as_table();
            if (!t) {
                continue;
            }
            Rule r;
            r.id = string(*t, "id", origin, true);
            const std::string sev = string(*t, "severity", origin, false);
            r.severity = sev == "error"  ? Severity::Error
                         : sev == "info" ? Severity::Info
                                         : Severity::Warning;
            r.when = strings(*t, "when", origin);
            r.message = string(*t, "message", origin, true);
            if (const toml::node* fix = t->get("fix")) {
                const auto* ft = fix->as_table();
                if (!ft) {
                    throw LaunchError(Stage::Rules, where(origin, *fix) + ": rule " + r.id +
                                                        ": fix must be a [rule.fix] table");
                }
                r.action = parse_fix(*ft, r, origin);
            }
            if (const auto* d = t->get_as<bool>("doctor")) {
                r.doctor = d->get();
            }
            if (const auto* f = t->get_as<toml::table>("failure")) {
                r.exception_types = strings(*f, "exception", origin);
                r.patterns = strings(*f, "patterns", origin);
                r.unless = strings(*f, "unless", origin);
                for (const auto& name : strings(*f, "signals", origin)) {
                    const int sig = signal_number(name);
                    if (sig == 0) {
                        throw LaunchError(Stage::Rules, where(origin, *f) + ": rule " + r.id +
                                                            ": unknown signal " + name);
                    }
                    r.signals.push_back(sig);
                }
            }
            for (const auto& c : r.when) {
                InstalledFacts none;
                SiteScan empty;
                none.scan = &empty;
                none.python_version = "3.11";
                if (!condition_holds(c, none).has_value()) {
                    throw LaunchError(Stage::Rules, where(origin, node) + ": rule " + r.id +
                                                        ": malformed condition '" + c + "'");
                }
            }
            set.rules.push_back(std::move(r));
        }
    }
    if (const auto* arr = doc["profile"].as_array()) {
        for (const auto& node : *arr) {
            const auto* t = node.as_table();
            if (!t) {
                continue;
            }
            Profile p;
            p.id = string(*t, "id", origin, true);
            p.description = string(*t, "description", origin, false);
            p.detect = strings(*t, "detect", origin);
            p.expect = strings(*t, "expect", origin);
            set.profiles.push_back(std::move(p));
        }
    }
    return set;
}

const RuleSet& builtin_rules() {
    static const RuleSet set = parse_rules(data::kRules, "rules.toml");
    return set;
}

Judgement judge(std::string_view condition, const InstalledFacts& facts) {
    bool negate = false;
    std::string_view text = condition;
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    if (!text.empty() && text.front() == '!') {
        negate = true;
        text.remove_prefix(1);
    }
    const auto result = [&](bool holds) {
        return holds != negate ? Judgement::Holds : Judgement::Fails;
    };
    if (!text.empty() && text.front() == '$') {  // environment variables: one of them set
        bool any = false;
        for (const auto& name : text::split(std::string(text.substr(1)), '|')) {
            if (name.empty()) {
                return Judgement::Malformed;
            }
            if (facts.env_vars) {
                auto v = lookup(*facts.env_vars, name);
                any |= v && !v->empty();
            }
        }
        if (facts.partial && !facts.env_vars) {
            return Judgement::Unknown;
        }
        return result(any);
    }
    auto req = pep508::parse_requirement(text);
    if (!req) {
        return Judgement::Malformed;
    }
    if (!req->marker.empty()) {
        auto m = req->marker.evaluate(facts.markers, "");
        if (!m) {  // a platform we cannot tell: the rule does not apply
            return facts.partial && facts.markers.empty() ? Judgement::Unknown : Judgement::Fails;
        }
        if (!*m) {
            return Judgement::Fails;
        }
    }
    std::optional<pep440::Version> version;
    if (req->key == "python") {
        if (facts.partial && facts.python_version.empty()) {
            return Judgement::Unknown;
        }
        version = pep440::parse(facts.python_version);
    } else if (const Distribution* d = facts.scan ? facts.scan->find(req->key) : nullptr) {
        version = d->version;
        if (!version) {
            return Judgement::Fails;  // an unparsable version: no rule can tell
        }
    } else if (facts.partial) {
        return Judgement::Unknown;
    }
    // "!name": not installed; "!name<spec>": not installed in such a version
    return result(version.has_value() && req->specifier.contains(*version));
}

std::optional<bool> condition_holds(std::string_view condition, const InstalledFacts& facts) {
    switch (judge(condition, facts)) {
        case Judgement::Holds:
            return true;
        case Judgement::Malformed:
            return std::nullopt;
        default:
            return false;
    }
}

std::string condition_in_words(std::string_view condition) {
    std::string_view text = text::trim(condition);
    bool negate = false;
    if (!text.empty() && text.front() == '!') {
        negate = true;
        text.remove_prefix(1);
    }
    if (!text.empty() && text.front() == '$') {
        const std::string names = text::join(text::split(text.substr(1), '|'), " or ");
        return negate ? "none of " + names + " is set" : names + " is set";
    }
    auto req = pep508::parse_requirement(text);
    if (!req) {
        return std::string(condition);
    }
    std::string spec = std::string(text.substr(req->name.size()));
    spec = std::string(text::trim(spec.substr(0, spec.find(';'))));
    const std::string name = req->key == "python" ? "Python" : req->name;
    if (spec.empty()) {
        return negate ? name + " is not installed" : "";
    }
    std::vector<std::string> parts;
    for (auto part : text::split(spec, ',')) {
        part = std::string(text::trim(part));
        auto take = [&](std::string_view op, std::string_view words) {
            if (part.starts_with(op)) {
                parts.push_back(std::string(words) +
                                std::string(text::trim(part.substr(op.size()))));
                return true;
            }
            return false;
        };
        if (!(take(">=", "at least ") || take("<=", "at most ") || take("==", "") ||
              take("!=", "not ") || take("~=", "compatible with ") || take(">", "newer than ") ||
              take("<", "older than "))) {
            parts.push_back(part);
        }
    }
    std::string words;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        words += (i == 0 ? "" : " and ") + parts[i];
    }
    return negate ? name + " is not installed in a version " + words : name + " is " + words;
}

std::vector<std::string> condition_variables(const RuleSet& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules.rules) {
        for (const auto& c : r.when) {
            const std::size_t at = c.find('$');
            if (at == std::string::npos || c.find_first_not_of(" !") != at) {
                continue;
            }
            for (const auto& name : text::split(c.substr(at + 1), '|')) {
                if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) {
                    out.push_back(name);
                }
            }
        }
    }
    return out;
}

bool all_hold(const std::vector<std::string>& conditions, const InstalledFacts& facts) {
    for (const auto& c : conditions) {
        auto r = condition_holds(c, facts);
        if (!r || !*r) {
            return false;
        }
    }
    return true;
}

std::string expand(std::string_view text, const InstalledFacts& facts, std::string_view python) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '{') {
            std::size_t close = text.find('}', i);
            if (close != std::string_view::npos) {
                std::string_view name = text.substr(i + 1, close - i - 1);
                if (name == "python") {
                    out += python;
                } else if (name.starts_with("arg:")) {
                    out += text::quote_arg(name.substr(4), facts.platform);
                } else if (name == "python_version") {
                    out += facts.python_version;
                } else if (const Distribution* d = facts.scan ? facts.scan->find(name) : nullptr) {
                    out += d->version_text;
                } else if (facts.partial) {
                    // Not known (pasted text): "pillow=={pillow}" -> "pillow", "torch {torch}
                    // has" -> "torch has", "TTS {tts}'s" -> "TTS's".
                    while (!out.empty() &&
                           std::string_view("=<>!~").find(out.back()) != std::string_view::npos) {
                        out.pop_back();
                    }
                    const char next = close + 1 < text.size() ? text[close + 1] : '\0';
                    if (!out.empty() && out.back() == ' ' &&
                        (next == ' ' || next == '\'' || next == ',' || next == ')' || next == '.' ||
                         next == ':' || next == '\0')) {
                        out.pop_back();
                    }
                    if (!out.empty() && out.back() == '(' && next == ')') {
                        out.pop_back();  // "({tts})" -> ""
                        ++close;
                        if (!out.empty() && out.back() == ' ' && close + 1 < text.size() &&
                            text[close + 1] == ' ') {
                            out.pop_back();
                        }
                    }
                } else {
                    out += "not installed";
                }
                i = close + 1;
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

FixAction expand_action(const FixAction& action, const InstalledFacts& facts,
                        std::string_view python) {
    FixAction out = action;
    for (auto& req : out.install) {
        req = expand(req, facts, python);
    }
    if (out.index_url) {
        out.index_url = expand(*out.index_url, facts, python);
    }
    out.note = expand(out.note, facts, python);
    return out;
}

std::string render_fix(const FixAction& a, std::string_view python, Platform platform) {
    std::string out;
    if (!a.remove.empty()) {
        out += std::string(python) + " -m pip uninstall -y";
        for (const auto& name : a.remove) {
            out += " " + text::quote_arg(name, platform);
        }
    }
    if (!a.install.empty()) {
        out +=
            std::string(out.empty() ? "" : "   then   ") + std::string(python) + " -m pip install";
        for (const auto& o : a.options) {
            out += " " + o;  // flags only (parse_fix): nothing to quote
        }
        for (const auto& req : a.install) {
            out += " " + text::quote_arg(req, platform);
        }
        if (a.index_url) {
            out += " --index-url " + text::quote_arg(*a.index_url, platform);
        }
    }
    if (!a.note.empty()) {
        out += out.empty() ? a.note : "   (" + a.note + ")";
    }
    return out;
}

}  // namespace alltalk
