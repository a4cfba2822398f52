#include "pypa/site_packages.hpp"

#include "base/files.hpp"
#include "base/text.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

#include "os/inputs.hpp"

namespace fs = std::filesystem;

namespace alltalk {

std::string normalize_name(std::string_view name) {
    // packaging.utils.canonicalize_name: each run of "-", "_" and "." becomes one "-", lower case.
    std::string out;
    out.reserve(name.size());
    for (char c : name) {
        if (c == '-' || c == '_' || c == '.') {
            if (out.empty() || out.back() != '-') {
                out += '-';
            }
            continue;
        }
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

const Distribution* SiteScan::find(std::string_view name) const {
    const std::string key = normalize_name(name);
    auto it =
        std::lower_bound(dists.begin(), dists.end(), key,
                         [](const Distribution& d, const std::string& k) { return d.key < k; });
    return (it != dists.end() && it->key == key) ? &*it : nullptr;
}

namespace {

std::string trim(std::string_view s) {
    return std::string(text::trim(s));
}

// The header block of a METADATA / PKG-INFO file: reading stops at the first empty line, so a
// long description (often tens of kB) is not read.
bool read_headers(const fs::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return false;
    }
    out.clear();
    char buf[16384];
    while (in) {
        in.read(buf, sizeof buf);
        const std::size_t old = out.size();
        out.append(buf, static_cast<std::size_t>(in.gcount()));
        const std::size_t from = old >= 3 ? old - 3 : 0;
        if (out.find("\n\n", from) != std::string::npos ||
            out.find("\n\r\n", from) != std::string::npos) {
            break;
        }
    }
    return true;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::optional<Distribution> parse_metadata(std::string_view text, const fs::path& where,
                                           std::vector<MetadataProblem>& problems,
                                           const std::string& dir_name,
                                           const std::string& dir_version) {
    Distribution d;
    std::string field, value;
    auto flush = [&] {
        if (field.empty()) {
            return;
        }
        std::string v = trim(value);
        if (iequals(field, "Name")) {
            d.name = v;
        } else if (iequals(field, "Version")) {
            d.version_text = v;
        } else if (iequals(field, "Requires-Dist")) {
            d.requires_dist.push_back(v);
        } else if (iequals(field, "Provides-Extra")) {
            d.provides_extra.push_back(v);
        } else if (iequals(field, "Requires-Python")) {
            d.requires_python = v;
        }
        field.clear();
        value.clear();
    };
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
        pos = eol == std::string_view::npos ? text.size() : eol + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            break;  // the body (long description) follows
        }
        if (line[0] == ' ' || line[0] == '\t') {
            value += "\n" + std::string(line);  // continuation
            continue;
        }
        flush();
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;  // not a header line; email parsers skip it too
        }
        field = std::string(line.substr(0, colon));
        value = std::string(line.substr(colon + 1));
    }
    flush();
    // pip (and importlib.metadata) take the name and version from a .dist-info folder's name
    // when it has them, before the METADATA fields.
    // The folder's name decides the identity (the key); the METADATA spelling, when it is the
    // same project, stays the display name ("nvidia-cudnn-cu12" rather than "nvidia_cudnn_cu12").
    std::string key_source = d.name;
    if (!dir_name.empty()) {
        key_source = dir_name;
        if (d.name.empty() || normalize_name(d.name) != normalize_name(dir_name)) {
            d.name = dir_name;
        }
    }
    if (!dir_version.empty()) {
        d.version_text = dir_version;
    }
    if (d.name.empty() || d.version_text.empty()) {
        problems.push_back({where, std::string("metadata without ") +
                                       (d.name.empty() ? "a Name" : "a Version") + " field"});
        return std::nullopt;
    }
    d.key = normalize_name(key_source);
    d.version = pep440::parse(d.version_text);
    return d;
}

std::vector<std::string> requires_txt_to_requires_dist(std::string_view text) {
    std::vector<std::string> out;
    std::string extra, marker;
    std::istringstream in{std::string(text)};
    std::string raw;
    while (std::getline(in, raw)) {
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#') {
            continue;
        }
        if (line.front() == '[' && line.back() == ']') {
            std::string section = line.substr(1, line.size() - 2);
            std::size_t colon = section.find(':');
            extra = trim(section.substr(0, colon));
            marker = colon == std::string::npos ? "" : trim(section.substr(colon + 1));
            continue;
        }
        std::string cond;
        if (!marker.empty()) {
            cond = "(" + marker + ")";
        }
        if (!extra.empty()) {
            cond += (cond.empty() ? "" : " and ") + std::string("extra == \"") + extra + "\"";
        }
        out.push_back(cond.empty() ? line : line + "; " + cond);
    }
    return out;
}

SiteScan layered(const SiteScan& overlay, const SiteScan& base) {
    SiteScan out = overlay;
    for (const auto& d : base.dists) {
        if (!overlay.find(d.key)) {
            out.dists.push_back(d);
        }
    }
    std::sort(out.dists.begin(), out.dists.end(),
              [](const Distribution& a, const Distribution& b) { return a.key < b.key; });
    out.problems.insert(out.problems.end(), base.problems.begin(), base.problems.end());
    return out;
}

SiteScan scan_site_packages(const fs::path& dir) {
    SiteScan scan;
    std::error_code ec;
    inputs::note(dir);
    fs::directory_iterator it(dir, ec);
    if (ec) {
        scan.problems.push_back({dir, "cannot read site-packages: " + ec.message()});
        return scan;
    }
    for (const auto& entry : it) {
        const fs::path& p = entry.path();
        const std::string ext = p.extension().string();
        fs::path meta;
        bool egg = false;
        if (ext == ".dist-info" && entry.is_directory(ec)) {
            meta = p / "METADATA";
        } else if (ext == ".egg-info") {
            egg = true;
            meta = entry.is_directory(ec) ? p / "PKG-INFO" : p;  // a bare PKG-INFO file too
        } else {
            continue;
        }
        // name-version.dist-info: pip's source of both; an egg-info name gives the name only.
        const std::string stem = p.stem().string();
        const std::size_t dash = stem.find('-');
        std::string dir_name = stem.substr(0, dash);
        std::string dir_version;
        if (!egg && dash != std::string::npos) {
            dir_version = stem.substr(dash + 1);
        } else if (!egg) {
            dir_name.clear();
        }
        std::string text;
        inputs::note(meta);
        if (!read_headers(meta, text)) {
            scan.problems.push_back({meta, "missing or unreadable metadata file"});
            if (egg || dir_version.empty()) {
                continue;
            }
        }
        auto dist = parse_metadata(text, meta, scan.problems, dir_name, dir_version);
        if (!dist) {
            continue;
        }
        dist->metadata_dir = p;
        if (egg && dist->requires_dist.empty()) {
            std::string requires_txt;
            inputs::note(p / "requires.txt");
            if (files::read_text(p / "requires.txt", requires_txt)) {
                dist->requires_dist = requires_txt_to_requires_dist(requires_txt);
            }
        }
        scan.dists.push_back(std::move(*dist));
    }
    std::stable_sort(scan.dists.begin(), scan.dists.end(),
                     [](const Distribution& a, const Distribution& b) { return a.key < b.key; });
    scan.dists.erase(
        std::unique(scan.dists.begin(), scan.dists.end(),
                    [](const Distribution& a, const Distribution& b) { return a.key == b.key; }),
        scan.dists.end());
    return scan;
}

std::string record_path(std::string_view line) {
    if (line.empty() || line.front() != '"') {
        return std::string(line.substr(0, line.find(',')));
    }
    std::string out;  // a quoted field: "" is one quote
    for (std::size_t i = 1; i < line.size(); ++i) {
        if (line[i] == '"') {
            if (i + 1 < line.size() && line[i + 1] == '"') {
                out += '"';
                ++i;
                continue;
            }
            break;
        }
        out += line[i];
    }
    return out;
}

std::vector<std::string> installed_files(const Distribution& d) {
    std::vector<std::string> out;
    std::string text;
    const bool egg = d.metadata_dir.extension() == ".egg-info";
    if (!files::read_text(d.metadata_dir / (egg ? "installed-files.txt" : "RECORD"), text)) {
        return out;
    }
    for (const auto& raw : text::split_nonempty(text, '\n')) {
        std::string line = trim(raw);
        if (line.empty()) {
            continue;
        }
        std::string path = egg ? line : record_path(line);
        std::replace(path.begin(), path.end(), '\\', '/');
        if (egg) {  // relative to the egg-info folder, which sits in site-packages
            path = (fs::path(d.metadata_dir.filename()) / path).lexically_normal().generic_string();
        }
        out.push_back(std::move(path));
    }
    return out;
}

std::vector<std::string> top_level_names(const Distribution& d) {
    std::vector<std::string> out;
    std::string text;
    if (!files::read_text(d.metadata_dir / "top_level.txt", text)) {
        return out;
    }
    for (const auto& raw : text::split_nonempty(text, '\n')) {
        if (std::string name = trim(raw); !name.empty()) {
            out.push_back(std::move(name));
        }
    }
    return out;
}

}  // namespace alltalk
