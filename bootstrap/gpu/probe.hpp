#pragma once
// The GPU probe: loads the CUDA runtime (the env's nvidia/cuda_runtime or nvidia/cu13 wheel,
// torch/lib, then the system's by name), or the driver library when no runtime is found, and
// reports each device. It runs in a child process with a time limit, so that a broken driver can
// neither crash nor hang the launcher. No driver and no GPU are normal results, not errors.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "discover/python_env.hpp"

namespace alltalk {

struct GpuDevice {
    int index = 0;
    std::string name;
    int cc_major = 0;
    int cc_minor = 0;
    std::uint64_t memory_bytes = 0;
};

struct GpuProbe {
    bool driver_present = false;  // an NVIDIA driver answered
    std::string library;          // the runtime or driver library that was used
    int driver_version = 0;       // CUDA version the driver supports, e.g. 12040
    int runtime_version = 0;      // of the loaded cudart (0 when the driver library was used)
    std::vector<GpuDevice> devices;
    std::string note;  // why there is no device: "no NVIDIA driver", "no CUDA GPU", an error
    // What the check that ran in the probe's child said (PendingProbe::start's `check`): nothing
    // when none ran, else the first input that changed ("" when none did).
    std::optional<std::string> inputs_changed;
    bool kept = false;  // the result of an earlier launch's probe (start/native_cache.hpp)
};

// The runtime libraries to try, in order (paths, then plain names for the loader).
std::vector<std::filesystem::path> cudart_candidates(const PythonEnv& env);

// Runs the probe in a child process killed after `timeout_ms` (POSIX: fork; Windows: the
// launcher itself, started with kGpuProbeVar). Never throws.
inline constexpr int kGpuProbeTimeoutMs = 10000;
GpuProbe probe_gpus(const std::vector<std::filesystem::path>& cudart,
                    int timeout_ms = kGpuProbeTimeoutMs);

// The same probe started now and read when its result is needed, so that it runs while the
// launcher goes on (on Linux across the launcher's one re-exec: the child and the read end of its
// pipe survive exec, and the re-executed launcher adopts them). Dropped unfinished, it ends the
// child. Windows: the probe runs to its end in start() (there is no re-exec to overlap).
class PendingProbe {
  public:
    // `check`, when given, runs first in the probe's child (off the launcher's critical path);
    // its answer comes back as GpuProbe::inputs_changed. `keep`, when given, is called in the
    // child with the whole report once the probe has ended and the launcher has it (POSIX: after
    // the pipe is closed), so that the child, not the launcher, keeps it (start/native_cache.hpp).
    // `known`, when given, is a result already known (kept by an earlier launch): the child runs
    // only `check` and reports `known` instead of probing.
    static PendingProbe start(const std::vector<std::filesystem::path>& cudart,
                              int timeout_ms = kGpuProbeTimeoutMs,
                              const std::function<std::string()>& check = {},
                              const std::function<void(const std::string&)>& keep = {},
                              const GpuProbe* known = nullptr);
    // What a re-executed launcher passes to adopt(): "pid fd deadline timeout" (Linux only).
    std::string handover() const;
    // The probe that `handover` names, when it is this process's running (or ended, unreaped)
    // child with that pipe open; nothing otherwise (a stale or foreign value is ignored).
    static std::optional<PendingProbe> adopt(const std::string& handover);
    // Waits (until the deadline at most) and returns the result; once.
    GpuProbe finish();

    PendingProbe(PendingProbe&& other) noexcept;
    PendingProbe& operator=(PendingProbe&& other) noexcept;
    PendingProbe(const PendingProbe&) = delete;
    PendingProbe& operator=(const PendingProbe&) = delete;
    ~PendingProbe();

  private:
    PendingProbe() = default;
    void end() noexcept;            // closes the pipe and ends an unfinished child
    std::optional<GpuProbe> done_;  // the result when there is no child (it could not start)
    long long pid_ = -1;
    int fd_ = -1;
    long long deadline_ns_ = 0;  // steady clock (CLOCK_MONOTONIC: the same across exec)
    int timeout_ms_ = 0;
    bool reaped_ = false;  // adopt() found the child ended and collected its status
    int status_ = 0;
};

// The probe itself, for the child: loads the first runtime of `cudart` that loads (else the
// driver library) and writes "key value" lines to `os` as it learns them.
void write_probe_report(std::ostream& os, const std::vector<std::filesystem::path>& cudart);
void parse_probe_report(const std::string& text, GpuProbe& probe);
// The report line of the check that rode along (`changed`: its answer).
void write_inputs_check(std::ostream& os, const std::string& changed);
// A probe's result in the report's form (parse_probe_report reads it back), to hand it on.
std::string encode_probe_report(const GpuProbe& probe);
// Whether a result describes the machine (its GPUs, no GPU, no driver) rather than a passing
// failure (a hang, a crash, an error from the driver or an odd library): only such a result may
// be reused by a later launch.
bool probe_result_lasts(const GpuProbe& probe);

// Windows: the launcher started with this variable (the runtime candidates, one per line) runs
// only the probe and writes its report to stdout (launch/launch.cpp run_gpu_probe).
inline constexpr const char* kGpuProbeVar = "ALLTALK_LAUNCH_GPU_PROBE";

// "NVIDIA GeForce RTX 5090, sm_120, 31.4 GiB; driver CUDA 12.8, runtime 12.1 (libcudart...)".
std::string describe_gpus(const GpuProbe& probe);

}  // namespace alltalk
