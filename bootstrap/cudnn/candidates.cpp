#include "cudnn/candidates.hpp"

#include "base/files.hpp"
#include "base/text.hpp"
#include "cudnn/file_names.hpp"
#include "os/dir_list.hpp"
#include "os/inputs.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <system_error>

namespace fs = std::filesystem;

namespace alltalk {

namespace {

bool starts_with(std::string_view s, std::string_view p) {
    return s.starts_with(p);
}

bool ends_with(std::string_view s, std::string_view p) {
    return s.ends_with(p);
}

int leading_int(std::string_view s, std::size_t pos) {
    return pos < s.size() ? text::leading_int(s.substr(pos)) : -1;
}

// A file of a folder that can serve cuDNN by plain name: auditwheel's renamed copies cannot.
CudnnFileName classify(const std::string& name, Platform platform) {
    CudnnFileName info = classify_cudnn_file(name, platform);
    return info.bundled ? CudnnFileName{} : info;
}

bool exists_dir(const fs::path& p) {
    inputs::note(p);
    return files::is_dir(p);
}

std::optional<std::string> read_small(const fs::path& p) {
    inputs::note(p);
    std::string text;
    if (!files::read_text(p, text)) {
        return std::nullopt;
    }
    return text;
}

// cudnn_version.h of a folder: ../include (CUDA toolkit, the nvidia-cudnn wheel), or the folder.
std::optional<std::string> header_beside(const fs::path& dir) {
    for (const fs::path& p :
         {dir.parent_path() / "include" / "cudnn_version.h", dir / "cudnn_version.h"}) {
        if (auto text = read_small(p)) {
            return text;
        }
    }
    return std::nullopt;
}

void ld_so_conf(const fs::path& file, std::vector<fs::path>& out, int depth) {
    auto text = read_small(file);
    if (!text || depth > 2) {
        return;
    }
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos) {
            line.erase(hash);
        }
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
            line.pop_back();
        }
        std::size_t b = line.find_first_not_of(" \t");
        if (b == std::string::npos) {
            continue;
        }
        line = line.substr(b);
        if (starts_with(line, "include")) {
            // Only the "include /etc/ld.so.conf.d/*.conf" form (a folder and a suffix glob).
            fs::path pattern = line.substr(line.find_first_not_of(" \t", 7));
            const std::string suffix = pattern.filename().string().substr(1);
            std::vector<fs::path> files;
            std::error_code ec;
            inputs::note(pattern.parent_path());
            for (fs::directory_iterator it(pattern.parent_path(), ec), end; !ec && it != end;
                 it.increment(ec)) {
                if (ends_with(it->path().filename().string(), suffix)) {
                    files.push_back(it->path());
                }
            }
            std::sort(files.begin(), files.end());
            for (const auto& f : files) {
                ld_so_conf(f, out, depth + 1);
            }
        } else {
            out.emplace_back(line);
        }
    }
}

// Whether a folder holds the main library of a plausible cuDNN major (a few stat calls).
bool has_main_library(const fs::path& dir, Platform platform) {
    for (int major = 7; major <= 12; ++major) {
        const std::string n = std::to_string(major);
        const fs::path main =
            dir / (platform == Platform::Windows ? "cudnn64_" + n + ".dll" : "libcudnn.so." + n);
        inputs::note(main);
        std::error_code ec;
        if (fs::exists(main, ec)) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::vector<std::string> list_names(const fs::path& dir) {
    inputs::note(dir);
    return dir_list::names(dir);
}

std::string CudnnCandidate::main_library() const {
    for (const auto& lib : libraries) {
        if (classify(lib, lib.size() > 4 && ends_with(text::lower(lib), ".dll") ? Platform::Windows
                                                                                : Platform::Posix)
                .main) {
            return lib;
        }
    }
    return {};
}

std::optional<std::string> version_from_header(const std::string& text) {
    auto value = [&](const std::string& name) -> int {
        const std::string key = "#define " + name + " ";
        auto at = text.find(key);
        if (at == std::string::npos) {
            return -1;
        }
        return leading_int(text, text.find_first_not_of(' ', at + key.size()));
    };
    int major = value("CUDNN_MAJOR"), minor = value("CUDNN_MINOR"),
        patch = value("CUDNN_PATCHLEVEL");
    if (major < 0 || minor < 0 || patch < 0) {
        return std::nullopt;
    }
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::vector<CudnnCandidate> version_cudnn_dir(const fs::path& dir,
                                              const std::vector<std::string>& names,
                                              Platform platform,
                                              const std::optional<std::string>& header) {
    std::vector<CudnnCandidate> out;
    auto of_major = [&](int major) -> CudnnCandidate& {
        for (auto& c : out) {
            if (c.major == major) {
                return c;
            }
        }
        CudnnCandidate c;
        c.dir = dir;
        c.major = major;
        c.version = std::to_string(major);
        c.version_source = "file names";
        out.push_back(std::move(c));
        return out.back();
    };
    std::vector<std::pair<int, std::pair<bool, bool>>> flags;
    for (const auto& name : names) {
        CudnnFileName info = classify(name, platform);
        if (info.major <= 0) {
            continue;
        }
        CudnnCandidate& c = of_major(info.major);
        c.libraries.push_back(name);
        if (!info.full_version.empty() &&
            (c.version_source == "file names" || info.full_version.size() > c.version.size())) {
            c.version = info.full_version;
            c.version_source = "file name " + name;
        }
        flags.push_back({info.major, {info.main, info.ops}});
    }
    for (auto& c : out) {
        bool main = false, ops = false;
        for (const auto& [m, f] : flags) {
            if (m == c.major) {
                main = main || f.first;
                ops = ops || f.second;
            }
        }
        c.complete = main && ops;
        std::sort(c.libraries.begin(), c.libraries.end());
        if (header) {
            if (auto v = version_from_header(*header);
                v && leading_int(*v, 0) == c.major && c.version_source == "file names") {
                c.version = *v;
                c.version_source = "cudnn_version.h";
            }
        }
    }
    std::sort(out.begin(), out.end(),
              [](const CudnnCandidate& a, const CudnnCandidate& b) { return a.major < b.major; });
    return out;
}

std::vector<std::pair<fs::path, std::string>> system_cudnn_dirs(const EnvMap& env_vars,
                                                                Platform platform) {
    std::vector<std::pair<fs::path, std::string>> out;
    if (platform == Platform::Windows) {
        if (auto path = lookup(env_vars, "PATH")) {
            for (const auto& d : text::split_nonempty(*path, ';')) {
                out.push_back({d, "PATH"});
            }
        }
        return out;
    }
    std::vector<fs::path> cuda;
    std::error_code ec;
    inputs::note("/usr/local");
    for (fs::directory_iterator it("/usr/local", ec), end; !ec && it != end; it.increment(ec)) {
        if (starts_with(it->path().filename().string(), "cuda")) {
            cuda.push_back(it->path());
        }
    }
    std::sort(cuda.begin(), cuda.end());  // /usr/local/cuda (the default link) first
    for (const auto& c : cuda) {
        out.push_back({c / "lib64", "CUDA toolkit " + c.string()});
        out.push_back({c / "lib", "CUDA toolkit " + c.string()});
    }
    if (auto ld = lookup(env_vars, "LD_LIBRARY_PATH")) {
        for (const auto& d : text::split_nonempty(*ld, ':')) {
            out.push_back({d, "LD_LIBRARY_PATH"});
        }
    }
    std::vector<fs::path> conf;
    ld_so_conf("/etc/ld.so.conf", conf, 0);
    for (const auto& d : conf) {
        out.push_back({d, "/etc/ld.so.conf"});
    }
    for (const char* d :
         {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"}) {
        out.push_back({d, "the loader's default folders"});
    }
    return out;
}

EnvMap cudnn_env_inputs(const EnvMap& env_vars, Platform platform) {
    EnvMap out;
    for (const auto& [name, value] : env_vars) {
        if (name == "CUDA_PATH" || starts_with(name, "CUDA_PATH_V") ||
            name == (platform == Platform::Windows ? "PATH" : "LD_LIBRARY_PATH")) {
            out[name] = value;
        }
    }
    return out;
}

std::vector<CudnnCandidate> find_cudnn_candidates(const CandidateFacts& facts) {
    const bool win = facts.platform == Platform::Windows;
    const fs::path& site = facts.env.site_packages;
    struct Place {
        fs::path dir;
        std::string origin;
        int rank;
        bool env_own;
    };
    std::vector<Place> places;
    if (facts.override_dir) {
        places.push_back({*facts.override_dir, facts.override_source, 0, false});
    }
    const char* libdir = win ? "bin" : "lib";
    if (facts.overlay_dir) {
        places.push_back({*facts.overlay_dir / "nvidia" / "cudnn" / libdir,
                          "the command's overlay's nvidia-cudnn wheel", 1, true});
        places.push_back({*facts.overlay_dir / "nvidia" / "cu13" / libdir,
                          "the command's overlay's nvidia-cudnn-cu13 wheel (cu13 layout)", 1,
                          true});
    }
    places.push_back({site / "nvidia" / "cudnn" / libdir, "the env's nvidia-cudnn wheel", 1, true});
    places.push_back({site / "nvidia" / "cu13" / libdir,
                      "the env's nvidia-cudnn-cu13 wheel (cu13 layout)", 1, true});
    places.push_back({site / "torch" / "lib", "torch/lib (the cuDNN torch ships)", 2, true});
    if (win) {
        places.push_back(
            {facts.env.dir / "Library" / "bin", "the conda env's Library/bin", 3, true});
    }
    places.push_back({facts.env.dir / "lib", "the env's lib folder", 3, true});
    // CUDA_PATH, then CUDA_PATH_V12_8 etc. (the installers set both), newest first.
    std::vector<std::pair<std::string, std::string>> cuda_vars;
    for (const auto& [name, value] : facts.env_vars) {
        if ((name == "CUDA_PATH" || starts_with(name, "CUDA_PATH_V")) && !value.empty()) {
            cuda_vars.push_back({name, value});
        }
    }
    std::sort(cuda_vars.begin(), cuda_vars.end(), [](const auto& a, const auto& b) {
        return (a.first == "CUDA_PATH") != (b.first == "CUDA_PATH") ? a.first == "CUDA_PATH"
                                                                    : a.first > b.first;
    });
    for (const auto& [name, value] : cuda_vars) {
        for (const char* sub :
             win ? std::vector<const char*>{"bin"} : std::vector<const char*>{"lib64", "lib"}) {
            places.push_back({fs::path(value) / sub, name, 4, false});
        }
    }
    for (const auto& [dir, origin] : facts.system_dirs) {
        places.push_back({dir, origin, 5, false});
    }

    // The env's nvidia-cudnn wheel knows its full version (9.1.0.70).
    std::vector<const Distribution*> wheels;
    if (facts.scan) {
        for (const auto& d : facts.scan->dists) {
            if (starts_with(d.key, "nvidia-cudnn-cu")) {
                wheels.push_back(&d);
            }
        }
    }

    std::vector<CudnnCandidate> out;
    std::set<std::string> seen;
    for (const auto& place : places) {
        if (!exists_dir(place.dir)) {
            continue;
        }
        const fs::path canon = inputs::canonical(place.dir);
        inputs::note_canonical(place.dir, canon);
        if (!seen.insert((canon.empty() ? place.dir : canon).string()).second) {
            continue;
        }
        if (place.rank >= 4 && !has_main_library(place.dir, facts.platform)) {
            continue;  // system folders can be large (/usr/lib/x86_64-linux-gnu): stat first
        }
        auto names = list_names(place.dir);
        bool any = false;
        for (const auto& n : names) {
            any = any || classify(n, facts.platform).major > 0;
        }
        if (!any) {
            continue;
        }
        for (auto& c :
             version_cudnn_dir(place.dir, names, facts.platform, header_beside(place.dir))) {
            c.origin = place.origin;
            c.rank = place.rank;
            c.env_own = place.env_own;
            for (const Distribution* w : wheels) {
                if (place.rank == 1 && leading_int(w->version_text, 0) == c.major) {
                    c.version = w->version_text;
                    c.version_source = w->name + " metadata";
                }
            }
            out.push_back(std::move(c));
        }
    }
    return out;
}

}  // namespace alltalk
