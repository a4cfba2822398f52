#pragma once
// File-system questions that never throw: a missing or unreadable path is simply "no".
#include <filesystem>
#include <system_error>

namespace alltalk::files {

// A regular file, or a link to one.
inline bool is_file(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
}

// A folder, or a link to one.
inline bool is_dir(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_directory(p, ec);
}

}  // namespace alltalk::files
