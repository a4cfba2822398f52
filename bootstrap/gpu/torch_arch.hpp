#pragma once
// The GPU architectures compiled into the installed torch, read from its CUDA binary without
// importing torch, and the check of a GPU's compute capability against them.
//
// libtorch_cuda.so holds an ELF section .nv_fatbin: a run of fatbin containers (magic
// 0xBA55ED50), one per compiled translation unit, each a list of entries (kind 2 = cubin for one
// sm_XY, kind 1 = PTX for compute_XY). TORCH_CUDA_ARCH_LIST applies to every unit, so an arch is
// in torch's list when it appears in most of the first 64 containers; a few kernels compiled for
// extra archs do not make it one. Verified against torch._C._cuda_getArchFlags() of real wheels in
// the tests.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace alltalk {

// "sm_50", ..., "sm_120" (cubins) and "compute_90" (PTX), ascending. nullopt when torch has no CUDA
// binary (CPU build, not installed) or it cannot be read.
std::optional<std::vector<std::string>> read_torch_archs(
    const std::filesystem::path& site_packages);

// The same for one file (libtorch_cuda.so).
std::optional<std::vector<std::string>> read_fatbin_archs(const std::filesystem::path& elf_file);

struct ArchVerdict {
    bool compatible = false;
    std::string how;  // "exact sm_86 cubin", "sm_80 cubin (same major)", "PTX compute_90 (JIT)"
};

// A device of compute capability major.minor against torch's list (pure).
ArchVerdict check_arch(int cc_major, int cc_minor, const std::vector<std::string>& archs);

// The CUDA wheel index of a torch build that has kernels for this compute capability.
std::string torch_index_for(int cc_major, int cc_minor);

}  // namespace alltalk
