#include "pypa/pep508.hpp"

#include <algorithm>
#include <cctype>
#include <variant>

#include "base/text.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::pep508 {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

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
    for (std::size_t i = 0; i < spec.release.size(); ++i) {
        std::uint64_t x = i < v.release.size() ? v.release[i] : 0;
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

// One clause, e.g. ">= 1.0" (whitespace around allowed), as packaging's Specifier() accepts it.
std::optional<Specifier> parse_one(std::string_view text, std::string* error) {
    std::string_view s = trim(text);
    const std::string_view op = read_operator(s);
    if (op.empty()) {
        set_error(error, "invalid specifier '" + std::string(s) + "': no operator");
        return std::nullopt;
    }
    std::string_view ver = trim(s.substr(op.size()));
    Specifier spec;
    spec.op = std::string(op);
    auto bad = [&](const char* why) {
        set_error(error, "invalid specifier '" + std::string(s) + "': " + why);
        return std::nullopt;
    };
    if (op == "===") {
        for (char c : ver) {
            if (is_space(c) || c == ';' || c == ')') {
                return bad("spaces in an arbitrary version");
            }
        }
        spec.version = std::string(ver);
        return spec;
    }
    if ((op == "==" || op == "!=") && ver.size() >= 2 && ver.substr(ver.size() - 2) == ".*") {
        spec.wildcard = true;
        spec.version = std::string(ver.substr(0, ver.size() - 2));
        spec.parsed = parse_release_only(spec.version);
        if (!spec.parsed) {
            return bad("a .* prefix must be a plain release number");
        }
        return spec;
    }
    for (char c : ver) {
        if (is_space(c)) {
            return bad("spaces inside the version");
        }
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

}  // namespace

bool Specifier::contains(const pep440::Version& v, std::string_view) const {
    if (op == "===") {
        return lower(v.str()) == lower(version);
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
            bound.dev = 0;
            bound.local.clear();
        }
        return pep440::compare(v, bound) < 0;
    }
    if (op == ">") {
        if (sv.dev) {
            pep440::Version lower = sv;
            lower.dev = *sv.dev + 1;
            lower.local.clear();
            return pep440::compare(v, lower) >= 0;
        }
        if (sv.post) {
            pep440::Version lower = sv;
            lower.post = *sv.post + 1;
            lower.dev = 0;
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

std::string Specifier::str() const {
    return op + version + (wildcard ? ".*" : "");
}

bool SpecifierSet::contains(const pep440::Version& v, std::string_view raw_text) const {
    return std::all_of(specs.begin(), specs.end(),
                       [&](const Specifier& s) { return s.contains(v, raw_text); });
}

std::string SpecifierSet::str() const {
    std::vector<std::string> parts;
    for (const auto& s : specs) {
        parts.push_back(s.str());
    }
    std::sort(parts.begin(), parts.end());
    std::string out;
    for (const auto& p : parts) {
        out += (out.empty() ? "" : ",") + p;
    }
    return out;
}

namespace {

std::string canonical_key(const Specifier& spec) {
    if (spec.wildcard || !spec.parsed) {
        return spec.op + spec.version + (spec.wildcard ? ".*" : "");
    }
    pep440::Version v = *spec.parsed;
    if (spec.op != "~=") {
        while (v.release.size() > 1 && v.release.back() == 0) {
            v.release.pop_back();
        }
    }
    return spec.op + v.str();
}

}  // namespace

std::optional<SpecifierSet> parse_specifiers(std::string_view text, std::string* error) {
    SpecifierSet set;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        std::string_view part = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (!trim(part).empty()) {
            auto spec = parse_one(part, error);
            if (!spec) {
                return std::nullopt;
            }
            // A set: packaging drops clauses equal to an earlier one (same operator, same
            // canonical version with trailing zeros stripped except for ~=).
            const std::string key = canonical_key(*spec);
            if (std::none_of(set.specs.begin(), set.specs.end(),
                             [&](const Specifier& o) { return canonical_key(o) == key; })) {
                set.specs.push_back(std::move(*spec));
            }
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
        if (atom.lhs_is_var == atom.rhs_is_var) {
            // packaging parses this but cannot evaluate it; keep it and fail at evaluation.
        }
        ws();
        // PEP 685: extra names compare normalised.
        if (atom.lhs_is_var && atom.lhs == "extra" && !atom.rhs_is_var) {
            atom.rhs = normalize_name(atom.rhs);
        } else if (atom.rhs_is_var && atom.rhs == "extra" && !atom.lhs_is_var) {
            atom.lhs = normalize_name(atom.lhs);
        }
        node.items.emplace_back(std::move(atom));
        return true;
    }
    bool var(bool& is_var, std::string& out, std::string* error) {
        if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'')) {
            char q = s_[i_];
            std::size_t end = s_.find(q, i_ + 1);
            if (end == std::string_view::npos) {
                return set_error(error, "unterminated string in marker");
            }
            is_var = false;
            out = std::string(s_.substr(i_ + 1, end - i_ - 1));
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

std::optional<bool> eval_op(const std::string& lhs, const std::string& op, const std::string& rhs,
                            const std::string& key, std::string* error) {
    if (is_version_key(key)) {
        if (!read_operator(op).empty() && read_operator(op).size() == op.size()) {
            std::string ignored;
            if (auto spec = parse_one(op + rhs, &ignored)) {
                if (spec->op == "===") {
                    return lower(lhs) == lower(spec->version);  // the raw strings
                }
                auto v = pep440::parse(lhs);
                if (!v) {
                    return false;  // packaging >= 26: an unparsable version never matches
                }
                return spec->contains(*v, lhs);
            }
        }
    }
    // packaging >= 26 outside version keys: only equality is defined for ordered operators
    // ("<" and ">" are never true, "<=" and ">=" mean equal).
    if (op == "==" || op == "<=" || op == ">=") {
        return lhs == rhs;
    }
    if (op == "!=") {
        return lhs != rhs;
    }
    if (op == "<" || op == ">") {
        return false;
    }
    if (op == "in") {
        return rhs.find(lhs) != std::string::npos;
    }
    if (op == "not in") {
        return rhs.find(lhs) == std::string::npos;
    }
    set_error(error, "undefined comparison '" + op + "' on '" + lhs + "' and '" + rhs + "'");
    return std::nullopt;
}

std::optional<bool> eval_node(const MarkerNode& node, const MarkerEnv& env, std::string_view extra,
                              std::string* error) {
    // packaging evaluates every atom (errors surface even when the result is already known), then
    // any(all(and-group) for each or-group).
    std::vector<std::vector<bool>> groups(1);
    for (std::size_t i = 0; i < node.items.size(); ++i) {
        if (i > 0 && node.or_ops[i - 1]) {
            groups.emplace_back();
        }
        std::optional<bool> r;
        if (const auto* sub = std::get_if<std::shared_ptr<const MarkerNode>>(&node.items[i])) {
            r = eval_node(**sub, env, extra, error);
        } else {
            const auto& a = std::get<MarkerNode::Atom>(node.items[i]);
            if (a.lhs_is_var == a.rhs_is_var) {
                set_error(error, "a marker must compare a variable with a string");
                return std::nullopt;
            }
            const std::string& key = a.lhs_is_var ? a.lhs : a.rhs;
            std::string value;
            if (key == "extra") {
                value = normalize_name(extra);
            } else {
                auto it = env.find(key);
                if (it == env.end()) {
                    set_error(error, "marker variable '" + key + "' is not defined here");
                    return std::nullopt;
                }
                value = it->second;
            }
            const std::string& lhs = a.lhs_is_var ? value : a.lhs;
            const std::string& rhs = a.lhs_is_var ? a.rhs : value;
            r = eval_op(lhs, a.op, rhs, key, error);
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
    if (!root_) {
        return true;
    }
    return eval_node(*root_, env, extra, error);
}

namespace {

std::string quote_value(const std::string& v) {
    if (v.find('"') == std::string::npos) {
        return '"' + v + '"';
    }
    return "'" + v + "'";
}

std::string format_node(const MarkerNode& node, bool first) {
    if (node.items.size() == 1) {
        if (const auto* sub = std::get_if<std::shared_ptr<const MarkerNode>>(&node.items[0])) {
            return format_node(**sub, first);
        }
    }
    std::string out;
    for (std::size_t i = 0; i < node.items.size(); ++i) {
        if (i > 0) {
            out += node.or_ops[i - 1] ? " or " : " and ";
        }
        if (const auto* sub = std::get_if<std::shared_ptr<const MarkerNode>>(&node.items[i])) {
            out += format_node(**sub, false);
        } else {
            const auto& a = std::get<MarkerNode::Atom>(node.items[i]);
            out += (a.lhs_is_var ? a.lhs : quote_value(a.lhs)) + " " + a.op + " " +
                   (a.rhs_is_var ? a.rhs : quote_value(a.rhs));
        }
    }
    if (node.items.size() == 1 && std::holds_alternative<MarkerNode::Atom>(node.items[0])) {
        return out;
    }
    return first ? out : "(" + out + ")";
}

}  // namespace

std::string Marker::str() const {
    return root_ ? format_node(*root_, true) : std::string();
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
                req.extras.emplace_back(extra);
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
            while (i < s.size() && is_space(s[i])) {
                ++i;
            }
            const bool arbitrary = op == "===";
            while (i < s.size() && !is_space(s[i]) && s[i] != ';' && s[i] != ')' &&
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
