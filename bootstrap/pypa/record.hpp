#pragma once
// The lines of a wheel's RECORD (PEP 376 / the binary distribution format): CSV rows of
// path,hash,size. The path is '/'-separated and relative to site-packages (it may start with "../"
// for scripts); hash is "sha256=<urlsafe base64>" or empty (RECORD itself, .pyc files written at
// install time); size is empty when hash is.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pypa/site_packages.hpp"

namespace alltalk {

struct RecordEntry {
    std::string path;
    std::string hash;                   // empty: none given
    std::optional<std::uint64_t> size;  // nullopt: none given
};

// One CSV line (quoted fields, "" for a quote inside); nullopt for a line with no path.
std::optional<RecordEntry> parse_record_line(std::string_view line);

// Every line of a RECORD text ('\r' tolerated).
std::vector<RecordEntry> parse_record(std::string_view text);

// The files a distribution installed with what its metadata says of them: a dist-info's RECORD
// (with hashes), or an egg-info's installed-files.txt (paths only, made relative to
// site-packages). nullopt when the distribution has neither list.
std::optional<std::vector<RecordEntry>> record_entries(const Distribution& d);

}  // namespace alltalk
