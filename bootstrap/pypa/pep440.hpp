#pragma once
// PEP 440 versions: parsing, normalisation and ordering (epochs, pre/post/dev releases, local
// versions), as the `packaging` library that pip vendors implements them (checked against
// packaging's own test suite by tests/integration/test_packaging_suite.py).
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace alltalk::pep440 {

// A non-negative integer of any size, as Python's int: PEP 440 puts no limit on a version's
// numbers, and "1.0.20240101123456789012" is a valid version. Kept as its decimal digits.
class Number {
  public:
    Number() = default;
    Number(std::uint64_t value) : digits_(std::to_string(value)) {}  // NOLINT: implicit on purpose
    // nullopt when `digits` is empty, not all ASCII digits, or longer than Python's int() accepts
    // by default (4300 digits: packaging then raises ValueError).
    static std::optional<Number> parse(std::string_view digits);

    const std::string& str() const { return digits_; }
    bool is_zero() const { return digits_ == "0"; }
    Number next() const;  // this + 1

    friend bool operator==(const Number& a, const Number& b) = default;
    friend std::strong_ordering operator<=>(const Number& a, const Number& b) {
        if (a.digits_.size() != b.digits_.size()) {
            return a.digits_.size() <=> b.digits_.size();
        }
        return a.digits_.compare(b.digits_) <=> 0;
    }

  private:
    std::string digits_ = "0";  // no leading zeros
};

struct Version {
    Number epoch;
    std::vector<Number> release;
    std::optional<std::pair<std::string, Number>> pre;  // "a", "b" or "rc"
    std::optional<Number> post;
    std::optional<Number> dev;
    std::vector<std::variant<Number, std::string>> local;  // "+ubuntu.1" -> {"ubuntu", 1}

    // The normalised text, e.g. "1!2.0rc1.post2.dev3+local.7".
    std::string str() const;
    // Without the local part.
    std::string public_str() const;
    // Epoch and release only: packaging's base_version.
    std::string base_str() const;
    // The local part without "+" ("" when none).
    std::string local_str() const;
    bool is_prerelease() const { return pre.has_value() || dev.has_value(); }
    bool is_postrelease() const { return post.has_value(); }
    bool is_devrelease() const { return dev.has_value(); }
};

// nullopt when `text` is not a valid PEP 440 version. Python whitespace (Unicode's included) may
// surround it.
std::optional<Version> parse(std::string_view text);

// PEP 440 ordering: <0, 0 or >0.
int compare(const Version& a, const Version& b);

inline bool operator==(const Version& a, const Version& b) {
    return compare(a, b) == 0;
}
inline std::strong_ordering operator<=>(const Version& a, const Version& b) {
    return compare(a, b) <=> 0;
}

}  // namespace alltalk::pep440
