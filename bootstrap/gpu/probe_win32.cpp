// Windows implementation of probe_gpus(): the launcher starts itself with kGpuProbeVar set (the
// runtime candidates, one per line); that process only probes and writes its report to stdout
// (launch/launch.cpp run_gpu_probe). The parent waits at most timeout_ms and then terminates it: a
// crash or hang in the driver costs a note, never the launch.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>
#include <utility>

#include "gpu/probe.hpp"
#include "os/process.hpp"

namespace alltalk {

GpuProbe probe_gpus(const std::vector<std::filesystem::path>& cudart, int timeout_ms) {
    GpuProbe p;
    std::string list;
    for (const auto& c : cudart) {
        list += process::to_utf8(c) + "\n";
    }
    SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE read_end = nullptr, write_end = nullptr;
    if (!::CreatePipe(&read_end, &write_end, &sa, 1 << 16)) {
        p.note = "the GPU probe could not start (pipe)";
        return p;
    }
    ::SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOW si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = write_end;
    si.hStdError = write_end;
    si.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
    PROCESS_INFORMATION pi{};
    const std::wstring exe = process::self_exe().wstring();
    std::wstring cmd = L"\"" + exe + L"\"";
    process::set_env(kGpuProbeVar, list);
    const BOOL started = ::CreateProcessW(exe.c_str(), cmd.data(), nullptr, nullptr, TRUE,
                                          CREATE_NO_WINDOW, nullptr, nullptr, &si, &pi);
    process::unset_env(kGpuProbeVar);
    ::CloseHandle(write_end);
    if (!started) {
        ::CloseHandle(read_end);
        p.note = "the GPU probe could not start (CreateProcess)";
        return p;
    }
    const bool timed_out =
        ::WaitForSingleObject(pi.hProcess, static_cast<DWORD>(timeout_ms)) == WAIT_TIMEOUT;
    if (timed_out) {
        ::TerminateProcess(pi.hProcess, 1);
        ::WaitForSingleObject(pi.hProcess, 5000);
    }
    std::string text;
    char buf[4096];
    DWORD n = 0;
    while (::ReadFile(read_end, buf, sizeof buf, &n, nullptr) && n > 0) {
        text.append(buf, n);
    }
    DWORD code = 0;
    ::GetExitCodeProcess(pi.hProcess, &code);
    ::CloseHandle(read_end);
    ::CloseHandle(pi.hThread);
    ::CloseHandle(pi.hProcess);
    parse_probe_report(text, p);
    if (timed_out) {
        p.note = "the GPU probe did not answer within " + std::to_string(timeout_ms / 1000) +
                 " s (driver hung); continuing without it";
    } else if (code >= 0xC0000000u) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08lX", static_cast<unsigned long>(code));
        p.note = std::string("the GPU probe crashed (") + hex + ") in " +
                 (p.library.empty() ? "the CUDA libraries" : p.library) + "; continuing without it";
    }
    return p;
}

// No re-exec to overlap on Windows: the probe runs to its end in start().
PendingProbe PendingProbe::start(const std::vector<std::filesystem::path>& cudart, int timeout_ms,
                                 const std::function<std::string()>& check,
                                 const std::function<void(const std::string&)>& keep,
                                 const GpuProbe* known) {
    PendingProbe p;
    p.timeout_ms_ = timeout_ms;
    p.done_ = known ? *known : probe_gpus(cudart, timeout_ms);
    if (keep && !known) {
        keep(encode_probe_report(*p.done_));
    }
    if (check) {
        p.done_->inputs_changed = check();
    }
    return p;
}

std::string PendingProbe::handover() const {
    return "";
}

std::optional<PendingProbe> PendingProbe::adopt(const std::string&) {
    return std::nullopt;
}

GpuProbe PendingProbe::finish() {
    if (done_) {
        return *std::exchange(done_, std::nullopt);
    }
    GpuProbe p;
    p.note = "the GPU probe was already read";
    return p;
}

PendingProbe::PendingProbe(PendingProbe&& o) noexcept
    : done_(std::move(o.done_)), timeout_ms_(o.timeout_ms_) {}

PendingProbe& PendingProbe::operator=(PendingProbe&& o) noexcept {
    done_ = std::move(o.done_);
    timeout_ms_ = o.timeout_ms_;
    return *this;
}

PendingProbe::~PendingProbe() = default;

void PendingProbe::end() noexcept {}

}  // namespace alltalk
