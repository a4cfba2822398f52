#include "cudnn/needs.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "base/text.hpp"
#include "cudnn/candidates.hpp"
#include "cudnn/file_names.hpp"
#include "pypa/pep508.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

using text::leading_int;
using text::lower;
using text::trim;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.starts_with(prefix);
}

// False when a Requires-Dist line cannot name an nvidia-* project: every spelling of such a name
// (Nvidia_CUDNN.cu12, ...) starts with "nvidia" in some case, after optional white space.
bool may_name_nvidia(std::string_view line) {
    line = trim(line);
    return line.size() >= 6 && lower(line.substr(0, 6)) == "nvidia";
}

std::string cudnn_requirement(int major, const std::string& cuda_suffix) {
    return "nvidia-cudnn-" + cuda_suffix + "==" + std::to_string(major) + ".*";
}

}  // namespace

std::optional<SimpleRequirement> parse_simple_requirement(std::string_view line) {
    auto req = pep508::parse_requirement(line);
    if (!req) {
        return std::nullopt;
    }
    SimpleRequirement r;
    r.name = req->name;
    r.key = req->key;
    if (req->specifier.specs.size() == 1 && req->specifier.specs[0].op == "==" &&
        !req->specifier.specs[0].wildcard) {
        r.pinned = req->specifier.specs[0].version;
    }
    if (auto semi = line.find(';'); semi != std::string_view::npos && !req->marker.empty()) {
        r.marker = std::string(trim(line.substr(semi + 1)));
    }
    return r;
}

bool marker_may_apply(std::string_view marker, Platform platform) {
    if (trim(marker).empty()) {
        return true;
    }
    auto m = pep508::parse_marker(marker);
    if (!m) {
        return true;  // unreadable: do not drop a need on a guess
    }
    // The platform's variables only (the target may be a Windows layout read on Linux); a marker
    // on anything else (python_version, ...) cannot be decided here and is taken to apply.
    const bool linux = platform == Platform::Posix;
    const pep508::MarkerEnv env = {
        {"os_name", linux ? "posix" : "nt"},
        {"sys_platform", linux ? "linux" : "win32"},
        {"platform_system", linux ? "Linux" : "Windows"},
        {"platform_machine", linux ? "x86_64" : "AMD64"},
        {"platform_python_implementation", "CPython"},
        {"implementation_name", "cpython"},
    };
    auto result = m->evaluate(env, "");
    return result.value_or(true);
}

std::vector<int> cudnn_majors_in_names(const std::vector<std::string>& names, Platform platform) {
    std::vector<int> out;
    for (const auto& name : names) {
        const CudnnFileName file = classify_cudnn_file(name, platform);
        const int major = file.main ? file.major : -1;
        if (major > 0 && std::find(out.begin(), out.end(), major) == out.end()) {
            out.push_back(major);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<CudnnNeed> cudnn_needs(const NeedFacts& facts) {
    std::vector<CudnnNeed> out;
    auto add = [&](CudnnNeed need) {
        for (const auto& n : out) {
            if (n.major == need.major && n.who == need.who) {
                return;
            }
        }
        out.push_back(std::move(need));
    };
    // The CUDA flavour of the env's cuDNN wheels (cu12 / cu13), for fix commands.
    std::string cuda_suffix = "cu12";
    if (facts.scan) {
        for (const auto& dist : facts.scan->dists) {
            const std::string who = dist.name + " " + dist.version_text;
            bool pinned_cudnn = false;
            for (const auto& line : dist.requires_dist) {
                if (!may_name_nvidia(line)) {
                    continue;  // most lines: not worth a PEP 508 parse
                }
                auto req = parse_simple_requirement(line);
                if (!req || !starts_with(req->key, "nvidia-cudnn-cu") ||
                    !marker_may_apply(req->marker, facts.platform)) {
                    continue;
                }
                cuda_suffix = req->key.substr(std::string("nvidia-cudnn-").size());
                int major = req->pinned ? leading_int(*req->pinned) : -1;
                if (major <= 0) {
                    continue;  // a range: whatever is installed satisfies pip, not a major need
                }
                pinned_cudnn = true;
                add({major, who, "Requires-Dist: " + line, req->name + "==" + *req->pinned, "",
                     false});
            }
            if (pinned_cudnn) {
                continue;
            }
            // A cuDNN shipped in the package's own folder: torch\lib on Windows (and old Linux
            // wheels), or the main library bundled by auditwheel in <package>.libs (ctranslate2),
            // which loads its sub-libraries by plain name.
            std::string module = dist.key;
            std::replace(module.begin(), module.end(), '-', '_');
            // On Windows the DLLs sit in the package folder itself (ctranslate2\cudnn64_8.dll,
            // which then loads cudnn_ops_infer64_8.dll by name).
            // Where this distribution is installed: the env's site-packages, or the command's
            // overlay when the scan is its view.
            const fs::path site =
                dist.metadata_dir.empty() ? facts.site_packages : dist.metadata_dir.parent_path();
            std::vector<fs::path> dirs = {site / module / "lib", site / (module + ".libs")};
            if (facts.platform == Platform::Windows) {
                dirs.push_back(site / module);
            }
            for (const fs::path& dir : dirs) {
                auto names = list_names(dir);
                for (int major : cudnn_majors_in_names(names, facts.platform)) {
                    std::string file;
                    for (const auto& n : names) {
                        if (cudnn_majors_in_names({n}, facts.platform) == std::vector<int>{major}) {
                            file = n;
                            break;
                        }
                    }
                    add({major, who,
                         "ships " + (dir.lexically_relative(site) / file).generic_string(),
                         cudnn_requirement(major, cuda_suffix), "", true});
                }
            }
        }
        // ctranslate2: before 4.5.0 built against cuDNN 8, from 4.5.0 against cuDNN 9 (its
        // release notes); its Linux wheels bundle the cuDNN main library found above, the
        // Windows wheels bundle nothing and load cudnn64_N.dll / cudnn_ops_infer64_8.dll.
        if (const Distribution* ct2 = facts.scan->find("ctranslate2"); ct2 && ct2->version) {
            const bool old = *ct2->version < *pep440::parse("4.5.0");
            const int major = old ? 8 : 9;
            const std::string who = ct2->name + " " + ct2->version_text;
            bool have = false;
            for (const auto& n : out) {
                have = have || (n.who == who && n.major == major);
            }
            if (!have) {
                add({major, who,
                     old ? "ctranslate2 before 4.5.0 is built against cuDNN 8"
                         : "ctranslate2 from 4.5.0 is built against cuDNN 9",
                     cudnn_requirement(major, "cu12"), "", true});
            }
            for (auto& n : out) {
                if (n.who == who && n.major == 8) {
                    n.requirement =
                        cudnn_requirement(8, "cu12");  // cuDNN 8 exists for CUDA 12 only
                    n.alternative = "ctranslate2>=4.5.0";
                }
            }
        }
    }
    // A conda cudnn package (conda's pytorch links it): conda-meta/cudnn-9.1.1.17-<build>.json.
    for (const auto& name : list_names(facts.env_dir / "conda-meta")) {
        if (starts_with(name, "cudnn-") && name.size() > 6 &&
            std::isdigit(static_cast<unsigned char>(name[6]))) {
            int major = leading_int(std::string_view(name).substr(6));
            std::string version = name.substr(6, name.find('-', 6) - 6);
            add({major, "conda package cudnn " + version, "conda-meta/" + name,
                 "conda install cudnn=" + std::to_string(major), "", false});
        }
    }
    for (int major : facts.configured_majors) {
        add({major, "config", facts.configured_source + " [native] cudnn_majors",
             cudnn_requirement(major, cuda_suffix), "", false});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const CudnnNeed& a, const CudnnNeed& b) { return a.major < b.major; });
    return out;
}

}  // namespace alltalk
