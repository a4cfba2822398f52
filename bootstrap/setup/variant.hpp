#pragma once
// Which torch build (lock variant) an env gets (pure): the GPU probe's devices and the CUDA
// version their driver supports, against what each lock's torch was built for (its CUDA version
// and the architectures compiled into it, recorded in the lock's header). A CUDA 13 build needs a
// driver that supports CUDA 13 (NVIDIA 580 or newer) and has no kernels for GPUs before sm_75;
// an RTX 50xx (sm_120) needs a build with sm_120 kernels (CUDA 12.8 or newer). Both are read from
// the facts, not from a table of GPU names.
#include <optional>
#include <string>
#include <vector>

#include "gpu/probe.hpp"
#include "setup/lock.hpp"

namespace alltalk::setup {

enum class GpuChoice { Auto, Cuda, Cpu };  // --gpu

struct VariantChoice {
    const LockInfo* lock = nullptr;  // the lock to install; null: none fits (see `problem`)
    std::string reason;              // one sentence: why this build
    std::string note;                // a caveat (a CUDA build chosen for the CPU), or ""
    std::string problem;             // when lock is null: why no lock fits, and what to do
};

// `locks`: the locks of this AllTalk version and platform. `probe`: nullopt when it was not run.
VariantChoice choose_variant(const std::vector<const LockInfo*>& locks,
                             const std::optional<GpuProbe>& probe, GpuChoice gpu);

}  // namespace alltalk::setup
