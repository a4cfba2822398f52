#include "setup/variant.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "gpu/torch_arch.hpp"

namespace alltalk::setup {

namespace {

std::string sm_of(const GpuDevice& d) {
    return "sm_" + std::to_string(d.cc_major) + std::to_string(d.cc_minor);
}

// Why `lock`'s torch cannot serve `probe`'s GPUs, or "" when it can.
std::string unfit(const LockInfo& lock, const GpuProbe& probe) {
    if (!lock.cuda) {
        return "a CPU-only build";
    }
    if (probe.driver_version > 0 && probe.driver_version < *lock.cuda) {
        return "CUDA " + cuda_version_str(*lock.cuda) +
               " needs a newer driver than this one (it "
               "supports CUDA " +
               cuda_version_str(probe.driver_version) + ")";
    }
    for (const auto& d : probe.devices) {
        if (!check_arch(d.cc_major, d.cc_minor, lock.torch_archs).compatible) {
            return "no " + sm_of(d) + " kernels (it has " + text::join(lock.torch_archs, " ") + ")";
        }
    }
    return "";
}

std::string describe_lock(const LockInfo& l) {
    return l.id + " (torch " + l.torch +
           (l.cuda ? ", CUDA " + cuda_version_str(*l.cuda) : std::string(", CPU only")) + ")";
}

}  // namespace

VariantChoice choose_variant(const std::vector<const LockInfo*>& locks,
                             const std::optional<GpuProbe>& probe, GpuChoice gpu) {
    VariantChoice out;
    std::vector<const LockInfo*> cuda, cpu;
    for (const LockInfo* l : locks) {
        (l->cuda ? cuda : cpu).push_back(l);
    }
    // The newest CUDA first: it serves the most GPUs, and the newest ones.
    std::sort(cuda.begin(), cuda.end(),
              [](const LockInfo* a, const LockInfo* b) { return *a->cuda > *b->cuda; });
    const bool has_gpu = probe && !probe->devices.empty();
    if (gpu == GpuChoice::Cpu || (gpu == GpuChoice::Auto && !has_gpu)) {
        const std::string why = gpu == GpuChoice::Cpu ? std::string("--gpu cpu")
                                : probe ? "no NVIDIA GPU was found (" + describe_gpus(*probe) + ")"
                                        : std::string("the GPU probe did not run");
        if (!cpu.empty()) {
            out.lock = cpu.front();
            out.reason = why + ": the CPU-only build " + describe_lock(*out.lock) + ".";
        } else if (!cuda.empty()) {
            out.lock = cuda.front();
            out.reason = why + ": " + describe_lock(*out.lock) +
                         ", the only build at hand for this platform.";
            out.note =
                "torch's CUDA build runs on the CPU as well; it downloads the CUDA "
                "libraries too, which a GPU added later can use.";
        } else {
            out.problem = "No lock ships for this AllTalk version and platform.";
        }
        return out;
    }
    if (!has_gpu) {  // --gpu cuda without a GPU: the newest CUDA build, for a GPU to come
        if (cuda.empty()) {
            out.problem =
                "--gpu cuda was asked for, but no CUDA lock ships for this AllTalk "
                "version and platform.";
            return out;
        }
        out.lock = cuda.front();
        out.reason = "--gpu cuda: the newest CUDA build, " + describe_lock(*out.lock) + ".";
        out.note = probe ? "no NVIDIA GPU was found here (" + describe_gpus(*probe) +
                               "): until one is, AllTalk runs on the CPU."
                         : "";
        return out;
    }
    std::vector<std::string> tried;
    const LockInfo* same_major = nullptr;  // kernels for every GPU; only the driver's minor lags
    for (const LockInfo* l : cuda) {
        const std::string why = unfit(*l, *probe);
        if (why.empty()) {
            out.lock = l;
            out.reason = describe_gpus(*probe) + ": " + describe_lock(*l) +
                         " runs on every GPU here (the newest CUDA build that does).";
            return out;
        }
        tried.push_back(describe_lock(*l) + ": " + why);
        GpuProbe newer_driver = *probe;
        newer_driver.driver_version = *l->cuda;
        if (!same_major && probe->driver_version / 1000 == *l->cuda / 1000 &&
            unfit(*l, newer_driver).empty()) {
            same_major = l;
        }
    }
    out.problem = "No shipped torch build runs on this machine's GPUs (" + describe_gpus(*probe) +
                  ")" +
                  (tried.empty() ? ": no CUDA lock ships for this AllTalk version and "
                                   "platform."
                                 : ": " + text::join(tried, "; ") + ".") +
                  " Update the NVIDIA driver (CUDA 13 builds need driver 580 or newer), or set "
                  "up a CPU-only env with --gpu cpu.";
    if (same_major) {
        out.problem += " (The CUDA " + cuda_version_str(*same_major->cuda) +
                       " build often runs on this CUDA " + cuda_version_str(probe->driver_version) +
                       " driver through NVIDIA's minor version compatibility, except for code "
                       "compiled at run time; `--profile " +
                       same_major->id + "` installs it anyway.)";
    }
    return out;
}

}  // namespace alltalk::setup
