// Platform-neutral parts of sha256.hpp: the RECORD form.
#include "os/sha256.hpp"

namespace alltalk {

std::string sha256_record_form(const Sha256Digest& digest) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out = "sha256=";
    std::size_t i = 0;
    for (; i + 3 <= digest.size(); i += 3) {
        const unsigned v = (digest[i] << 16) | (digest[i + 1] << 8) | digest[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    // 32 bytes: two left over, three characters and no padding.
    const unsigned v = (digest[i] << 16) | (digest[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    return out;
}

std::optional<std::string> file_sha256_record(const std::filesystem::path& path) {
    if (auto digest = file_sha256(path)) {
        return sha256_record_form(*digest);
    }
    return std::nullopt;
}

}  // namespace alltalk
