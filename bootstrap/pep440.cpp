#include "pep440.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>

namespace alltalk::pep440 {

namespace {

// packaging's VERSION_PATTERN, case-insensitive, surrounding whitespace allowed.
const std::regex& version_re() {
    static const std::regex re(R"(^\s*v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*))"
                               R"(([-_\.]?(alpha|beta|preview|pre|a|b|c|rc)[-_\.]?([0-9]+)?)?)"
                               R"(((?:-([0-9]+))|(?:[-_\.]?(post|rev|r)[-_\.]?([0-9]+)?))?)"
                               R"(([-_\.]?(dev)[-_\.]?([0-9]+)?)?))"
                               R"((?:\+([a-z0-9]+(?:[-_\.][a-z0-9]+)*))?\s*$)",
                               std::regex::icase | std::regex::optimize);
    return re;
}

bool to_number(const std::string& s, std::uint64_t& out) {
    out = 0;
    if (s.empty()) {
        return true;
    }
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool all_digits(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::optional<Version> parse(std::string_view text) {
    std::string s(text);
    std::smatch m;
    if (!std::regex_match(s, m, version_re())) {
        return std::nullopt;
    }
    Version v;
    if (!to_number(m[1].str(), v.epoch)) {
        return std::nullopt;
    }
    std::string release = m[2].str();
    for (std::size_t start = 0; start <= release.size();) {
        std::size_t dot = release.find('.', start);
        std::string part = release.substr(start, dot == std::string::npos ? dot : dot - start);
        std::uint64_t n = 0;
        if (!to_number(part, n)) {
            return std::nullopt;
        }
        v.release.push_back(n);
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    if (m[3].matched) {
        std::string letter = lower(m[4].str());
        if (letter == "alpha") {
            letter = "a";
        } else if (letter == "beta") {
            letter = "b";
        } else if (letter == "c" || letter == "pre" || letter == "preview") {
            letter = "rc";
        }
        std::uint64_t n = 0;
        if (!to_number(m[5].str(), n)) {
            return std::nullopt;
        }
        v.pre = std::make_pair(letter, n);
    }
    if (m[6].matched) {
        std::uint64_t n = 0;
        if (!to_number(m[7].matched ? m[7].str() : m[9].str(), n)) {
            return std::nullopt;
        }
        v.post = n;
    }
    if (m[10].matched) {
        std::uint64_t n = 0;
        if (!to_number(m[12].str(), n)) {
            return std::nullopt;
        }
        v.dev = n;
    }
    if (m[13].matched) {
        std::string local = lower(m[13].str());
        std::size_t start = 0;
        while (start <= local.size()) {
            std::size_t sep = local.find_first_of("-_.", start);
            std::string part = local.substr(start, sep == std::string::npos ? sep : sep - start);
            std::uint64_t n = 0;
            if (all_digits(part) && to_number(part, n)) {
                v.local.emplace_back(n);
            } else {
                v.local.emplace_back(part);
            }
            if (sep == std::string::npos) {
                break;
            }
            start = sep + 1;
        }
    }
    return v;
}

std::string Version::public_str() const {
    std::string out;
    if (epoch) {
        out += std::to_string(epoch) + "!";
    }
    for (std::size_t i = 0; i < release.size(); ++i) {
        out += (i ? "." : "") + std::to_string(release[i]);
    }
    if (pre) {
        out += pre->first + std::to_string(pre->second);
    }
    if (post) {
        out += ".post" + std::to_string(*post);
    }
    if (dev) {
        out += ".dev" + std::to_string(*dev);
    }
    return out;
}

std::string Version::str() const {
    std::string out = public_str();
    for (std::size_t i = 0; i < local.size(); ++i) {
        out += i ? "." : "+";
        if (const auto* n = std::get_if<std::uint64_t>(&local[i])) {
            out += std::to_string(*n);
        } else {
            out += std::get<std::string>(local[i]);
        }
    }
    return out;
}

namespace {

// The sort key of packaging's _cmpkey, as ranks: -1 = "negative infinity", 1 = "infinity".
int pre_rank(const Version& v, std::string& letter, std::uint64_t& n) {
    if (!v.pre && !v.post && v.dev) {
        return -1;  // 1.0.dev0 sorts before 1.0a0
    }
    if (!v.pre) {
        return 1;
    }
    letter = v.pre->first;
    n = v.pre->second;
    return 0;
}

template <typename T>
int cmp(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_local(const Version& a, const Version& b) {
    if (a.local.empty() || b.local.empty()) {
        return cmp(!a.local.empty(), !b.local.empty());  // none sorts first
    }
    std::size_t n = std::min(a.local.size(), b.local.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto* an = std::get_if<std::uint64_t>(&a.local[i]);
        const auto* bn = std::get_if<std::uint64_t>(&b.local[i]);
        if (an && bn) {
            if (int c = cmp(*an, *bn)) {
                return c;
            }
        } else if (an || bn) {
            return an ? 1 : -1;  // numeric segments sort after alphanumeric ones
        } else if (int c =
                       cmp(std::get<std::string>(a.local[i]), std::get<std::string>(b.local[i]))) {
            return c;
        }
    }
    return cmp(a.local.size(), b.local.size());
}

}  // namespace

int compare(const Version& a, const Version& b) {
    if (int c = cmp(a.epoch, b.epoch)) {
        return c;
    }
    // Release, trailing zeros ignored.
    std::size_t n = std::max(a.release.size(), b.release.size());
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t x = i < a.release.size() ? a.release[i] : 0;
        std::uint64_t y = i < b.release.size() ? b.release[i] : 0;
        if (int c = cmp(x, y)) {
            return c;
        }
    }
    std::string al, bl;
    std::uint64_t an = 0, bn = 0;
    int ar = pre_rank(a, al, an), br = pre_rank(b, bl, bn);
    if (int c = cmp(ar, br)) {
        return c;
    }
    if (ar == 0) {
        if (int c = cmp(al, bl)) {
            return c;  // "a" < "b" < "rc"
        }
        if (int c = cmp(an, bn)) {
            return c;
        }
    }
    // Post: none sorts first.
    if (int c = cmp(a.post.has_value(), b.post.has_value())) {
        return c;
    }
    if (a.post && *a.post != *b.post) {
        return cmp(*a.post, *b.post);
    }
    // Dev: none sorts last.
    if (int c = cmp(!a.dev.has_value(), !b.dev.has_value())) {
        return c;
    }
    if (a.dev && *a.dev != *b.dev) {
        return cmp(*a.dev, *b.dev);
    }
    return compare_local(a, b);
}

}  // namespace alltalk::pep440
