// A line-oriented front end to bootstrap/pep440 and pep508 for the differential tests against
// packaging: one answer line per request line, so one process answers thousands of questions.
//
// The short requests (tests/integration/test_doctor_differential.py), fields as they are:
//   V <tab> version                  -> normalised version, or "!"
//   C <tab> a <tab> b                -> -1, 0 or 1 (both must be valid)
//   S <tab> specifiers <tab> version -> 1 / 0 (contains, prereleases=True), "!spec" or "!ver"
//   E <tab> name <tab> value         -> sets a variable of the default environment; "ok"
//   M <tab> marker <tab> extra       -> 1 / 0, "!parse" or "!eval"
//   R <tab> requirement              -> name|extras|specifier|url|marker (packaging's str parts),
//   or "!"
//
// The long requests (tests/integration/test_packaging_suite.py): fields and answers escaped
// (\\ \t \n \r), parts of an answer joined by \x1f, "!" where packaging raises. Tri-states are
// N / T / F (None / True / False); an item is "s:<str>" or "v:<text of a Version object>".
//   VER v                       -> str, public, base_version, local, pre, post, dev, epoch,
//                                  release, is_prerelease, is_postrelease, is_devrelease
//   VCMP a b                    -> -1 / 0 / 1
//   SPEC s                      -> str, operator, version, prereleases   (Specifier(s))
//   SSET s                      -> str, len, prereleases                 (SpecifierSet(s))
//   SPECEQ a b / SSETEQ a b     -> 1 / 0
//   SCON P|S spec configured item prereleases installed -> 1 / 0   (contains)
//   SFIL P|S spec configured prereleases item...        -> the kept indices, comma-separated
//   MARK m                      -> str(Marker(m)), or "!str" where str() raises
//   MEVAL m context - | + (key value)...  -> 1 / 0, "!parse" or "!eval"; context metadata,
//                                  lock_file or requirement; "-": environment=None, "+": the
//                                  pairs that follow, a value "s:<str>", "n:" (None) or "S:"
//                                  and the set's elements joined by \x1f
//   REQ r                       -> name, url, extras (sorted, ","), specifier, marker, str(req)
//   REQEQ a b                   -> 1 / 0
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "pypa/pep440.hpp"
#include "pypa/pep508.hpp"

using namespace alltalk;

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        std::size_t tab = line.find('\t', start);
        out.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
        if (tab == std::string::npos) {
            return out;
        }
        start = tab + 1;
    }
}

std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        const char e = s[++i];
        out += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;
    }
    return out;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i ? sep : "") + parts[i];
    }
    return out;
}

std::string tri(pep508::Tri t) {
    return !t ? "N" : *t ? "T" : "F";
}

pep508::Tri read_tri(const std::string& s) {
    return s == "T" ? pep508::Tri(true) : s == "F" ? pep508::Tri(false) : std::nullopt;
}

// An item field: "s:<str>" or "v:<Version text>"; nullopt when a "v:" text does not parse.
std::optional<pep508::Candidate> read_item(const std::string& f) {
    if (f.starts_with("v:")) {
        auto v = pep440::parse(f.substr(2));
        if (!v) {
            return std::nullopt;
        }
        return pep508::Candidate::from_version(std::move(*v));
    }
    return pep508::Candidate::from_text(f.substr(2));
}

std::string version_answer(const std::string& text) {
    auto v = pep440::parse(text);
    if (!v) {
        return "!";
    }
    std::string release;
    for (std::size_t i = 0; i < v->release.size(); ++i) {
        release += (i ? "." : "") + v->release[i].str();
    }
    return join(
        {v->str(), v->public_str(), v->base_str(), v->local_str(),
         v->pre ? v->pre->first + v->pre->second.str() : "", v->post ? v->post->str() : "",
         v->dev ? v->dev->str() : "", v->epoch.str(), release, v->is_prerelease() ? "1" : "0",
         v->is_postrelease() ? "1" : "0", v->is_devrelease() ? "1" : "0"},
        "\x1f");
}

std::string index_list(const std::vector<std::size_t>& ids) {
    std::string out;
    for (std::size_t i : ids) {
        out += (out.empty() ? "" : ",") + std::to_string(i);
    }
    return out;
}

std::optional<std::string> requirement_parts(const std::string& text) {
    auto r = pep508::parse_requirement(text);
    if (!r) {
        return std::nullopt;
    }
    auto marker = r->marker.try_str();
    if (!marker) {
        return std::nullopt;  // str(req) raises
    }
    std::vector<std::string> extras = r->extras;
    std::sort(extras.begin(), extras.end());
    return join({r->name, r->url.value_or(""), join(extras, ","), r->specifier.str(), *marker,
                 pep508::requirement_str(*r)},
                "\x1f");
}

// One long request (fields already unescaped); the answer before escaping.
std::string answer(const std::vector<std::string>& f, const pep508::MarkerEnv& env) {
    const std::string& kind = f[0];
    auto field = [&](std::size_t i) -> const std::string& {
        static const std::string none;
        return i < f.size() ? f[i] : none;
    };
    if (kind == "VER") {
        return version_answer(field(1));
    }
    if (kind == "VCMP") {
        auto a = pep440::parse(field(1)), b = pep440::parse(field(2));
        return a && b ? std::to_string(pep440::compare(*a, *b)) : "!";
    }
    if (kind == "SPEC") {
        auto s = pep508::parse_specifier(field(1));
        return s ? join({s->str(), s->op, s->version + (s->wildcard ? ".*" : ""),
                         tri(s->prereleases())},
                        "\x1f")
                 : "!";
    }
    if (kind == "SSET") {
        auto s = pep508::parse_specifiers(field(1));
        return s ? join({s->str(), std::to_string(s->specs.size()), tri(s->prereleases())}, "\x1f")
                 : "!";
    }
    if (kind == "SPECEQ") {
        auto a = pep508::parse_specifier(field(1)), b = pep508::parse_specifier(field(2));
        return a && b ? (a->canonical() == b->canonical() ? "1" : "0") : "!";
    }
    if (kind == "SSETEQ") {
        auto a = pep508::parse_specifiers(field(1)), b = pep508::parse_specifiers(field(2));
        return a && b ? (a->equals(*b) ? "1" : "0") : "!";
    }
    if (kind == "SCON" || kind == "SFIL") {
        const bool single = field(1) == "P";
        std::optional<pep508::SpecifierSet> set;
        if (single) {
            if (auto s = pep508::parse_specifier(field(2))) {
                set = pep508::SpecifierSet{{std::move(*s)}, std::nullopt};
            }
        } else {
            set = pep508::parse_specifiers(field(2));
        }
        if (!set) {
            return "!";
        }
        const pep508::Tri configured = read_tri(field(3));
        if (single) {
            set->specs[0].prereleases_override = configured;
        } else {
            set->prereleases_override = configured;
        }
        if (kind == "SCON") {
            auto item = read_item(field(4));
            if (!item) {
                return "!";
            }
            const bool in = single ? set->specs[0].contains(*item, read_tri(field(5)))
                                   : set->contains(*item, read_tri(field(5)), read_tri(field(6)));
            return in ? "1" : "0";
        }
        std::vector<pep508::Candidate> items;
        for (std::size_t i = 5; i < f.size(); ++i) {
            auto item = read_item(f[i]);
            if (!item) {
                return "!";
            }
            items.push_back(std::move(*item));
        }
        const pep508::Tri pre = read_tri(field(4));
        return index_list(single ? set->specs[0].filter(items, pre) : set->filter(items, pre));
    }
    if (kind == "MARK") {
        auto m = pep508::parse_marker(field(1));
        if (!m) {
            return "!";
        }
        return m->try_str().value_or("!str");
    }
    if (kind == "MEVAL") {
        auto m = pep508::parse_marker(field(1));
        if (!m) {
            return "!parse";
        }
        const std::string& c = field(2);
        const auto context = c == "lock_file"     ? pep508::MarkerContext::LockFile
                             : c == "requirement" ? pep508::MarkerContext::Requirement
                                                  : pep508::MarkerContext::Metadata;
        pep508::MarkerValues overrides;
        for (std::size_t i = 4; i + 1 < f.size(); i += 2) {
            pep508::MarkerValue v;
            const std::string& raw = f[i + 1];
            if (raw.starts_with("n:")) {
                v.none = true;
            } else if (raw.starts_with("S:")) {
                v.set.emplace();
                std::size_t start = 2;
                while (start < raw.size()) {
                    std::size_t sep = raw.find('\x1f', start);
                    v.set->push_back(
                        raw.substr(start, sep == std::string::npos ? sep : sep - start));
                    start = sep == std::string::npos ? raw.size() : sep + 1;
                }
            } else {
                v.text = raw.substr(2);
            }
            overrides[f[i]] = std::move(v);
        }
        auto r = m->evaluate(env, field(3) == "-" ? nullptr : &overrides, context);
        return !r ? "!eval" : *r ? "1" : "0";
    }
    if (kind == "REQ") {
        return requirement_parts(field(1)).value_or("!");
    }
    if (kind == "REQEQ") {
        auto a = pep508::parse_requirement(field(1)), b = pep508::parse_requirement(field(2));
        return a && b ? (pep508::requirements_equal(*a, *b) ? "1" : "0") : "!";
    }
    return "?";
}

}  // namespace

int main() {
    std::ios::sync_with_stdio(false);
    pep508::MarkerEnv env;
    std::string line;
    while (std::getline(std::cin, line)) {
        auto f = split_tabs(line);
        const std::string kind = f[0];
        if (kind.size() > 1) {
            for (auto& field : f) {
                field = unescape(field);
            }
            std::cout << escape(answer(f, env)) << '\n';
            continue;
        }
        f.resize(4);
        if (kind == "V") {
            auto v = pep440::parse(f[1]);
            std::cout << (v ? v->str() : "!") << '\n';
        } else if (kind == "C") {
            auto a = pep440::parse(f[1]);
            auto b = pep440::parse(f[2]);
            std::cout << (a && b ? pep440::compare(*a, *b) : 99) << '\n';
        } else if (kind == "S") {
            auto s = pep508::parse_specifiers(f[1]);
            auto v = pep440::parse(f[2]);
            std::cout << (!s ? "!spec" : !v ? "!ver" : s->contains(*v) ? "1" : "0") << '\n';
        } else if (kind == "E") {
            env[unescape(f[1])] = unescape(f[2]);
            std::cout << "ok\n";
        } else if (kind == "M") {
            auto m = pep508::parse_marker(f[1]);
            if (!m) {
                std::cout << "!parse\n";
                continue;
            }
            auto r = m->evaluate(env, f[2]);
            std::cout << (!r ? "!eval" : *r ? "1" : "0") << '\n';
        } else if (kind == "R") {
            auto r = pep508::parse_requirement(f[1]);
            if (!r) {
                std::cout << "!\n";
                continue;
            }
            std::string extras;
            std::vector<std::string> sorted = r->extras;
            std::sort(sorted.begin(), sorted.end());
            for (const auto& e : sorted) {
                extras += (extras.empty() ? "" : ",") + e;
            }
            std::cout << r->name << '|' << extras << '|' << r->specifier.str() << '|'
                      << r->url.value_or("") << '|' << r->marker.str() << '\n';
        } else {
            std::cout << "?\n";
        }
    }
    return 0;
}
