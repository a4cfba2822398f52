#include <doctest/doctest.h>

#include "gpu/check.hpp"
#include "gpu/torch_arch.hpp"

using namespace alltalk;

namespace {
// torch._C._cuda_getArchFlags() of the real torch 2.4.1+cu121 and 2.11.0+cu130 wheels.
const std::vector<std::string> kTorch24 = {"sm_50", "sm_60", "sm_70", "sm_75",
                                           "sm_80", "sm_86", "sm_90"};
const std::vector<std::string> kTorch211 = {"sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"};
}  // namespace

TEST_CASE("architecture rule: exact cubin, same-major lower minor, PTX, or nothing") {
    // RTX 50xx (12.0) on torch 2.4: no sm_12x cubin, no PTX.
    CHECK_FALSE(check_arch(12, 0, kTorch24).compatible);
    CHECK(check_arch(12, 0, kTorch211).how == "exact sm_120 cubin");
    // RTX 40xx (8.9): the sm_86 cubin runs on it.
    auto v = check_arch(8, 9, kTorch24);
    CHECK(v.compatible);
    CHECK(v.how == "sm_86 cubin (same major, lower minor)");
    CHECK(check_arch(8, 6, kTorch24).how == "exact sm_86 cubin");
    // A higher minor cubin does not run on a lower minor device.
    CHECK_FALSE(check_arch(8, 0, {"sm_86"}).compatible);
    // Maxwell 5.0 is gone from torch 2.11.
    CHECK_FALSE(check_arch(5, 0, kTorch211).compatible);
    // PTX of a lower arch is compiled at first use; PTX of a higher one is not.
    CHECK(check_arch(12, 0, {"sm_90", "compute_90"}).how.find("PTX compute_90") == 0);
    CHECK_FALSE(check_arch(8, 6, {"compute_90"}).compatible);
    // sm_100 (10.0) kernels do not run on 12.0: another major.
    CHECK_FALSE(check_arch(12, 0, {"sm_100"}).compatible);
}

TEST_CASE("an incompatible GPU is an error naming the GPU, its sm, torch's list and the fix") {
    GpuProbe p;
    p.driver_present = true;
    p.devices.push_back({0, "NVIDIA GeForce RTX 4090", 8, 9, 24ull << 30});
    p.devices.push_back({1, "NVIDIA GeForce RTX 5090", 12, 0, 32ull << 30});
    auto msg = gpu_arch_problem(p, kTorch24, "/env/bin/python");
    REQUIRE(msg);
    CHECK(msg->find("NVIDIA GeForce RTX 5090 (GPU 1, compute capability 12.0, sm_120)") !=
          std::string::npos);
    CHECK(msg->find("kernels for sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90 only") !=
          std::string::npos);
    CHECK(msg->find("/env/bin/python -m pip install --upgrade torch torchaudio --index-url "
                    "https://download.pytorch.org/whl/cu128") != std::string::npos);
    CHECK(msg->find("--no-gpu-check") != std::string::npos);
    CHECK_FALSE(gpu_arch_problem(p, kTorch211, "/env/bin/python"));
    CHECK_FALSE(gpu_arch_problem(GpuProbe{}, kTorch24, "/env/bin/python"));  // no GPU: nothing
}

TEST_CASE("the probe report reads well with and without devices") {
    GpuProbe p;
    p.note = "no NVIDIA driver";
    p.runtime_version = 12010;
    p.library = "libcudart.so.12";
    CHECK(describe_gpus(p) == "no NVIDIA driver, runtime CUDA 12.1 (libcudart.so.12)");
    p.devices.push_back({0, "NVIDIA H100 80GB HBM3", 9, 0, 85ull * 1000 * 1000 * 1000});
    p.driver_version = 12040;
    CHECK(describe_gpus(p).find("GPU 0: NVIDIA H100 80GB HBM3, sm_90, 79.2 GiB; driver supports "
                                "CUDA 12.4") == 0);
    auto text = describe_gpu_check(p, kTorch24, true);
    CHECK(text.find("GPU 0 sm_90: supported (exact sm_90 cubin)") != std::string::npos);
}

TEST_CASE("a file that is not an ELF CUDA binary has no architecture list") {
    CHECK_FALSE(read_fatbin_archs("/nonexistent/libtorch_cuda.so"));
    CHECK_FALSE(read_fatbin_archs("/bin/sh"));  // ELF without .nv_fatbin
}
