#pragma once
// pip's installation report (`pip install --dry-run --report FILE`, pip >= 22.2; format version
// 0 and 1): what pip would install, each with its core metadata (PEP 566 JSON form). Pure: text in,
// a value out. pip's own resolver decides; this only reads what it decided.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pypa/site_packages.hpp"

namespace alltalk {

struct ReportItem {
    Distribution dist;       // name, key, version, requires_dist, provides_extra, requires_python
    bool requested = false;  // named on pip's command line (or in a requirements file)
    bool is_direct = false;  // a URL or path requirement (PEP 610)
    std::string url;         // download_info.url
};

struct PipReport {
    std::string version;      // of the report format: "0" or "1"
    std::string pip_version;  // of the pip that wrote it
    std::vector<ReportItem> install;
};

// Throws LaunchError (Stage::Fix) saying what is wrong with the text (not JSON, not a report, an
// item without a name or version).
PipReport parse_pip_report(std::string_view json_text);

// The oldest pip whose `install` has --dry-run and --report.
inline constexpr const char* kPipReportSince = "22.2";

}  // namespace alltalk
