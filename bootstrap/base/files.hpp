#pragma once
// File-system questions that never throw: a missing or unreadable path is simply "no".
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
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

// The whole file into `out`; false when it cannot be opened.
inline bool read_text(const std::filesystem::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

// The whole file; empty when it cannot be read.
inline std::string read_all(const std::filesystem::path& p) {
    std::string out;
    read_text(p, out);
    return out;
}

}  // namespace alltalk::files
