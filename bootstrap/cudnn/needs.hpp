#pragma once
// Which cuDNN major versions an env needs, derived from what is installed (never from a fixed
// table of torch versions): a Requires-Dist pin on an nvidia-cudnn-cuXX wheel (torch's Linux
// wheels), the cuDNN a package ships in its own folder (torch\lib on Windows), a conda cudnn
// package, ctranslate2's version (before 4.5.0 it is built against cuDNN 8, from 4.5.0 against 9),
// and extra majors named in the config. Pure: facts in, needs out.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/platform.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk {

struct CudnnNeed {
    int major = 0;
    std::string who;          // "torch 2.4.1", "ctranslate2 4.4.0", "config [native] cudnn_majors"
    std::string why;          // the metadata that says so
    std::string requirement;  // the pip requirement that provides it: "nvidia-cudnn-cu12==9.1.0.70"
    std::string alternative;  // another fix, e.g. "ctranslate2>=4.5.0" (empty when none)
    // Loaded only when the package runs on the GPU (ctranslate2 loads its cuDNN sub-libraries at
    // the first GPU operation), as opposed to at import (torch's libtorch_cuda needs libcudnn).
    bool gpu_only = false;
};

// The parts of one Requires-Dist line that the needs use (parsed with pep508.hpp): name, a lone
// `==` pin, and whether the marker can apply on the target platform (false for extras).
struct SimpleRequirement {
    std::string name;                   // as written
    std::string key;                    // PEP 503-normalised
    std::optional<std::string> pinned;  // the version of a lone `==X` specifier
    std::string marker;                 // text after ';'
};
std::optional<SimpleRequirement> parse_simple_requirement(std::string_view line);
// False when the marker names only another platform, or an extra (optional dependency).
bool marker_may_apply(std::string_view marker, Platform platform);

// cuDNN majors shipped in a folder, from its file names (libcudnn.so.9, cudnn64_9.dll,
// cudnn_ops_infer64_8.dll, ...), in ascending order.
std::vector<int> cudnn_majors_in_names(const std::vector<std::string>& names, Platform platform);

struct NeedFacts {
    const SiteScan* scan = nullptr;
    std::filesystem::path site_packages;
    std::filesystem::path env_dir;
    Platform platform = kHostPlatform;
    std::vector<int> configured_majors;  // [native] cudnn_majors
    std::string configured_source;       // where they came from, for messages
};

// Reads torch/lib and conda-meta where needed (directory listings only).
std::vector<CudnnNeed> cudnn_needs(const NeedFacts& facts);

}  // namespace alltalk
