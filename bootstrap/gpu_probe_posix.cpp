// POSIX implementation of probe_gpus(): the CUDA calls run in a forked child that reports over a
// pipe; the parent waits at most timeout_ms, then kills it. A crash or hang in the driver costs a
// note in the report, never the launch.
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>

#include "gpu_probe.hpp"

namespace alltalk {

namespace {

// Writes straight to the pipe, so that what the child said before a crash reaches the parent.
class FdBuf : public std::streambuf {
  public:
    explicit FdBuf(int fd) : fd_(fd) {}

  protected:
    int_type overflow(int_type c) override {
        if (c != traits_type::eof()) {
            char ch = static_cast<char>(c);
            return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
        }
        return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        std::streamsize done = 0;
        while (done < n) {
            ssize_t w = ::write(fd_, s + done, static_cast<std::size_t>(n - done));
            if (w <= 0) {
                break;
            }
            done += w;
        }
        return done;
    }

  private:
    int fd_;
};

// Runs in the child: writes "key value" lines to `os` as it goes.
void probe_here(std::ostream& os, const std::vector<std::filesystem::path>& cudart) {
    void* rt = nullptr;
    std::string used;
    for (const auto& c : cudart) {
        rt = ::dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
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
        auto driver = reinterpret_cast<int_fn>(::dlsym(rt, "cudaDriverGetVersion"));
        auto runtime = reinterpret_cast<int_fn>(::dlsym(rt, "cudaRuntimeGetVersion"));
        auto count = reinterpret_cast<int_fn>(::dlsym(rt, "cudaGetDeviceCount"));
        auto attr = reinterpret_cast<attr_fn>(::dlsym(rt, "cudaDeviceGetAttribute"));
        auto props = reinterpret_cast<props_fn>(::dlsym(rt, "cudaGetDeviceProperties_v2"));
        if (!props) {
            props = reinterpret_cast<props_fn>(::dlsym(rt, "cudaGetDeviceProperties"));
        }
        auto errstr = reinterpret_cast<err_fn>(::dlsym(rt, "cudaGetErrorString"));
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
    void* drv = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!drv) {
        os << "note no NVIDIA driver (no libcudart and no libcuda.so.1 found)\n";
        return;
    }
    os << "lib libcuda.so.1\n";
    using init_fn = int (*)(unsigned);
    using int_fn = int (*)(int*);
    using get_fn = int (*)(int*, int);
    using name_fn = int (*)(char*, int, int);
    using mem_fn = int (*)(std::size_t*, int);
    using attr_fn = int (*)(int*, int, int);
    auto init = reinterpret_cast<init_fn>(::dlsym(drv, "cuInit"));
    auto version = reinterpret_cast<int_fn>(::dlsym(drv, "cuDriverGetVersion"));
    auto count = reinterpret_cast<int_fn>(::dlsym(drv, "cuDeviceGetCount"));
    auto get = reinterpret_cast<get_fn>(::dlsym(drv, "cuDeviceGet"));
    auto name = reinterpret_cast<name_fn>(::dlsym(drv, "cuDeviceGetName"));
    auto mem = reinterpret_cast<mem_fn>(::dlsym(drv, "cuDeviceTotalMem_v2"));
    auto attr = reinterpret_cast<attr_fn>(::dlsym(drv, "cuDeviceGetAttribute"));
    if (!init || !version || !count || !get || !name || !mem || !attr) {
        os << "note libcuda.so.1 lacks the driver functions\n";
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

void parse_report(const std::string& text, GpuProbe& p) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
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

}  // namespace

GpuProbe probe_gpus(const std::vector<std::filesystem::path>& cudart, int timeout_ms) {
    GpuProbe p;
    int fds[2];
    if (::pipe(fds) != 0) {
        p.note = "the GPU probe could not start (pipe)";
        return p;
    }
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        p.note = "the GPU probe could not start (fork)";
        return p;
    }
    if (pid == 0) {
        ::close(fds[0]);
        // A crash in the driver must end this child, not run handlers inherited from the parent.
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
            ::signal(sig, SIG_DFL);
        }
        FdBuf buf(fds[1]);
        std::ostream os(&buf);
        probe_here(os, cudart);
        os.flush();
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool timed_out = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd{fds[0], POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[4096];
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    if (timed_out) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    parse_report(text, p);
    if (timed_out) {
        p.note = "the GPU probe did not answer within " + std::to_string(timeout_ms / 1000) +
                 " s (driver hung); continuing without it";
    } else if (WIFSIGNALED(status)) {
        p.note = "the GPU probe crashed (signal " + std::to_string(WTERMSIG(status)) + ") in " +
                 (p.library.empty() ? "the CUDA libraries" : p.library) + "; continuing without it";
    }
    return p;
}

}  // namespace alltalk
