#pragma once
// The GPU architectures compiled into the installed torch, read from its CUDA binaries without
// importing torch, and the check of a GPU's compute capability against them.
//
// torch's CUDA kernels are fat binaries (gpu/fatbin.hpp) in a section of its CUDA library:
// .nv_fatbin of torch/lib/libtorch_cuda.so (ELF, Linux), .nv_fatb of torch\lib\torch_cuda.dll
// (PE, Windows; older torch splits it into torch_cuda_cu.dll and torch_cuda_cpp.dll, and
// libtorch_cuda_cu.so / libtorch_cuda_cpp.so). Both layouts are read on every platform (the
// doctor on Linux reads a Windows env). TORCH_CUDA_ARCH_LIST applies to every unit, so an arch is
// in torch's list when it appears in most of the first 64 containers; a few kernels compiled for
// extra archs do not make it one. Verified against torch._C._cuda_getArchFlags() of real wheels
// and against NVIDIA's cuobjdump in the tests.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gpu/fatbin.hpp"

namespace alltalk {

// Which architectures of a binary's containers make its list.
enum class ArchScope {
    Torch,  // in most of the first 64 containers (torch's rule, above)
    Every,  // in any container (what cuobjdump lists)
};

// The CUDA binaries of an executable file (ELF or PE, told by its first bytes), pure.
struct BinaryFatbins {
    bool has_fatbin = false;  // the file holds a fat binary section
    FatbinWalk walk;          // its containers, or walk.error
    std::string error;        // non-empty: could not be read (the section lookup's or the walk's)
};
BinaryFatbins read_binary_fatbins(const ByteSource& file, std::size_t max_containers);

// The list of `containers` under `scope`: "sm_50", ..., "sm_120" (cubins), then "compute_90"
// (PTX), ascending.
std::vector<std::string> archs_of(const std::vector<std::vector<std::string>>& containers,
                                  ArchScope scope);

struct TorchArchs {
    std::optional<std::vector<std::string>> archs;  // nullopt: none read (see files / error)
    std::vector<std::filesystem::path> files;       // torch's CUDA binaries that were found
    std::string error;  // non-empty: one could not be read: "could not read FILE: reason"
};

// The CUDA binaries torch/lib may hold, in the order read (Linux names, then Windows names).
std::vector<std::filesystem::path> torch_cuda_binary_candidates(
    const std::filesystem::path& site_packages);

// torch's architectures from the binaries found under site_packages/torch/lib (pooled: the
// first 64 containers of each). archs is nullopt when torch has no CUDA binary (CPU build, not
// installed; an empty file counts as none) or one of them cannot be read (then error says why).
TorchArchs read_torch_arch_facts(const std::filesystem::path& site_packages);

// read_torch_arch_facts(...).archs.
std::optional<std::vector<std::string>> read_torch_archs(
    const std::filesystem::path& site_packages);

// One file (libtorch_cuda.so, torch_cuda.dll) under `scope`; nullopt when it cannot be read or
// holds no fat binary (`error`, when given, says why for a malformed one).
std::optional<std::vector<std::string>> read_fatbin_archs(const std::filesystem::path& file,
                                                          ArchScope scope = ArchScope::Torch,
                                                          std::string* error = nullptr);

struct ArchVerdict {
    bool compatible = false;
    std::string how;  // "exact sm_86 cubin", "sm_80 cubin (same major)", "PTX compute_90 (JIT)"
};

// A device of compute capability major.minor against torch's list (pure).
ArchVerdict check_arch(int cc_major, int cc_minor, const std::vector<std::string>& archs);

// The CUDA wheel index of a torch build that has kernels for this compute capability.
std::string torch_index_for(int cc_major, int cc_minor);

}  // namespace alltalk
