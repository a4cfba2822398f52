#pragma once
// PEP 440 versions: parsing, normalisation and ordering (epochs, pre/post/dev releases, local
// versions), as the `packaging` library that pip vendors implements them.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace alltalk::pep440 {

struct Version {
    std::uint64_t epoch = 0;
    std::vector<std::uint64_t> release;
    std::optional<std::pair<std::string, std::uint64_t>> pre;  // "a", "b" or "rc"
    std::optional<std::uint64_t> post;
    std::optional<std::uint64_t> dev;
    std::vector<std::variant<std::uint64_t, std::string>> local;  // "+ubuntu.1" -> {"ubuntu", 1}

    // The normalised text, e.g. "1!2.0rc1.post2.dev3+local.7".
    std::string str() const;
    // Without the local part.
    std::string public_str() const;
    bool is_prerelease() const { return pre.has_value() || dev.has_value(); }
    bool is_postrelease() const { return post.has_value(); }
    bool is_devrelease() const { return dev.has_value(); }
};

// nullopt when `text` is not a valid PEP 440 version.
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
