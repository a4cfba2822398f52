#include <algorithm>
#include <cstdio>
#include <system_error>

#include "gpu_probe.hpp"

namespace fs = std::filesystem;

namespace alltalk {

std::vector<fs::path> cudart_candidates(const PythonEnv& env) {
    std::vector<fs::path> out;
    const fs::path& site = env.site_packages;
#ifdef _WIN32
    const std::vector<fs::path> dirs = {site / "nvidia" / "cuda_runtime" / "bin",
                                        site / "nvidia" / "cu13" / "bin", site / "torch" / "lib"};
    const char* prefix = "cudart64_";
#else
    const std::vector<fs::path> dirs = {site / "nvidia" / "cuda_runtime" / "lib",
                                        site / "nvidia" / "cu13" / "lib", site / "torch" / "lib"};
    const char* prefix = "libcudart";
#endif
    for (const auto& dir : dirs) {
        std::vector<fs::path> found;
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.rfind(prefix, 0) == 0 && name.find(".a") == std::string::npos &&
                (name.find(".so") != std::string::npos || name.find(".dll") != std::string::npos)) {
                found.push_back(it->path());
            }
        }
        std::sort(found.rbegin(), found.rend());
        out.insert(out.end(), found.begin(), found.end());
    }
#ifdef _WIN32
    for (const char* n : {"cudart64_13.dll", "cudart64_12.dll", "cudart64_110.dll"}) {
#else
    for (const char* n :
         {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"}) {
#endif
        out.emplace_back(n);
    }
    return out;
}

std::string describe_gpus(const GpuProbe& p) {
    auto cuda = [](int v) {
        return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
    };
    std::string out;
    if (p.devices.empty()) {
        out = p.note.empty() ? "no CUDA GPU" : p.note;
    }
    for (const auto& d : p.devices) {
        char mem[32];
        std::snprintf(mem, sizeof mem, "%.1f GiB",
                      static_cast<double>(d.memory_bytes) / (1024.0 * 1024.0 * 1024.0));
        out += (out.empty() ? "" : "; ") +
               ("GPU " + std::to_string(d.index) + ": " + d.name + ", sm_" +
                std::to_string(d.cc_major) + std::to_string(d.cc_minor) + ", " + mem);
    }
    if (p.driver_version) {
        out += "; driver supports CUDA " + cuda(p.driver_version);
    }
    if (p.runtime_version) {
        out += ", runtime CUDA " + cuda(p.runtime_version);
    }
    if (!p.library.empty()) {
        out += " (" + p.library + ")";
    }
    return out;
}

}  // namespace alltalk
