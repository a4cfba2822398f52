#pragma once
// SHA-256 of files, streamed in chunks (a 2 GB wheel file is never read into memory), and the form
// that a wheel's RECORD writes: "sha256=" + URL-safe base64 without padding. One implementation
// per platform: OpenSSL's EVP (sha256_posix.cpp), BCrypt (sha256_win32.cpp).
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace alltalk {

using Sha256Digest = std::array<unsigned char, 32>;

// The digest of a file's content; nullopt when it cannot be read.
std::optional<Sha256Digest> file_sha256(const std::filesystem::path& path);

// The digest of `data` (for small texts, and the tests).
Sha256Digest sha256_of(std::string_view data);

// "sha256=<urlsafe base64 without padding>", as in RECORD.
std::string sha256_record_form(const Sha256Digest& digest);

// file_sha256() in RECORD form.
std::optional<std::string> file_sha256_record(const std::filesystem::path& path);

}  // namespace alltalk
