#pragma once
// The GPU facts of one launch (effects, Linux and Windows): the GPU probe and torch's compiled
// architectures, each gathered at most once, the probe started early and handed across the
// re-exec; and the check before start.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gpu/probe.hpp"
#include "gpu/torch_arch.hpp"
#include "plan/plan.hpp"
#include "start/native_cache.hpp"

namespace alltalk {

// The GPU probe and torch's architectures, each gathered at most once per launch: the probe, a
// child process with a 10 s limit, runs when a CUDA build of torch or a cuDNN need is there (or
// with -v / --dry-run), never with --cpu. It starts as soon as the plan is made and runs while
// the launcher goes on (on Linux across the re-exec, which adopts it); its result is read where
// it is needed.
class GpuFacts {
  public:
    // `handed`: the probe's result or the running probe from before the re-exec. `cache_dir`:
    // where torch's architecture list may be cached (start/native_cache.hpp).
    GpuFacts(const LaunchPlan& plan, std::optional<GpuProbe> handed,
             std::optional<PendingProbe> pending, std::optional<std::filesystem::path> cache_dir)
        : plan_(plan),
          probe_(std::move(handed)),
          pending_(std::move(pending)),
          cache_dir_(std::move(cache_dir)) {}

    // A result kept by an earlier launch answers at once, with no probe to run
    // (start/native_cache.hpp says while it is kept). Not with -v: that probes afresh, so that
    // it shows what the driver says now (and keeps that).
    void answer_from_cache(bool verbose) {
        if (probe_ || pending_ || !cache_dir_ || verbose || !wants_probe(verbose)) {
            return;
        }
        probe_ = read_gpu_probe_cached(cudart(), *cache_dir_, slot_);
    }

    // Starts the probe in the background when gather() will want it; `check` rides along in the
    // probe's child (PendingProbe::start), which also keeps a lasting result for later launches.
    // With a kept result, the child runs only `check` (and hands the kept result on).
    void start_early(bool verbose, const std::function<std::string()>& check = {}) {
        if (probe_ && probe_->kept && check && !pending_) {
            pending_ = PendingProbe::start({}, kGpuProbeTimeoutMs, check, {}, &*probe_);
            probe_.reset();
            return;
        }
        if (!probe_ && !pending_ && wants_probe(verbose)) {
            std::function<void(const std::string&)> keep;
            if (cache_dir_ && slot_.file.empty()) {
                slot_ = probe_cache_slot(cudart(), *cache_dir_);  // not read by answer_from_cache
            }
            if (!slot_.file.empty()) {
                keep = [slot = slot_](const std::string& report) { store_gpu_probe(slot, report); };
            }
            pending_ = PendingProbe::start(cudart(), kGpuProbeTimeoutMs, check, keep);
        }
    }

    bool wants_probe(bool verbose) {
        return !plan_.cpu_only && (archs() || !plan_.native.needs.empty() || verbose);
    }

    const GpuProbe& probe() {
        if (!probe_) {
            const auto t0 = std::chrono::steady_clock::now();
            const bool early = pending_.has_value();
            if (!pending_) {
                pending_ = PendingProbe::start(cudart());
            }
            probe_ = pending_->finish();
            pending_.reset();
            spdlog::debug("timing: GPU probe {:.2f} ms{}", ms_since(t0),
                          early ? " (waited for its end; it started with the plan)" : "");
        }
        return *probe_;
    }
    const std::optional<GpuProbe>& probed() const { return probe_; }

    // What the re-exec hands on (kGpuReexecVar): the result, or the running probe to adopt.
    std::string handover() const {
        if (probe_) {
            return encode_probe_report(*probe_);
        }
        const std::string running = pending_ ? pending_->handover() : "";
        return running.empty() ? "" : kPendingPrefix + running;
    }
    // The other side of handover().
    static void take_over(const std::string& handed, std::optional<GpuProbe>& probe,
                          std::optional<PendingProbe>& pending) {
        if (handed.rfind(kPendingPrefix, 0) == 0) {
            pending = PendingProbe::adopt(handed.substr(std::string(kPendingPrefix).size()));
        } else {
            parse_probe_report(handed, probe.emplace());
        }
    }

    const std::optional<std::vector<std::string>>& archs() {
        if (!archs_read_) {
            const auto t0 = std::chrono::steady_clock::now();
            if (cache_dir_) {
                archs_ = read_torch_archs_cached(plan_.env.site_packages, *cache_dir_, nullptr,
                                                 kCacheSettle, &archs_error_);
            } else {
                TorchArchs t = read_torch_arch_facts(plan_.env.site_packages);
                archs_ = std::move(t.archs);
                archs_error_ = std::move(t.error);
            }
            archs_read_ = true;
            spdlog::debug("timing: torch architectures {:.2f} ms", ms_since(t0));
        }
        return archs_;
    }
    // Why torch's CUDA library could not be read ("" when it was, or there is none).
    const std::string& archs_error() {
        archs();
        return archs_error_;
    }

    // Whether there is a GPU to run on (for needs that matter only on the GPU).
    bool gpu_usable() { return !plan_.cpu_only && !probe().devices.empty(); }

    // The facts the check and -v need, or nothing with --cpu.
    bool gather(bool verbose) {
        if (plan_.cpu_only) {
            return false;
        }
        if (wants_probe(verbose) || pending_) {  // a running probe is always read (and ended)
            probe();
        }
        return true;
    }

  private:
    // The CUDA runtimes the probe tries (listed once per launch).
    const std::vector<std::filesystem::path>& cudart() {
        if (!cudart_) {
            cudart_ = cudart_candidates(plan_.env);
        }
        return *cudart_;
    }
    static double ms_since(std::chrono::steady_clock::time_point t0) {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
            .count();
    }
    static constexpr const char* kPendingPrefix = "pending ";
    const LaunchPlan& plan_;
    std::optional<GpuProbe> probe_;
    std::optional<PendingProbe> pending_;
    std::optional<std::filesystem::path> cache_dir_;
    std::optional<std::vector<std::filesystem::path>> cudart_;
    ProbeCacheSlot slot_;  // where this launch's probe result is kept
    std::optional<std::vector<std::string>> archs_;
    std::string archs_error_;
    bool archs_read_ = false;
};

// An incompatible GPU is an error before start; the probe's and the check's facts are logged.
void check_gpus(const LaunchPlan& plan, GpuFacts& gpu, bool verbose);

}  // namespace alltalk
