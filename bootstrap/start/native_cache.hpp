#pragma once
// The launcher's caches of what it reads before every start, in its private runtime folder
// (process::runtime_dir_candidate(): <runtime>/cache, mode 0700, owned by the user; nothing is
// written into the env or the AllTalk folder):
//   - the cuDNN decision (analyze_native()), keyed by its facts (cudnn/decision_cache.hpp) and
//     valid while every file and folder the selection read is unchanged (os/inputs.hpp);
//   - torch's CUDA architectures (read_torch_arch_facts()), valid while torch's CUDA libraries
//     (libtorch_cuda.so, torch_cuda.dll, ...: gpu/torch_arch.hpp) are unchanged;
//   - the GPU probe's result (gpu/probe.hpp), valid while what decides it is unchanged (see
//     read_gpu_probe_cached());
//   - the state of a command's overlay (discover/overlay.hpp), see check_overlay_cached();
//   - the LD_LIBRARY_PATH a launch re-executed itself with (start/launch_hint.hpp).
// A missing, corrupt, foreign or outdated entry is a miss: the answer is computed again and
// stored. An answer is stored only when none of its inputs changed in the last `settle` (a change
// within the file system's timestamp granularity could otherwise go unseen). Where inputs cannot
// be recorded (Windows) nothing is cached, nor where selecting is cheaper than checking an entry
// (a site-packages folder with a handful of packages).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cudnn/select.hpp"
#include "discover/overlay.hpp"
#include "gpu/probe.hpp"
#include "os/inputs.hpp"

namespace alltalk {

inline constexpr std::chrono::seconds kCacheSettle{2};

struct CacheOutcome {
    bool hit = false;     // answered from the cache
    bool stored = false;  // computed and written to the cache
    std::string why;      // for -v: why it missed or was not stored
};

// The cache folder of a runtime folder.
std::filesystem::path cache_dir_of(const std::filesystem::path& runtime_dir);
// That folder, and `runtime_dir` above it, made private to the user; false with `why` when not.
bool open_cache_dir(const std::filesystem::path& runtime_dir, std::filesystem::path& dir,
                    std::string& why);
// Writes an entry to a file of its own, then renames it over `file`: a reader sees the old entry
// or the new one, never a part. False with `why` when it cannot.
bool write_atomically(const std::filesystem::path& file, const std::string& text, std::string& why);

// A cached decision taken before its inputs were checked (analyze_native_cached with `deferred`):
// the launch acts on it at once and the inputs are checked off the critical path (in the GPU
// probe's child, while the launcher re-executes itself), before the app starts. A change found
// then makes the launch start over and select afresh (main.cpp).
struct DeferredCheck {
    std::vector<inputs::Observation> inputs;  // empty: nothing deferred (checked, or no hit)
    std::filesystem::path entry;              // the cache entry that answered
};

// `deferred` (may be null): on a hit, leave the inputs unchecked and return them there.
NativeDecision analyze_native_cached(const NativeFacts& facts,
                                     const std::filesystem::path& runtime_dir,
                                     CacheOutcome* outcome = nullptr,
                                     std::chrono::nanoseconds settle = kCacheSettle,
                                     DeferredCheck* deferred = nullptr);

// The first input of `check` that no longer holds ("" when all do): what the probe's child runs.
std::string first_changed_input(const DeferredCheck& check);

// `error` (may be null): why torch's CUDA library could not be read ("" when it could, or when
// there is none); then the result is nullopt and the GPU check is skipped.
std::optional<std::vector<std::string>> read_torch_archs_cached(
    const std::filesystem::path& site_packages, const std::filesystem::path& runtime_dir,
    CacheOutcome* outcome = nullptr, std::chrono::nanoseconds settle = kCacheSettle,
    std::string* error = nullptr);

// Where a probe's result is kept, and under which key (read_gpu_probe_cached() fills it in).
struct ProbeCacheSlot {
    std::filesystem::path file;  // empty: nothing may be kept (Windows, no runtime folder)
    std::string key;
    std::int64_t newest_change_ns = 0;  // the newest change among the files in the key
};

// The slot of a probe of `cudart`: its key, read now (what decides the result, below), and its
// entry's file; `file` empty, with `why`, where nothing may be kept.
ProbeCacheSlot probe_cache_slot(const std::vector<std::filesystem::path>& cudart,
                                const std::filesystem::path& runtime_dir,
                                std::string* why = nullptr);

// The GPU probe's result from an earlier launch (in probe_cache_slot()'s slot, returned in
// `slot`), while none of what decides it has changed: the
// boot (a GPU cannot come or go, nor a kernel driver be replaced, without a new boot id, or a
// change below), the kernel driver's version and GPU list (/proc/driver/nvidia), the variables
// that choose what CUDA sees or loads (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER,
// NVIDIA_VISIBLE_DEVICES, LD_LIBRARY_PATH, LD_PRELOAD), the loader's cache (/etc/ld.so.cache,
// rewritten when a driver package is installed), WSL's GPU device and driver folder, the CUDA
// runtimes the probe would try (`cudart`, by their stat signatures) and the launcher itself.
// Nothing (and `slot` left unusable) where inputs cannot be recorded (Windows).
std::optional<GpuProbe> read_gpu_probe_cached(const std::vector<std::filesystem::path>& cudart,
                                              const std::filesystem::path& runtime_dir,
                                              ProbeCacheSlot& slot,
                                              CacheOutcome* outcome = nullptr);

// Keeps `report` (the probe's, encode_probe_report()'s form) in `slot` when the result lasts
// (probe_result_lasts()) and nothing in the key changed in the last `settle`. Run in the probe's
// child (PendingProbe::start's `keep`), off the launcher's path. True when it was written.
bool store_gpu_probe(const ProbeCacheSlot& slot, const std::string& report,
                     std::chrono::nanoseconds settle = kCacheSettle);

// overlay::check() for a command's overlay, answered from the cache while overlay.json and the
// env's site-packages folder keep their stat signatures (a distribution installed, removed or
// renamed changes the folder's, and the check reads nothing else) and the requirements and the
// launcher are the same. Only a current or a stale state is kept: a missing or corrupt overlay
// costs less to check than an entry. A miss checks and stores (not within `settle` of a change).
overlay::Status check_overlay_cached(const PythonEnv& env, const std::string& command,
                                     const std::vector<std::string>& requirements,
                                     const std::filesystem::path& runtime_dir,
                                     CacheOutcome* outcome = nullptr,
                                     std::chrono::nanoseconds settle = kCacheSettle);

}  // namespace alltalk
