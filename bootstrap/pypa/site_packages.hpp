#pragma once
// The installed distributions of an env, read from site-packages without running Python:
// *.dist-info/METADATA, *.egg-info/PKG-INFO (+ requires.txt), and egg-info folders of editable
// installs. Names are PEP 503-normalised for lookups; versions parsed as PEP 440.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pypa/pep440.hpp"

namespace alltalk {

struct Distribution {
    std::string name;                        // as the metadata writes it
    std::string key;                         // PEP 503-normalised name
    std::string version_text;                // as written
    std::optional<pep440::Version> version;  // nullopt when not PEP 440
    std::vector<std::string> requires_dist;  // PEP 508 strings, as written
    std::vector<std::string> provides_extra;
    std::optional<std::string> requires_python;
    std::filesystem::path metadata_dir;  // the .dist-info / .egg-info folder (or PKG-INFO file)
};

struct MetadataProblem {
    std::filesystem::path path;
    std::string message;
};

struct SiteScan {
    std::vector<Distribution> dists;  // sorted by key; the first found wins on duplicates
    std::vector<MetadataProblem> problems;

    const Distribution* find(std::string_view name) const;  // any spelling of the name
};

// A command's view of an env with an overlay (discover/overlay.hpp): the overlay's
// distributions, then the base's that the overlay does not hold (one per name, the overlay's
// first, as Python finds them with the overlay ahead on sys.path); problems of both.
SiteScan layered(const SiteScan& overlay, const SiteScan& base);

// PEP 503: lower case, runs of "-", "_" and "." become one "-".
std::string normalize_name(std::string_view name);

// Reads the header fields of one METADATA / PKG-INFO text (RFC 822 style).
// Problems (no Name, no Version) are appended to `problems` and nullopt returned.
// `dir_name` / `dir_version` (from a "name-version.dist-info" folder) take precedence, as in pip.
std::optional<Distribution> parse_metadata(std::string_view text,
                                           const std::filesystem::path& where,
                                           std::vector<MetadataProblem>& problems,
                                           const std::string& dir_name = {},
                                           const std::string& dir_version = {});

// egg-info requires.txt: "[extra:marker]" sections become PEP 508 markers on each line.
std::vector<std::string> requires_txt_to_requires_dist(std::string_view text);

// Scans one site-packages folder. A missing folder gives an empty scan with one problem.
SiteScan scan_site_packages(const std::filesystem::path& dir);

// The files a distribution installed, '/'-separated and relative to its site-packages folder:
// a dist-info's RECORD, an egg-info's installed-files.txt (made relative to site-packages).
// Read on demand (failure explanations only); empty when the list is missing.
std::vector<std::string> installed_files(const Distribution& d);

// The lines of the distribution's top_level.txt (setuptools' list of its top-level modules);
// empty when it has none.
std::vector<std::string> top_level_names(const Distribution& d);

// The path of one RECORD line (CSV: path,hash,size; the path quoted when it holds a comma).
std::string record_path(std::string_view line);

}  // namespace alltalk
