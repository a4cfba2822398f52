#include "pypa/pep508.hpp"

#include <algorithm>
#include <cctype>
#include <variant>

#include "base/text.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::pep508 {

namespace {

using text::lower;
using text::trim;

bool is_word(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

bool set_error(std::string* error, std::string message) {
    if (error) {
        *error = std::move(message);
    }
    return false;
}

// `v? (N!)? N(.N)*` with nothing else: the base of a "==X.*" clause.
std::optional<pep440::Version> parse_release_only(std::string_view s) {
    for (char c : s) {
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '!' || c == 'v' ||
              c == 'V')) {
            return std::nullopt;
        }
    }
    auto v = pep440::parse(s);
    if (!v || v->pre || v->post || v->dev || !v->local.empty()) {
        return std::nullopt;
    }
    return v;
}

pep440::Version base_version(const pep440::Version& v) {
    pep440::Version b;
    b.epoch = v.epoch;
    b.release = v.release;
    return b;
}

pep440::Version public_version(pep440::Version v) {
    v.local.clear();
    return v;
}

// Epoch and the first n release numbers (missing ones are 0) equal those of `spec`.
bool prefix_match(const pep440::Version& v, const pep440::Version& spec) {
    if (v.epoch != spec.epoch) {
        return false;
    }
    static const pep440::Number zero;
    for (std::size_t i = 0; i < spec.release.size(); ++i) {
        const pep440::Number& x = i < v.release.size() ? v.release[i] : zero;
        if (x != spec.release[i]) {
            return false;
        }
    }
    return true;
}

// The operator at the start of `s` (longest first).
std::string_view read_operator(std::string_view s) {
    for (std::string_view op : {"===", "~=", "==", "!=", "<=", ">=", "<", ">"}) {
        if (s.starts_with(op)) {
            return op;
        }
    }
    return {};
}

bool has_python_space(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (text::python_space_at(s, i)) {
            return true;
        }
    }
    return false;
}

// packaging's resolve_prereleases: an explicit setting wins, an implied True propagates.
Tri resolve_prereleases(Tri configured, Tri implied) {
    if (configured) {
        return configured;
    }
    return implied == true ? Tri(true) : std::nullopt;
}

bool is_pre(const Candidate& c) {
    return c.version && c.version->is_prerelease();
}

// packaging's _apply_prereleases_filter over the items already matched (`kept`): None keeps
// pre-releases only when no final release is among them (strings that are no version always
// stay), True keeps everything, False drops pre-releases.
std::vector<std::size_t> apply_prereleases(const std::vector<Candidate>& items,
                                           std::vector<std::size_t> kept, Tri prereleases) {
    if (prereleases == true) {
        return kept;
    }
    if (!prereleases) {
        const bool final_found = std::any_of(kept.begin(), kept.end(), [&](std::size_t i) {
            return items[i].version && !items[i].version->is_prerelease();
        });
        if (!final_found) {
            return kept;
        }
    }
    std::erase_if(kept, [&](std::size_t i) { return is_pre(items[i]); });
    return kept;
}

// packaging's filter_by_ranges: strings that are no version never match; with prereleases None
// the pre-releases in range come out only when no final release does.
template <typename InRange>
std::vector<std::size_t> filter_by_ranges(const std::vector<Candidate>& items, Tri prereleases,
                                          InRange in_range) {
    std::vector<std::size_t> out, buffer;
    bool found_final = false;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& v = items[i].version;
        if (!v || (prereleases == false && v->is_prerelease()) || !in_range(*v)) {
            continue;
        }
        if (prereleases || !v->is_prerelease()) {
            found_final = found_final || !v->is_prerelease();
            out.push_back(i);
        } else if (!found_final) {
            buffer.push_back(i);
        }
    }
    if (!prereleases && !found_final) {
        return buffer;  // `out` holds nothing then
    }
    return out;
}

}  // namespace

Candidate Candidate::from_text(std::string_view text) {
    return Candidate{std::string(text), pep440::parse(text), false};
}

Candidate Candidate::from_version(pep440::Version v) {
    std::string text = v.str();
    return Candidate{std::move(text), std::move(v), true};
}

std::optional<Specifier> parse_specifier(std::string_view text, std::string* error) {
    // Specifier(text): the whole text, Python whitespace (Unicode's too) around it and after the
    // operator allowed.
    const std::string_view s = text::python_strip(text);
    auto bad = [&](const char* why) -> std::optional<Specifier> {
        set_error(error, "invalid specifier '" + std::string(s) + "': " + why);
        return std::nullopt;
    };
    const std::string_view op = read_operator(s);
    if (op.empty()) {
        return bad("no operator");
    }
    const std::string_view ver = text::python_strip(s.substr(op.size()));
    Specifier spec;
    spec.op = std::string(op);
    if (op == "===") {
        if (has_python_space(ver) || ver.find_first_of(";)") != std::string_view::npos) {
            return bad("spaces, ';' or ')' in an arbitrary version");
        }
        spec.version = std::string(ver);
        spec.parsed = pep440::parse(ver);
        return spec;
    }
    if ((op == "==" || op == "!=") && ver.ends_with(".*")) {
        spec.wildcard = true;
        spec.version = std::string(ver.substr(0, ver.size() - 2));
        spec.parsed = parse_release_only(spec.version);
        if (!spec.parsed) {
            return bad("a .* prefix must be a plain release number");
        }
        return spec;
    }
    if (has_python_space(ver)) {
        return bad("spaces inside the version");
    }
    spec.version = std::string(ver);
    spec.parsed = pep440::parse(ver);
    if (!spec.parsed) {
        return bad("not a PEP 440 version");
    }
    if (!spec.parsed->local.empty() && op != "==" && op != "!=") {
        return bad("a local version label is only allowed with == and !=");
    }
    if (op == "~=" && spec.parsed->release.size() < 2) {
        return bad("~= needs at least two release numbers");
    }
    return spec;
}

Tri Specifier::prereleases() const {
    if (prereleases_override) {
        return prereleases_override;
    }
    if (op == "!=" || (op == "==" && wildcard)) {
        return false;
    }
    if (!parsed) {
        return std::nullopt;  // "===" with a string that is no version
    }
    return parsed->is_prerelease();
}

bool Specifier::matches(const pep440::Version& v) const {
    if (op == "===") {
        return true;
    }
    const pep440::Version& sv = *parsed;
    auto equal = [&]() {
        if (wildcard) {
            return prefix_match(v, sv);
        }
        if (sv.local.empty()) {
            return pep440::compare(public_version(v), sv) == 0;
        }
        return pep440::compare(v, sv) == 0;
    };
    if (op == "==") {
        return equal();
    }
    if (op == "!=") {
        return !equal();
    }
    if (op == "<=") {
        return pep440::compare(public_version(v), sv) <= 0;
    }
    if (op == ">=") {
        return pep440::compare(public_version(v), sv) >= 0;
    }
    // "<" and ">" as packaging >= 26 defines them (its interval engine, see
    // packaging/_ranges.py): "<V" stops at V.dev0 unless V is itself a pre-release; ">V" starts
    // after V's whole post-release family, or at the next dev/post release when V is one.
    if (op == "<") {
        pep440::Version bound = sv;
        if (!sv.is_prerelease()) {
            bound.dev = pep440::Number{};
            bound.local.clear();
        }
        return pep440::compare(v, bound) < 0;
    }
    if (op == ">") {
        if (sv.dev) {
            pep440::Version lower = sv;
            lower.dev = sv.dev->next();
            lower.local.clear();
            return pep440::compare(v, lower) >= 0;
        }
        if (sv.post) {
            pep440::Version lower = sv;
            lower.post = sv.post->next();
            lower.dev = pep440::Number{};
            lower.local.clear();
            return pep440::compare(v, lower) >= 0;
        }
        if (pep440::compare(v, sv) <= 0) {
            return false;
        }
        // Above V: excluded while still in V's post family (same epoch, release and pre).
        pep440::Version a = base_version(v), b = base_version(sv);
        return !(pep440::compare(a, b) == 0 && v.pre == sv.pre);
    }
    if (op == "~=") {
        if (pep440::compare(public_version(v), sv) < 0) {
            return false;
        }
        pep440::Version prefix = base_version(sv);
        prefix.release.pop_back();
        return prefix_match(v, prefix);
    }
    return false;
}

bool Specifier::contains(const Candidate& item, Tri prereleases) const {
    if (op == "===") {
        return !filter({item}, prereleases).empty();
    }
    if (!item.version) {
        return false;  // a string that is no version never matches a standard operator
    }
    if (!prereleases) {
        prereleases = resolve_prereleases(prereleases_override, this->prereleases());
    }
    if (prereleases == false && item.version->is_prerelease()) {
        return false;
    }
    return matches(*item.version);
}

std::vector<std::size_t> Specifier::filter(const std::vector<Candidate>& items,
                                           Tri prereleases) const {
    if (!prereleases) {
        prereleases = resolve_prereleases(prereleases_override, this->prereleases());
    }
    if (op == "===") {
        // The text as given (a str as written, a Version object normalised), case-insensitive.
        const std::string want = lower(version);
        std::vector<std::size_t> kept;
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (lower(items[i].text) == want) {
                kept.push_back(i);
            }
        }
        return apply_prereleases(items, std::move(kept), prereleases);
    }
    return filter_by_ranges(items, prereleases,
                            [&](const pep440::Version& v) { return matches(v); });
}

std::string Specifier::str() const {
    return op + version + (wildcard ? ".*" : "");
}

std::string Specifier::canonical() const {
    if (op == "===" || wildcard) {
        return str();
    }
    pep440::Version v = *parsed;
    if (op != "~=") {
        while (v.release.size() > 1 && v.release.back().is_zero()) {
            v.release.pop_back();
        }
    }
    return op + v.str();
}

namespace {

bool has_arbitrary(const SpecifierSet& set) {
    return std::any_of(set.specs.begin(), set.specs.end(),
                       [](const Specifier& s) { return s.op == "==="; });
}

bool all_match(const SpecifierSet& set, const pep440::Version& v) {
    return std::all_of(set.specs.begin(), set.specs.end(),
                       [&](const Specifier& s) { return s.matches(v); });
}

// packaging's _canonical_specs: sorted by text, equal clauses once (the first in that order).
std::vector<const Specifier*> canonical_specs(const SpecifierSet& set) {
    std::vector<const Specifier*> sorted;
    for (const auto& s : set.specs) {
        sorted.push_back(&s);
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Specifier* a, const Specifier* b) { return a->str() < b->str(); });
    std::vector<const Specifier*> out;
    std::vector<std::string> keys;
    for (const Specifier* s : sorted) {
        std::string key = s->canonical();
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            keys.push_back(std::move(key));
            out.push_back(s);
        }
    }
    return out;
}

}  // namespace

Tri SpecifierSet::prereleases() const {
    if (prereleases_override) {
        return prereleases_override;
    }
    if (specs.empty()) {
        return std::nullopt;
    }
    if (std::any_of(specs.begin(), specs.end(),
                    [](const Specifier& s) { return s.prereleases() == true; })) {
        return true;
    }
    return std::nullopt;
}

bool SpecifierSet::contains(const pep440::Version& v, std::string_view) const {
    return contains(Candidate::from_version(v), true, std::nullopt);
}

bool SpecifierSet::contains(const Candidate& item, Tri prereleases, Tri installed) const {
    const auto& v = item.version;
    if (v && installed == true && v->is_prerelease()) {
        prereleases = true;
    }
    const bool arbitrary = has_arbitrary(*this);
    if (v && !arbitrary && v->local.empty() && !specs.empty()) {
        if (v->is_prerelease() &&
            (prereleases == false || (!prereleases && prereleases_override == false))) {
            return false;
        }
        return all_match(*this, *v);
    }
    // A str stays a str where "===" reads it; otherwise packaging hands on the parsed Version.
    if (!v || (arbitrary && !item.is_object)) {
        return !filter({item}, prereleases).empty();
    }
    return !filter({Candidate::from_version(*v)}, prereleases).empty();
}

std::vector<std::size_t> SpecifierSet::filter(const std::vector<Candidate>& items,
                                              Tri prereleases) const {
    if (!prereleases && this->prereleases()) {
        prereleases = this->prereleases();
    }
    std::vector<std::size_t> all(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        all[i] = i;
    }
    if (specs.empty()) {
        return apply_prereleases(items, std::move(all), prereleases);
    }
    if (has_arbitrary(*this)) {
        std::erase_if(all, [&](std::size_t i) {
            return !std::all_of(specs.begin(), specs.end(),
                                [&](const Specifier& s) { return s.contains(items[i], true); });
        });
        return apply_prereleases(items, std::move(all), prereleases);
    }
    return filter_by_ranges(items, prereleases,
                            [&](const pep440::Version& v) { return all_match(*this, v); });
}

std::string SpecifierSet::str() const {
    std::string out;
    for (const Specifier* s : canonical_specs(*this)) {
        out += (out.empty() ? "" : ",") + s->str();
    }
    return out;
}

bool SpecifierSet::equals(const SpecifierSet& other) const {
    auto a = canonical_specs(*this), b = canonical_specs(other);
    return std::equal(
        a.begin(), a.end(), b.begin(), b.end(),
        [](const Specifier* x, const Specifier* y) { return x->canonical() == y->canonical(); });
}

std::optional<SpecifierSet> parse_specifiers(std::string_view text, std::string* error) {
    // SpecifierSet(text): split at commas, each piece stripped; empty pieces are skipped.
    SpecifierSet set;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        std::string_view part = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (!text::python_strip(part).empty()) {
            auto spec = parse_specifier(part, error);
            if (!spec) {
                return std::nullopt;
            }
            set.specs.push_back(std::move(*spec));
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return set;
}

// ---------------------------------------------------------------------------------------------
// Markers

struct MarkerNode {
    // A group: items joined by "and"/"or" (ops[i] joins items[i] and items[i + 1]), as packaging
    // keeps them (a flat list per parenthesis level; "and" binds tighter when evaluated).
    struct Atom {
        bool lhs_is_var = false;
        std::string lhs;
        std::string op;  // "==", ..., "in", "not in"
        bool rhs_is_var = false;
        std::string rhs;
    };
    std::vector<std::variant<Atom, std::shared_ptr<const MarkerNode>>> items;
    std::vector<bool> or_ops;  // true = "or"
};

namespace {

const std::string_view kVariables[] = {"python_version",
                                       "python_full_version",
                                       "os_name",
                                       "os.name",
                                       "sys_platform",
                                       "sys.platform",
                                       "platform_release",
                                       "platform_system",
                                       "platform_version",
                                       "platform.version",
                                       "platform_machine",
                                       "platform.machine",
                                       "python_implementation",
                                       "platform_python_implementation",
                                       "platform.python_implementation",
                                       "implementation_name",
                                       "implementation_version",
                                       "extras",
                                       "extra",
                                       "dependency_groups"};

void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// The value of a one-line Python string literal with this body (between its quotes), as
// ast.literal_eval reads it: \\ \' \" \a \b \f \n \r \t \v, octal \ooo, \xhh, \uhhhh,
// \Uhhhhhhhh, a backslash-newline joins lines, an unknown escape keeps its backslash. nullopt
// where Python raises: a line break or NUL in the body, a malformed \x/\u/\U escape, a closing
// quote escaped away (a trailing backslash), or \N{...} (named characters: not supported here).
std::optional<std::string> python_string_literal(std::string_view body) {
    std::string out;
    auto hex = [&](std::size_t at, std::size_t n) -> std::optional<unsigned> {
        if (at + n > body.size()) {
            return std::nullopt;
        }
        unsigned v = 0;
        for (std::size_t k = at; k < at + n; ++k) {
            const char c = body[k];
            const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                          : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                          : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                      : -1;
            if (d < 0) {
                return std::nullopt;
            }
            v = v * 16 + static_cast<unsigned>(d);
        }
        return v;
    };
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (c == '\n' || c == '\r' || c == '\0') {
            return std::nullopt;
        }
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i + 1 >= body.size()) {
            return std::nullopt;  // the closing quote is escaped: unterminated
        }
        const char e = body[++i];
        switch (e) {
            case '\n':
                break;
            case '\r':
                if (i + 1 < body.size() && body[i + 1] == '\n') {
                    ++i;
                }
                break;
            case '\\':
            case '\'':
            case '"':
                out += e;
                break;
            case 'a':
                out += '\a';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'v':
                out += '\v';
                break;
            case 'x':
            case 'u':
            case 'U': {
                const std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                auto cp = hex(i + 1, n);
                if (!cp || *cp > 0x10ffff) {
                    return std::nullopt;
                }
                append_utf8(out, *cp);
                i += n;
                break;
            }
            case 'N':
                return std::nullopt;
            default:
                if (e >= '0' && e <= '7') {
                    unsigned v = 0;
                    std::size_t n = 0;
                    while (n < 3 && i < body.size() && body[i] >= '0' && body[i] <= '7') {
                        v = v * 8 + static_cast<unsigned>(body[i] - '0');
                        ++i;
                        ++n;
                    }
                    --i;
                    append_utf8(out, v);
                } else {
                    out += '\\';
                    out += e;
                }
        }
    }
    return out;
}

bool is_version_key(std::string_view key) {
    return key == "implementation_version" || key == "platform_release" ||
           key == "python_full_version" || key == "python_version";
}

class MarkerParser {
  public:
    explicit MarkerParser(std::string_view s) : s_(s) {}

    std::shared_ptr<const MarkerNode> parse(std::string* error) {
        auto node = group(error);
        if (!node) {
            return nullptr;
        }
        ws();
        if (i_ != s_.size()) {
            set_error(error, "unexpected text in marker at '" + std::string(s_.substr(i_)) + "'");
            return nullptr;
        }
        return node;
    }

  private:
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) {
            ++i_;
        }
    }
    // A keyword at the current position with word boundaries on both sides.
    bool keyword(std::string_view k) {
        if (s_.substr(i_, k.size()) != k) {
            return false;
        }
        if (i_ > 0 && is_word(s_[i_ - 1]) && is_word(k.front())) {
            return false;
        }
        std::size_t end = i_ + k.size();
        if (end < s_.size() && is_word(s_[end]) && is_word(k.back())) {
            return false;
        }
        i_ = end;
        return true;
    }
    std::shared_ptr<const MarkerNode> group(std::string* error) {
        auto node = std::make_shared<MarkerNode>();
        if (!item(*node, error)) {
            return nullptr;
        }
        while (true) {
            ws();
            bool is_or;
            if (keyword("or")) {
                is_or = true;
            } else if (keyword("and")) {
                is_or = false;
            } else {
                break;
            }
            node->or_ops.push_back(is_or);
            if (!item(*node, error)) {
                return nullptr;
            }
        }
        return node;
    }
    bool item(MarkerNode& node, std::string* error) {
        ws();
        if (i_ < s_.size() && s_[i_] == '(') {
            ++i_;
            ws();
            auto inner = group(error);
            if (!inner) {
                return false;
            }
            ws();
            if (i_ >= s_.size() || s_[i_] != ')') {
                return set_error(error, "expected ')' in marker");
            }
            ++i_;
            node.items.emplace_back(std::move(inner));
            return true;
        }
        MarkerNode::Atom atom;
        if (!var(atom.lhs_is_var, atom.lhs, error)) {
            return false;
        }
        ws();
        if (keyword("in")) {
            atom.op = "in";
        } else if (keyword("not")) {
            std::size_t before = i_;
            ws();
            if (i_ == before || !keyword("in")) {
                return set_error(error, "expected 'in' after 'not' in marker");
            }
            atom.op = "not in";
        } else {
            for (std::string_view op : {"===", "==", "~=", "!=", "<=", ">=", "<", ">"}) {
                if (s_.substr(i_, op.size()) == op) {
                    atom.op = std::string(op);
                    i_ += op.size();
                    break;
                }
            }
            if (atom.op.empty()) {
                return set_error(
                    error, "expected a marker operator at '" + std::string(s_.substr(i_)) + "'");
            }
        }
        ws();
        if (!var(atom.rhs_is_var, atom.rhs, error)) {
            return false;
        }
        ws();
        // PEP 685 / PEP 735: extra and group names compare normalised, so packaging normalises
        // the literal as it parses (and prints it so).
        if (atom.lhs_is_var && atom.lhs == "extra" && !atom.rhs_is_var) {
            atom.rhs = normalize_name(atom.rhs);
        } else if (atom.rhs_is_var && !atom.lhs_is_var &&
                   (atom.rhs == "extra" || atom.rhs == "extras" ||
                    atom.rhs == "dependency_groups")) {
            atom.lhs = normalize_name(atom.lhs);
        }
        node.items.emplace_back(std::move(atom));
        return true;
    }
    bool var(bool& is_var, std::string& out, std::string* error) {
        if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'')) {
            // packaging's QUOTED_STRING token runs to the next quote of its kind, and is then read
            // as a Python literal (ast.literal_eval): escapes are decoded, and a token that is no
            // valid literal ("C:\", with its closing quote escaped) makes the marker invalid.
            char q = s_[i_];
            std::size_t end = s_.find(q, i_ + 1);
            if (end == std::string_view::npos) {
                return set_error(error, "unterminated string in marker");
            }
            auto value = python_string_literal(s_.substr(i_ + 1, end - i_ - 1));
            if (!value) {
                return set_error(error, "invalid quoted string in marker");
            }
            is_var = false;
            out = std::move(*value);
            i_ = end + 1;
            return true;
        }
        // The longest variable name with word boundaries.
        std::string_view best;
        for (std::string_view v : kVariables) {
            if (v.size() > best.size() && s_.substr(i_, v.size()) == v &&
                (i_ + v.size() >= s_.size() || !is_word(s_[i_ + v.size()])) &&
                (i_ == 0 || !is_word(s_[i_ - 1]))) {
                best = v;
            }
        }
        if (best.empty()) {
            return set_error(error, "expected a marker variable or quoted string at '" +
                                        std::string(s_.substr(i_)) + "'");
        }
        i_ += best.size();
        std::string name(best);
        std::replace(name.begin(), name.end(), '.', '_');
        if (name == "python_implementation") {
            name = "platform_python_implementation";
        }
        is_var = true;
        out = name;
        return true;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

bool is_set_key(std::string_view key) {
    return key == "extras" || key == "dependency_groups";
}

// A value during evaluation: a string, or a set of names.
struct Value {
    std::string text;
    const std::vector<std::string>* set = nullptr;
};

// packaging's Marker.evaluate environment: default_environment() (`base`), what the context adds
// ("extra" = "" for metadata, empty "extras" and "dependency_groups" for lock files), then the
// `environment` argument, "extra" normalised, and a python_full_version ending in "+" (an
// untagged CPython build) read with "local" appended.
class EvalEnv {
  public:
    EvalEnv(const MarkerEnv& base, const MarkerValues* overrides, MarkerContext context)
        : base_(base), overrides_(overrides), context_(context) {}

    std::optional<Value> lookup(const std::string& key) const {
        static const std::vector<std::string> kEmpty;
        std::optional<Value> v;
        if (overrides_) {
            if (auto it = overrides_->find(key); it != overrides_->end()) {
                v = Value{it->second.text, it->second.set ? &*it->second.set : nullptr};
                if (it->second.none) {
                    v->text.clear();
                }
            }
        }
        if (!v && key == "extra" && context_ == MarkerContext::Metadata) {
            v = Value{};
        }
        if (!v && is_set_key(key) && context_ == MarkerContext::LockFile) {
            v = Value{"", &kEmpty};
        }
        if (!v) {
            auto it = base_.find(key);
            if (it == base_.end()) {
                return std::nullopt;
            }
            v = Value{it->second, nullptr};
        }
        if (key == "extra" && overrides_ && !v->set) {
            v->text = v->text.empty() ? "" : normalize_name(v->text);
        }
        if (key == "python_full_version" && !v->set && v->text.ends_with('+')) {
            v->text += "local";
        }
        return v;
    }

  private:
    const MarkerEnv& base_;
    const MarkerValues* overrides_;
    MarkerContext context_;
};

std::optional<bool> eval_op(const std::string& lhs, const std::string& op, const Value& rhs,
                            const std::string& key, std::string* error) {
    if (is_version_key(key) && !rhs.set) {
        // Specifier(op + rhs).contains(lhs, prereleases=True) when that is a specifier.
        if (auto spec = parse_specifier(op + rhs.text)) {
            return spec->contains(Candidate::from_text(lhs), true);
        }
    }
    // packaging >= 26 outside version keys: only equality is defined for ordered operators
    // ("<" and ">" are never true, "<=" and ">=" mean equal). A set never equals a string.
    auto in = [&]() {
        return rhs.set ? std::find(rhs.set->begin(), rhs.set->end(), lhs) != rhs.set->end()
                       : rhs.text.find(lhs) != std::string::npos;
    };
    if (op == "==" || op == "<=" || op == ">=") {
        return !rhs.set && lhs == rhs.text;
    }
    if (op == "!=") {
        return rhs.set || lhs != rhs.text;
    }
    if (op == "<" || op == ">") {
        return false;
    }
    if (op == "in") {
        return in();
    }
    if (op == "not in") {
        return !in();
    }
    set_error(error, "undefined comparison '" + op + "' on '" + lhs + "' and '" + rhs.text + "'");
    return std::nullopt;
}

std::optional<bool> eval_atom(const MarkerNode::Atom& a, const EvalEnv& env, std::string* error) {
    // As packaging reads an atom: a variable on the left is looked up and compared with the right
    // side's text (a variable's name when both are variables); otherwise the right side names
    // the key, even when it is a quoted string.
    const std::string& key = a.lhs_is_var ? a.lhs : a.rhs;
    auto value = env.lookup(key);
    if (!value) {
        set_error(error, "marker variable '" + key + "' is not defined here");
        return std::nullopt;
    }
    Value lhs = a.lhs_is_var ? *value : Value{a.lhs, nullptr};
    Value rhs = a.lhs_is_var ? Value{a.rhs, nullptr} : *value;
    if (lhs.set) {
        set_error(error, "the set-valued marker '" + key + "' is only defined after 'in'");
        return std::nullopt;
    }
    std::vector<std::string> normalised;
    if (is_set_key(key)) {
        lhs.text = normalize_name(lhs.text);
        if (rhs.set) {
            for (const auto& v : *rhs.set) {
                normalised.push_back(normalize_name(v));
            }
            rhs.set = &normalised;
        } else {
            rhs.text = normalize_name(rhs.text);
        }
    }
    return eval_op(lhs.text, a.op, rhs, key, error);
}

std::optional<bool> eval_node(const MarkerNode& node, const EvalEnv& env, std::string* error) {
    // packaging evaluates every atom (errors surface even when the result is already known), then
    // any(all(and-group) for each or-group).
    std::vector<std::vector<bool>> groups(1);
    for (std::size_t i = 0; i < node.items.size(); ++i) {
        if (i > 0 && node.or_ops[i - 1]) {
            groups.emplace_back();
        }
        std::optional<bool> r;
        if (const auto* sub = std::get_if<std::shared_ptr<const MarkerNode>>(&node.items[i])) {
            r = eval_node(**sub, env, error);
        } else {
            r = eval_atom(std::get<MarkerNode::Atom>(node.items[i]), env, error);
        }
        if (!r) {
            return std::nullopt;
        }
        groups.back().push_back(*r);
    }
    return std::any_of(groups.begin(), groups.end(), [](const std::vector<bool>& g) {
        return std::all_of(g.begin(), g.end(), [](bool b) { return b; });
    });
}

}  // namespace

std::optional<bool> Marker::evaluate(const MarkerEnv& env, std::string_view extra,
                                     std::string* error) const {
    const MarkerValues overrides = {{"extra", MarkerValue{std::string(extra), std::nullopt}}};
    return evaluate(env, &overrides, MarkerContext::Metadata, error);
}

std::optional<bool> Marker::evaluate(const MarkerEnv& base, const MarkerValues* overrides,
                                     MarkerContext context, std::string* error) const {
    if (!root_) {
        return true;
    }
    return eval_node(*root_, EvalEnv(base, overrides, context), error);
}

namespace {

// packaging's Value.serialize: double quotes, else single quotes; a value holding both cannot
// be written (packaging raises).
std::string quote_value(const std::string& v, bool& ok) {
    if (v.find('"') == std::string::npos) {
        return '"' + v + '"';
    }
    ok = ok && v.find('\'') == std::string::npos;
    return "'" + v + "'";
}

std::string format_node(const MarkerNode& node, bool first, bool& ok) {
    if (node.items.size() == 1) {
        if (const auto* sub = std::get_if<std::shared_ptr<const MarkerNode>>(&node.items[0])) {
            return format_node(**sub, first, ok);
        }
    }
    std::string out;
    for (std::size_t i = 0; i < node.items.size(); ++i) {
        if (i > 0) {
            out += node.or_ops[i - 1] ? " or " : " and ";
        }
        if (const auto* sub = std::get_if<std::shared_ptr<const MarkerNode>>(&node.items[i])) {
            out += format_node(**sub, false, ok);
        } else {
            const auto& a = std::get<MarkerNode::Atom>(node.items[i]);
            out += (a.lhs_is_var ? a.lhs : quote_value(a.lhs, ok)) + " " + a.op + " " +
                   (a.rhs_is_var ? a.rhs : quote_value(a.rhs, ok));
        }
    }
    if (node.items.size() == 1 && std::holds_alternative<MarkerNode::Atom>(node.items[0])) {
        return out;
    }
    return first ? out : "(" + out + ")";
}

}  // namespace

std::optional<std::string> Marker::try_str() const {
    if (!root_) {
        return std::string();
    }
    bool ok = true;
    std::string out = format_node(*root_, true, ok);
    return ok ? std::optional<std::string>(std::move(out)) : std::nullopt;
}

std::string requirement_str(const Requirement& req) {
    std::string out = req.name;
    if (!req.extras.empty()) {
        std::vector<std::string> extras = req.extras;
        std::sort(extras.begin(), extras.end());
        out += "[";
        for (std::size_t i = 0; i < extras.size(); ++i) {
            out += (i ? "," : "") + extras[i];
        }
        out += "]";
    }
    out += req.specifier.str();
    if (req.url) {
        out += " @ " + *req.url;
        if (!req.marker.empty()) {
            out += " ";
        }
    }
    if (!req.marker.empty()) {
        out += "; " + req.marker.str();
    }
    return out;
}

bool requirements_equal(const Requirement& a, const Requirement& b) {
    auto extras = [](const Requirement& r) {
        std::vector<std::string> out;
        for (const auto& e : r.extras) {
            out.push_back(normalize_name(e));
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    };
    return a.key == b.key && extras(a) == extras(b) && a.specifier.equals(b.specifier) &&
           a.url == b.url && a.marker.empty() == b.marker.empty() &&
           a.marker.try_str() == b.marker.try_str();
}

std::optional<Marker> parse_marker(std::string_view text, std::string* error) {
    MarkerParser p(text);
    auto root = p.parse(error);
    if (!root) {
        return std::nullopt;
    }
    return Marker(std::move(root));
}

// ---------------------------------------------------------------------------------------------
// Requirements

namespace {

bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

// packaging's IDENTIFIER: \b[a-zA-Z0-9][a-zA-Z0-9._-]*\b (the end must be a word character).
std::string_view read_identifier(std::string_view s, std::size_t& i) {
    std::size_t b = i;
    if (b >= s.size() || !std::isalnum(static_cast<unsigned char>(s[b]))) {
        return {};
    }
    std::size_t e = b;
    while (e < s.size() && ident_char(s[e])) {
        ++e;
    }
    while (e > b && !is_word(s[e - 1])) {
        --e;  // backtrack to a word boundary
    }
    if (e < s.size() && is_word(s[e]) && is_word(s[e - 1])) {
        return {};
    }
    i = e;
    return s.substr(b, e - b);
}

void skip_ws(std::string_view s, std::size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
        ++i;
    }
}

}  // namespace

std::optional<Requirement> parse_requirement(std::string_view text, std::string* error) {
    Requirement req;
    std::string_view s = text;
    req.text = std::string(trim(s));
    std::size_t i = 0;
    skip_ws(s, i);
    std::string_view name = read_identifier(s, i);
    if (name.empty()) {
        set_error(error, "expected a package name at the start of '" + std::string(text) + "'");
        return std::nullopt;
    }
    req.name = std::string(name);
    req.key = normalize_name(name);
    skip_ws(s, i);
    if (i < s.size() && s[i] == '[') {
        ++i;
        skip_ws(s, i);
        if (i < s.size() && s[i] != ']') {
            while (true) {
                std::string_view extra = read_identifier(s, i);
                if (extra.empty()) {
                    set_error(error, "expected an extra name in '" + std::string(text) + "'");
                    return std::nullopt;
                }
                if (std::find(req.extras.begin(), req.extras.end(), extra) == req.extras.end()) {
                    req.extras.emplace_back(extra);  // a set in packaging
                }
                skip_ws(s, i);
                if (i < s.size() && s[i] == ',') {
                    ++i;
                    skip_ws(s, i);
                    continue;
                }
                break;
            }
        }
        if (i >= s.size() || s[i] != ']') {
            set_error(error, "expected ']' after the extras in '" + std::string(text) + "'");
            return std::nullopt;
        }
        ++i;
        skip_ws(s, i);
    }
    std::string_view marker_text;
    bool has_marker = false;
    if (i < s.size() && s[i] == '@') {
        ++i;
        skip_ws(s, i);
        std::size_t b = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t') {
            ++i;
        }
        if (i == b) {
            set_error(error, "expected a URL after @ in '" + std::string(text) + "'");
            return std::nullopt;
        }
        req.url = std::string(s.substr(b, i - b));
        skip_ws(s, i);
        if (i < s.size()) {
            if (s[i] != ';') {
                set_error(error,
                          "expected end or ';' after the URL in '" + std::string(text) + "'");
                return std::nullopt;
            }
            has_marker = true;
            marker_text = s.substr(i + 1);
        }
    } else {
        // packaging's tokenizer: SPECIFIER (WS? COMMA WS? SPECIFIER)*, where a "===" version runs
        // to the next space, ';' or ')' (commas included), others to the next separator.
        bool paren = i < s.size() && s[i] == '(';
        if (paren) {
            ++i;
        }
        std::string joined;
        skip_ws(s, i);
        while (i < s.size()) {
            std::string_view op = read_operator(s.substr(i));
            if (op.empty()) {
                break;
            }
            std::size_t b = i;
            i += op.size();
            // The SPECIFIER token: the operator, Python whitespace (\s: Unicode's too), then the
            // version up to the next Python whitespace, ';' or ')' (or ',' unless "===").
            while (std::size_t n = text::python_space_at(s, i)) {
                i += n;
            }
            const bool arbitrary = op == "===";
            while (i < s.size() && !text::python_space_at(s, i) && s[i] != ';' && s[i] != ')' &&
                   (arbitrary || s[i] != ',')) {
                ++i;
            }
            joined += std::string(s.substr(b, i - b));
            skip_ws(s, i);
            if (i < s.size() && s[i] == ',') {
                joined += ',';
                ++i;
                skip_ws(s, i);
                continue;
            }
            break;
        }
        skip_ws(s, i);
        if (paren) {
            if (i >= s.size() || s[i] != ')') {
                set_error(error, "expected ')' after the version in '" + std::string(text) + "'");
                return std::nullopt;
            }
            ++i;
            skip_ws(s, i);
        }
        if (i < s.size() && s[i] != ';') {
            set_error(error, "expected a version specifier, ';' or the end in '" +
                                 std::string(text) + "'");
            return std::nullopt;
        }
        auto specs = parse_specifiers(joined, error);
        if (!specs) {
            return std::nullopt;
        }
        req.specifier = std::move(*specs);
        if (i < s.size()) {
            has_marker = true;
            marker_text = s.substr(i + 1);
        }
    }
    if (has_marker) {
        auto m = parse_marker(marker_text, error);
        if (!m) {
            return std::nullopt;
        }
        req.marker = std::move(*m);
    }
    return req;
}

}  // namespace alltalk::pep508
