#include "gpu/torch_arch.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>

#include "os/inputs.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

constexpr std::uint32_t kFatbinMagic = 0xBA55ED50;
// The first containers decide: every unit carries TORCH_CUDA_ARCH_LIST, and reading all of them
// (hundreds, spread over a 1 GB file) would cost start-up time for nothing.
constexpr int kSampleContainers = 64;

template <typename T>
T get(const std::string& buf, std::size_t at) {
    T v{};
    if (at + sizeof(T) <= buf.size()) {
        std::memcpy(&v, buf.data() + at, sizeof(T));
    }
    return v;
}

bool read_at(std::ifstream& in, std::uint64_t off, std::size_t n, std::string& out) {
    out.assign(n, '\0');
    in.clear();
    in.seekg(static_cast<std::streamoff>(off));
    in.read(out.data(), static_cast<std::streamsize>(n));
    return static_cast<std::size_t>(in.gcount()) == n;
}

int arch_number(const std::string& a) {
    auto us = a.find('_');
    return us == std::string::npos ? -1 : std::atoi(a.c_str() + us + 1);
}

}  // namespace

std::optional<std::vector<std::string>> read_fatbin_archs(const fs::path& file) {
    // Unbuffered: the walk below reads a few dozen bytes at a time, far apart; a buffered stream
    // would read (and copy) a whole buffer for each of them.
    inputs::note(file);  // for read_torch_archs_cached (start/native_cache.hpp)
    std::ifstream in;
    in.rdbuf()->pubsetbuf(nullptr, 0);
    in.open(file, std::ios::binary);
    std::string h;
    if (!in || !read_at(in, 0, 64, h) ||
        h.compare(0, 4,
                  "\x7f"
                  "ELF") != 0 ||
        h[4] != 2) {
        return std::nullopt;  // not a 64-bit ELF file
    }
    const auto shoff = get<std::uint64_t>(h, 0x28);
    const auto shentsize = get<std::uint16_t>(h, 0x3A);
    const auto shnum = get<std::uint16_t>(h, 0x3C);
    const auto shstrndx = get<std::uint16_t>(h, 0x3E);
    std::string sh;
    if (shentsize < 64 || shstrndx >= shnum ||
        !read_at(in, shoff, std::size_t(shentsize) * shnum, sh)) {
        return std::nullopt;
    }
    auto sec_off = [&](int i) { return get<std::uint64_t>(sh, std::size_t(i) * shentsize + 0x18); };
    auto sec_size = [&](int i) {
        return get<std::uint64_t>(sh, std::size_t(i) * shentsize + 0x20);
    };
    std::string names;
    if (sec_size(shstrndx) > (1u << 20) ||
        !read_at(in, sec_off(shstrndx), sec_size(shstrndx), names)) {
        return std::nullopt;
    }
    std::uint64_t off = 0, size = 0;
    for (int i = 0; i < shnum; ++i) {
        const auto name_at = get<std::uint32_t>(sh, std::size_t(i) * shentsize);
        if (name_at < names.size() && std::strcmp(names.c_str() + name_at, ".nv_fatbin") == 0) {
            off = sec_off(i);
            size = sec_size(i);
        }
    }
    if (size == 0) {
        return std::nullopt;
    }
    // Walk the containers; per arch, in how many containers it appears.
    std::map<std::string, int> seen;
    int containers = 0;
    std::uint64_t pos = off;
    const std::uint64_t end = off + size;
    std::string buf;
    while (containers < kSampleContainers && pos + 16 <= end && read_at(in, pos, 16, buf)) {
        if (get<std::uint32_t>(buf, 0) != kFatbinMagic) {
            pos += 8;  // padding between containers
            continue;
        }
        const auto header_size = get<std::uint16_t>(buf, 6);
        const auto fat_size = get<std::uint64_t>(buf, 8);
        std::uint64_t p = pos + header_size;
        const std::uint64_t cend = std::min(end, p + fat_size);
        std::vector<std::string> here;
        while (p + 32 <= cend && read_at(in, p, 32, buf)) {
            const auto kind = get<std::uint16_t>(buf, 0);
            const auto entry_header = get<std::uint32_t>(buf, 4);
            const auto payload = get<std::uint64_t>(buf, 8);
            const auto arch = get<std::uint32_t>(buf, 28);
            if (entry_header == 0) {
                break;
            }
            if (kind == 1 || kind == 2) {
                std::string a = (kind == 2 ? "sm_" : "compute_") + std::to_string(arch);
                if (std::find(here.begin(), here.end(), a) == here.end()) {
                    here.push_back(a);
                }
            }
            p += entry_header + payload;
        }
        for (const auto& a : here) {
            ++seen[a];
        }
        ++containers;
        pos = pos + header_size + fat_size;
    }
    if (containers == 0) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& [a, n] : seen) {
        if (2 * n >= containers) {
            out.push_back(a);
        }
    }
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        const bool pa = a[0] == 'c', pb = b[0] == 'c';
        return pa != pb ? pb : arch_number(a) < arch_number(b);
    });
    return out;
}

std::optional<std::vector<std::string>> read_torch_archs(const fs::path& site_packages) {
#ifdef _WIN32
    (void)site_packages;
    return std::nullopt;  // torch_cuda.dll is a PE file: not read yet
#else
    return read_fatbin_archs(site_packages / "torch" / "lib" / "libtorch_cuda.so");
#endif
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
