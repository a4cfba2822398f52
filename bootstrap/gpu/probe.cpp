#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <system_error>

#include "gpu/probe.hpp"
#include "os/dir_list.hpp"
#include "os/dynlib.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

#ifdef _WIN32
constexpr const char* kDriverLibrary = "nvcuda.dll";
#else
constexpr const char* kDriverLibrary = "libcuda.so.1";
#endif

void* sym(void* handle, const char* name) {
    return dynlib::symbol(dynlib::Library{handle}, name);
}

}  // namespace

void write_probe_report(std::ostream& os, const std::vector<std::filesystem::path>& cudart) {
    void* rt = nullptr;
    std::string used;
    for (const auto& c : cudart) {
        std::string err;
        rt = dynlib::load(c, false, err).handle;
        if (rt) {
            used = c.string();
            break;
        }
    }
    if (rt) {
        using int_fn = int (*)(int*);
        using attr_fn = int (*)(int*, int, int);
        using props_fn = int (*)(void*, int);
        using err_fn = const char* (*)(int);
        auto driver = reinterpret_cast<int_fn>(sym(rt, "cudaDriverGetVersion"));
        auto runtime = reinterpret_cast<int_fn>(sym(rt, "cudaRuntimeGetVersion"));
        auto count = reinterpret_cast<int_fn>(sym(rt, "cudaGetDeviceCount"));
        auto attr = reinterpret_cast<attr_fn>(sym(rt, "cudaDeviceGetAttribute"));
        auto props = reinterpret_cast<props_fn>(sym(rt, "cudaGetDeviceProperties_v2"));
        if (!props) {
            props = reinterpret_cast<props_fn>(sym(rt, "cudaGetDeviceProperties"));
        }
        auto errstr = reinterpret_cast<err_fn>(sym(rt, "cudaGetErrorString"));
        os << "lib " << used << "\n";
        if (!driver || !runtime || !count || !attr || !props) {
            os << "note " << used << " lacks the CUDA runtime functions\n";
            return;
        }
        int v = 0;
        if (driver(&v) == 0) {
            os << "driver " << v << "\n";
        }
        if (runtime(&v) == 0) {
            os << "runtime " << v << "\n";
        }
        int n = 0;
        int rc = count(&n);
        if (rc == 35 || rc == 34) {  // cudaErrorInsufficientDriver, cudaErrorStubLibrary
            os << "note no NVIDIA driver\n";
            return;
        }
        os << "present 1\n";
        if (rc == 100) {  // cudaErrorNoDevice
            os << "note no CUDA GPU\n";
            return;
        }
        if (rc != 0) {
            os << "note cudaGetDeviceCount failed: " << (errstr ? errstr(rc) : "error") << " ("
               << rc << ")\n";
            return;
        }
        for (int i = 0; i < n; ++i) {
            int major = 0, minor = 0;
            attr(&major, 75, i);  // cudaDevAttrComputeCapabilityMajor
            attr(&minor, 76, i);  // cudaDevAttrComputeCapabilityMinor
            // cudaDeviceProp: char name[256] at 0, then uuid (16), luid (8), a 4-byte mask and
            // size_t totalGlobalMem at 288 -- the same in CUDA 11, 12 and 13.
            alignas(8) static unsigned char buf[16384];
            std::memset(buf, 0, sizeof buf);
            std::string name = "?";
            unsigned long long mem = 0;
            if (props(buf, i) == 0) {
                name.assign(reinterpret_cast<const char*>(buf),
                            strnlen(reinterpret_cast<const char*>(buf), 256));
                std::memcpy(&mem, buf + 288, sizeof mem);
            }
            os << "device " << i << " " << major << " " << minor << " " << mem << " " << name
               << "\n";
        }
        return;
    }
    // No runtime: the driver library alone.
    std::string err;
    void* drv = dynlib::load(kDriverLibrary, false, err).handle;
    if (!drv) {
        os << "note no NVIDIA driver (no CUDA runtime and no " << kDriverLibrary << " found)\n";
        return;
    }
    os << "lib " << kDriverLibrary << "\n";
    using init_fn = int (*)(unsigned);
    using int_fn = int (*)(int*);
    using get_fn = int (*)(int*, int);
    using name_fn = int (*)(char*, int, int);
    using mem_fn = int (*)(std::size_t*, int);
    using attr_fn = int (*)(int*, int, int);
    auto init = reinterpret_cast<init_fn>(sym(drv, "cuInit"));
    auto version = reinterpret_cast<int_fn>(sym(drv, "cuDriverGetVersion"));
    auto count = reinterpret_cast<int_fn>(sym(drv, "cuDeviceGetCount"));
    auto get = reinterpret_cast<get_fn>(sym(drv, "cuDeviceGet"));
    auto name = reinterpret_cast<name_fn>(sym(drv, "cuDeviceGetName"));
    auto mem = reinterpret_cast<mem_fn>(sym(drv, "cuDeviceTotalMem_v2"));
    auto attr = reinterpret_cast<attr_fn>(sym(drv, "cuDeviceGetAttribute"));
    if (!init || !version || !count || !get || !name || !mem || !attr) {
        os << "note " << kDriverLibrary << " lacks the driver functions\n";
        return;
    }
    int v = 0;
    if (version(&v) == 0) {
        os << "driver " << v << "\n";
    }
    int rc = init(0);
    if (rc != 0) {
        os << (rc == 100 ? "present 1\nnote no CUDA GPU\n"
                         : "note the NVIDIA driver did not start (cuInit error " +
                               std::to_string(rc) + ")\n");
        return;
    }
    os << "present 1\n";
    int n = 0;
    count(&n);
    for (int i = 0; i < n; ++i) {
        int dev = 0, major = 0, minor = 0;
        char buf[256] = {0};
        std::size_t bytes = 0;
        get(&dev, i);
        name(buf, sizeof buf - 1, dev);
        mem(&bytes, dev);
        attr(&major, 75, dev);  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
        attr(&minor, 76, dev);
        os << "device " << i << " " << major << " " << minor << " " << bytes << " " << buf << "\n";
    }
    return;
}

void write_inputs_check(std::ostream& os, const std::string& changed) {
    os << (changed.empty() ? std::string("inputs_ok\n") : "inputs_changed " + changed + "\n");
}

void parse_probe_report(const std::string& text, GpuProbe& p) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        // On Windows the report crosses the probe's text-mode stdout, which ends lines in "\r\n".
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        std::string rest;
        std::getline(ls >> std::ws, rest);
        if (key == "lib") {
            p.library = rest;
        } else if (key == "driver") {
            p.driver_version = std::atoi(rest.c_str());
        } else if (key == "runtime") {
            p.runtime_version = std::atoi(rest.c_str());
        } else if (key == "present") {
            p.driver_present = true;
        } else if (key == "note") {
            p.note = rest;
        } else if (key == "kept") {
            p.kept = true;
        } else if (key == "inputs_ok") {
            p.inputs_changed = "";
        } else if (key == "inputs_changed") {
            p.inputs_changed = rest.empty() ? "?" : rest;
        } else if (key == "device") {
            std::istringstream ds(rest);
            GpuDevice d;
            unsigned long long mem = 0;
            ds >> d.index >> d.cc_major >> d.cc_minor >> mem;
            d.memory_bytes = mem;
            std::getline(ds >> std::ws, d.name);
            p.devices.push_back(d);
        }
    }
}

std::string encode_probe_report(const GpuProbe& p) {
    std::ostringstream os;
    if (!p.library.empty()) {
        os << "lib " << p.library << "\n";
    }
    os << "driver " << p.driver_version << "\nruntime " << p.runtime_version << "\n";
    if (p.driver_present) {
        os << "present 1\n";
    }
    if (!p.note.empty()) {
        os << "note " << p.note << "\n";
    }
    for (const auto& d : p.devices) {
        os << "device " << d.index << " " << d.cc_major << " " << d.cc_minor << " "
           << d.memory_bytes << " " << d.name << "\n";
    }
    if (p.inputs_changed) {
        write_inputs_check(os, *p.inputs_changed);
    }
    if (p.kept) {
        os << "kept 1\n";
    }
    return os.str();
}

bool probe_result_lasts(const GpuProbe& p) {
    if (p.note.empty()) {
        return p.driver_present && !p.devices.empty();
    }
    return p.note == "no CUDA GPU" || p.note.rfind("no NVIDIA driver", 0) == 0;
}

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
        // Names, not path objects (os/dir_list.hpp): every launch lists these for the probe's
        // cache key, and torch/lib alone holds dozens of files.
        std::vector<fs::path> found;
        for (const std::string& name : dir_list::names(dir)) {
            if (name.rfind(prefix, 0) == 0 && name.find(".a") == std::string::npos &&
                (name.find(".so") != std::string::npos || name.find(".dll") != std::string::npos)) {
                found.push_back(dir / process::from_utf8(name));
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
