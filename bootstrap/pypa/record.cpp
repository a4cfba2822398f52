#include "pypa/record.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/files.hpp"
#include "base/text.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

// The CSV fields of one line.
std::vector<std::string> csv_fields(std::string_view line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                out.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

}  // namespace

std::optional<RecordEntry> parse_record_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
        line.remove_suffix(1);
    }
    std::vector<std::string> f = csv_fields(line);
    if (f[0].empty()) {
        return std::nullopt;
    }
    RecordEntry e;
    e.path = f[0];
    std::replace(e.path.begin(), e.path.end(), '\\', '/');
    if (f.size() > 1) {
        e.hash = f[1];
    }
    if (f.size() > 2 && !f[2].empty()) {
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), n);
        if (ec == std::errc() && end == f[2].data() + f[2].size()) {
            e.size = n;
        }
    }
    return e;
}

std::vector<RecordEntry> parse_record(std::string_view text) {
    std::vector<RecordEntry> out;
    for (const auto& line : text::split_nonempty(text, '\n')) {
        if (auto e = parse_record_line(line)) {
            out.push_back(std::move(*e));
        }
    }
    return out;
}

std::optional<std::vector<RecordEntry>> record_entries(const Distribution& d) {
    std::string text;
    if (d.metadata_dir.extension() != ".egg-info") {
        if (!files::read_text(d.metadata_dir / "RECORD", text)) {
            return std::nullopt;
        }
        return parse_record(text);
    }
    if (!files::read_text(d.metadata_dir / "installed-files.txt", text)) {
        return std::nullopt;
    }
    std::vector<RecordEntry> out;
    for (const auto& raw : text::split_nonempty(text, '\n')) {
        std::string line(raw);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.pop_back();
        }
        if (line.empty()) {
            continue;
        }
        std::replace(line.begin(), line.end(), '\\', '/');
        // Relative to the egg-info folder, which sits in site-packages.
        out.push_back(
            {(fs::path(d.metadata_dir.filename()) / line).lexically_normal().generic_string(), "",
             std::nullopt});
    }
    return out;
}

}  // namespace alltalk
