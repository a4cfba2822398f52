#include "pypa/pep440.hpp"

#include <algorithm>
#include <cctype>

#include "base/text.hpp"

namespace alltalk::pep440 {

namespace {

// A hand-written scanner for packaging's VERSION_PATTERN (case-insensitive, surrounding whitespace
// allowed). std::regex did the same in 10-20 µs per version, which the doctor pays thousands of
// times per run; this is ~50× faster. Each optional part may be absent, and a separator that no
// part claims makes the text invalid, exactly as the regex's backtracking decides.
class Scanner {
  public:
    explicit Scanner(std::string_view s) : s_(s) {}

    std::optional<Version> run() {
        skip_space();
        if (peek() == 'v') {
            ++i_;
        }
        std::size_t save = i_;
        Number n;
        if (number(n) && peek() == '!') {
            v_.epoch = n;
            ++i_;
        } else {
            i_ = save;
        }
        if (!release()) {
            return std::nullopt;
        }
        if (!rest(Stage::Pre)) {
            return std::nullopt;
        }
        return v_;
    }

  private:
    enum class Stage { Pre, Post, Dev, Local, End };

    char peek(std::size_t k = 0) const {
        std::size_t j = i_ + k;
        return j < s_.size() ? static_cast<char>(std::tolower(static_cast<unsigned char>(s_[j])))
                             : '\0';
    }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }
    static bool is_sep(char c) { return c == '-' || c == '_' || c == '.'; }
    static bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }
    void skip_space() {
        while (std::size_t n = text::python_space_at(s_, i_)) {
            i_ += n;
        }
    }
    bool number(Number& out) {
        std::size_t b = i_;
        while (is_digit(peek())) {
            ++i_;
        }
        auto n = Number::parse(s_.substr(b, i_ - b));
        if (!n) {
            return false;  // no digits, or more than Python's int() reads
        }
        out = std::move(*n);
        return true;
    }
    bool word(std::string_view w) {
        for (std::size_t k = 0; k < w.size(); ++k) {
            if (peek(k) != w[k]) {
                return false;
            }
        }
        i_ += w.size();
        return true;
    }
    bool release() {
        Number n;
        if (!number(n)) {
            return false;
        }
        v_.release.push_back(n);
        while (peek() == '.' && is_digit(peek(1))) {
            ++i_;
            if (!number(n)) {
                return false;
            }
            v_.release.push_back(n);
        }
        return true;
    }
    // `[-_.]? digits?` after a pre/post/dev letter; the separator alone is allowed only when the
    // rest still matches, so both readings are tried.
    bool letter_number(std::optional<Number>& n, Stage next) {
        const std::size_t save = i_;
        const Snapshot keep = snapshot();
        if (is_sep(peek())) {
            ++i_;
        }
        Number value;
        if (is_digit(peek())) {
            if (!number(value)) {
                return false;
            }
            n = value;
            return rest(next);
        }
        n = 0;
        if (i_ != save && rest(next)) {
            return true;
        }
        i_ = save;
        restore(keep);
        n = 0;
        return rest(next);
    }
    // What the optional parts change: saved and restored when a reading is abandoned (copying the
    // whole Version would copy its release vector at every step).
    struct Snapshot {
        std::optional<std::pair<std::string, Number>> pre;
        std::optional<Number> post, dev;
        std::size_t local_size;
    };
    Snapshot snapshot() const { return {v_.pre, v_.post, v_.dev, v_.local.size()}; }
    void restore(const Snapshot& s) {
        v_.pre = s.pre;
        v_.post = s.post;
        v_.dev = s.dev;
        v_.local.resize(s.local_size);
    }

    bool rest(Stage stage) {
        const std::size_t save = i_;
        const Snapshot keep = snapshot();
        auto undo = [&] {
            i_ = save;
            restore(keep);
        };
        switch (stage) {
            case Stage::Pre: {
                if (is_sep(peek())) {
                    ++i_;
                }
                static constexpr std::pair<std::string_view, std::string_view> kLetters[] = {
                    {"alpha", "a"}, {"beta", "b"}, {"preview", "rc"}, {"pre", "rc"},
                    {"a", "a"},     {"b", "b"},    {"c", "rc"},       {"rc", "rc"}};
                for (const auto& [text, norm] : kLetters) {
                    if (word(text)) {
                        std::optional<Number> n;
                        v_.pre = std::make_pair(std::string(norm), Number{});
                        if (letter_number(n, Stage::Post)) {
                            v_.pre->second = n.value_or(0);
                            return true;
                        }
                        break;
                    }
                }
                undo();
                return rest(Stage::Post);
            }
            case Stage::Post: {
                if (peek() == '-' && is_digit(peek(1))) {
                    ++i_;
                    Number n;
                    if (number(n)) {
                        v_.post = n;
                        if (rest(Stage::Dev)) {
                            return true;
                        }
                    }
                    undo();
                }
                if (is_sep(peek())) {
                    ++i_;
                }
                for (std::string_view text : {"post", "rev", "r"}) {
                    if (word(text)) {
                        std::optional<Number> n;
                        v_.post = Number{};
                        if (letter_number(n, Stage::Dev)) {
                            v_.post = n.value_or(0);
                            return true;
                        }
                        break;
                    }
                }
                undo();
                return rest(Stage::Dev);
            }
            case Stage::Dev: {
                if (is_sep(peek())) {
                    ++i_;
                }
                if (word("dev")) {
                    std::optional<Number> n;
                    v_.dev = Number{};
                    if (letter_number(n, Stage::Local)) {
                        v_.dev = n.value_or(0);
                        return true;
                    }
                }
                undo();
                return rest(Stage::Local);
            }
            case Stage::Local: {
                if (peek() == '+') {
                    ++i_;
                    std::string part;
                    bool ok = true;
                    while (true) {
                        part.clear();
                        while (is_alnum(peek())) {
                            part += peek();
                            ++i_;
                        }
                        if (part.empty()) {
                            ok = false;
                            break;
                        }
                        const bool digits = std::all_of(part.begin(), part.end(), is_digit);
                        if (digits) {
                            auto n = Number::parse(part);
                            if (!n) {
                                ok = false;  // more digits than Python's int() reads
                                break;
                            }
                            v_.local.emplace_back(std::move(*n));
                        } else {
                            v_.local.emplace_back(part);
                        }
                        if (is_sep(peek()) && is_alnum(peek(1))) {
                            ++i_;
                            continue;
                        }
                        break;
                    }
                    if (ok && rest(Stage::End)) {
                        return true;
                    }
                    undo();
                    return false;
                }
                return rest(Stage::End);
            }
            case Stage::End:
                skip_space();
                if (i_ == s_.size()) {
                    return true;
                }
                undo();
                return false;
        }
        return false;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    Version v_;
};

}  // namespace

std::optional<Version> parse(std::string_view text) {
    return Scanner(text).run();
}

std::optional<Number> Number::parse(std::string_view digits) {
    constexpr std::size_t kPythonIntMaxDigits = 4300;  // sys.get_int_max_str_digits()
    if (digits.empty() || digits.size() > kPythonIntMaxDigits ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    while (digits.size() > 1 && digits.front() == '0') {
        digits.remove_prefix(1);
    }
    Number n;
    n.digits_ = std::string(digits);
    return n;
}

Number Number::next() const {
    Number n = *this;
    std::size_t i = n.digits_.size();
    while (i > 0 && n.digits_[i - 1] == '9') {
        n.digits_[--i] = '0';
    }
    if (i == 0) {
        n.digits_.insert(n.digits_.begin(), '1');
    } else {
        ++n.digits_[i - 1];
    }
    return n;
}

std::string Version::base_str() const {
    std::string out;
    if (!epoch.is_zero()) {
        out += epoch.str() + "!";
    }
    for (std::size_t i = 0; i < release.size(); ++i) {
        out += (i ? "." : "") + release[i].str();
    }
    return out;
}

std::string Version::public_str() const {
    std::string out = base_str();
    if (pre) {
        out += pre->first + pre->second.str();
    }
    if (post) {
        out += ".post" + post->str();
    }
    if (dev) {
        out += ".dev" + dev->str();
    }
    return out;
}

std::string Version::local_str() const {
    std::string out;
    for (std::size_t i = 0; i < local.size(); ++i) {
        out += i ? "." : "";
        if (const auto* n = std::get_if<Number>(&local[i])) {
            out += n->str();
        } else {
            out += std::get<std::string>(local[i]);
        }
    }
    return out;
}

std::string Version::str() const {
    return local.empty() ? public_str() : public_str() + "+" + local_str();
}

namespace {

// The sort key of packaging's _cmpkey, as ranks: -1 = "negative infinity", 1 = "infinity".
int pre_rank(const Version& v, std::string& letter, Number& n) {
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
        const auto* an = std::get_if<Number>(&a.local[i]);
        const auto* bn = std::get_if<Number>(&b.local[i]);
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
        static const Number zero;
        const Number& x = i < a.release.size() ? a.release[i] : zero;
        const Number& y = i < b.release.size() ? b.release[i] : zero;
        if (int c = cmp(x, y)) {
            return c;
        }
    }
    std::string al, bl;
    Number an, bn;
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
