#include "gpu/torch_arch.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "os/bounded_read.hpp"
#include "os/inputs.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

// The first containers decide: every unit carries TORCH_CUDA_ARCH_LIST, and reading all of them
// (hundreds, spread over a 1 GB file) would cost start-up time for nothing.
constexpr std::size_t kSampleContainers = 64;
// ArchScope::Every reads them all; this many is far beyond any real binary (tens of thousands).
constexpr std::size_t kAllContainers = std::size_t(1) << 24;

int arch_number(const std::string& a) {
    auto us = a.find('_');
    return us == std::string::npos ? -1 : std::atoi(a.c_str() + us + 1);
}

}  // namespace

BinaryFatbins read_binary_fatbins(const ByteSource& file, std::size_t max_containers) {
    BinaryFatbins out;
    SectionLookup s = find_elf_section(file, ".nv_fatbin");
    if (!s.is_format) {
        s = find_pe_section(file, ".nv_fatb");
    }
    if (!s.is_format) {
        out.error = "neither an ELF nor a PE file";
        return out;
    }
    if (!s.error.empty() || !s.range) {
        out.error = s.error;  // empty: a binary without CUDA kernels
        return out;
    }
    out.has_fatbin = true;
    out.walk = walk_fatbin(file, *s.range, max_containers);
    out.error = out.walk.error;
    return out;
}

std::vector<std::string> archs_of(const std::vector<std::vector<std::string>>& containers,
                                  ArchScope scope) {
    std::map<std::string, std::size_t> seen;  // per arch, in how many containers
    for (const auto& c : containers) {
        for (const auto& a : c) {
            ++seen[a];
        }
    }
    std::vector<std::string> out;
    for (const auto& [a, n] : seen) {
        if (scope == ArchScope::Every || 2 * n >= containers.size()) {
            out.push_back(a);
        }
    }
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        const bool pa = a[0] == 'c', pb = b[0] == 'c';
        return pa != pb ? pb : arch_number(a) < arch_number(b);
    });
    return out;
}

std::optional<std::vector<std::string>> read_fatbin_archs(const fs::path& file, ArchScope scope,
                                                          std::string* error) {
    inputs::note(file);  // for read_torch_archs_cached (start/native_cache.hpp)
    FileSource src(file);
    if (!src.is_open() || src.size() == 0) {
        return std::nullopt;  // absent, or empty (as read_torch_arch_facts)
    }
    BinaryFatbins b =
        read_binary_fatbins(src, scope == ArchScope::Torch ? kSampleContainers : kAllContainers);
    if (!b.error.empty() || b.walk.containers.empty()) {
        if (error) {
            *error = b.has_fatbin && b.error.empty() ? "no fat binary container" : b.error;
        }
        return std::nullopt;
    }
    return archs_of(b.walk.containers, scope);
}

std::vector<fs::path> torch_cuda_binary_candidates(const fs::path& site_packages) {
    const fs::path lib = site_packages / "torch" / "lib";
    return {lib / "libtorch_cuda.so", lib / "libtorch_cuda_cu.so", lib / "libtorch_cuda_cpp.so",
            lib / "torch_cuda.dll",   lib / "torch_cuda_cu.dll",   lib / "torch_cuda_cpp.dll"};
}

TorchArchs read_torch_arch_facts(const fs::path& site_packages) {
    TorchArchs out;
    std::vector<std::vector<std::string>> pooled;
    bool any_fatbin = false;
    for (const auto& file : torch_cuda_binary_candidates(site_packages)) {
        inputs::note(file);  // for read_torch_archs_cached (start/native_cache.hpp)
        FileSource src(file);
        if (!src.is_open() || src.size() == 0) {
            // Absent (most names are), or empty: a name without contents (the placeholder files
            // of a file-list env) holds no kernels to check.
            continue;
        }
        out.files.push_back(file);
        BinaryFatbins b = read_binary_fatbins(src, kSampleContainers);
        if (!b.error.empty()) {
            out.error = "could not read " + file.string() + ": " + b.error;
            return out;
        }
        any_fatbin = any_fatbin || b.has_fatbin;
        for (auto& c : b.walk.containers) {
            pooled.push_back(std::move(c));
        }
    }
    if (!pooled.empty()) {
        out.archs = archs_of(pooled, ArchScope::Torch);
    } else if (any_fatbin) {
        out.error = "could not read " + out.files.front().string() +
                    ": its fat binary section holds no container";
    }
    return out;
}

std::optional<std::vector<std::string>> read_torch_archs(const fs::path& site_packages) {
    return read_torch_arch_facts(site_packages).archs;
}

ArchVerdict check_arch(int cc_major, int cc_minor, const std::vector<std::string>& archs) {
    const int device = cc_major * 10 + cc_minor;
    ArchVerdict best;
    for (const auto& a : archs) {
        const int n = arch_number(a);
        if (n <= 0) {
            continue;
        }
        const bool ptx = a.rfind("compute_", 0) == 0;
        if (!ptx && n == device) {
            return {true, "exact " + a + " cubin"};
        }
        if (!ptx && n / 10 == cc_major && n % 10 < cc_minor) {
            best = {true, a + " cubin (same major, lower minor)"};
        } else if (ptx && n <= device && !best.compatible) {
            best = {true, "PTX " + a + " (compiled for the GPU at first use)"};
        }
    }
    return best;
}

std::string torch_index_for(int cc_major, int /*cc_minor*/) {
    // sm_100 / sm_120 (Blackwell) need CUDA 12.8 builds; older GPUs are in every current build.
    return cc_major >= 10 ? "https://download.pytorch.org/whl/cu128"
                          : "https://download.pytorch.org/whl/cu126";
}

}  // namespace alltalk
