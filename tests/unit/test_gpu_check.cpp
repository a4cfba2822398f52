#include <doctest/doctest.h>

#include "fatbin_files.hpp"
#include "gpu/check.hpp"
#include "gpu/torch_arch.hpp"
#include "test_support.hpp"

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

TEST_CASE("a probe report with Windows line ends reads as with POSIX ones") {
    // The Windows probe writes its report to a text-mode stdout: "\r\n" line ends.
    GpuProbe p;
    parse_probe_report(
        "lib C:\\env\\cudart64_12.dll\r\ndriver 12080\r\npresent 1\r\n"
        "device 0 12 0 17179869184 NVIDIA GeForce RTX 5080\r\n",
        p);
    REQUIRE(p.devices.size() == 1);
    CHECK(p.devices[0].name == "NVIDIA GeForce RTX 5080");
    CHECK(p.devices[0].cc_major == 12);
    CHECK(p.library == "C:\\env\\cudart64_12.dll");
    CHECK(p.driver_version == 12080);
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
    text = describe_gpu_check(p, std::nullopt, true, "could not read X: no PE header at offset 9");
    CHECK(text.find("torch CUDA architectures: unknown (could not read X: no PE header at "
                    "offset 9)\n") != std::string::npos);
}

TEST_CASE("a file that is not a CUDA binary has no architecture list") {
    CHECK_FALSE(read_fatbin_archs("/nonexistent/libtorch_cuda.so"));
    std::string error;
    CHECK_FALSE(read_fatbin_archs("/bin/sh", ArchScope::Torch, &error));  // no .nv_fatbin
    CHECK(error == "");
}

TEST_CASE("torch's rule: an arch in most of the containers; every arch of any container") {
    const std::vector<std::vector<std::string>> c = {
        {"sm_86", "compute_90", "sm_90"}, {"sm_90", "sm_86"}, {"sm_86", "sm_90", "sm_120"}};
    CHECK(archs_of(c, ArchScope::Torch) == std::vector<std::string>{"sm_86", "sm_90"});
    CHECK(archs_of(c, ArchScope::Every) ==
          std::vector<std::string>{"sm_86", "sm_90", "sm_120", "compute_90"});
    CHECK(archs_of({}, ArchScope::Torch).empty());
}

TEST_CASE("torch's architectures from a Linux, a Windows and a split Windows torch/lib") {
    using namespace fatbin_files;
    test::TempDir tmp;
    const auto site = tmp.path() / "site";
    const auto lib = site / "torch" / "lib";
    TorchArchs t = read_torch_arch_facts(site);
    CHECK_FALSE(t.archs);
    CHECK(t.files.empty());
    CHECK(t.error == "");

    const std::string fb = fatbin({{{2, 80}, {2, 86}}, {{2, 80}, {2, 86}, {1, 86}}});
    test::write(lib / "libtorch_cuda.so", elf({{".nv_fatbin", fb}}).bytes);
    t = read_torch_arch_facts(site);
    CHECK(t.archs == std::vector<std::string>{"sm_80", "sm_86", "compute_86"});
    CHECK(t.files == std::vector<std::filesystem::path>{lib / "libtorch_cuda.so"});
    std::filesystem::remove(lib / "libtorch_cuda.so");

    test::write(lib / "torch_cuda.dll", pe({{".text", "x"}, {".nv_fatb", fb}}).bytes);
    t = read_torch_arch_facts(site);
    CHECK(t.archs == std::vector<std::string>{"sm_80", "sm_86", "compute_86"});
    std::filesystem::remove(lib / "torch_cuda.dll");

    // Older torch: torch_cuda_cu.dll holds most kernels, torch_cuda_cpp.dll a few; pooled.
    test::write(lib / "torch_cuda_cu.dll",
                pe({{".nv_fatb", fatbin({{{2, 75}}, {{2, 75}}, {{2, 75}, {2, 61}}})}}).bytes);
    test::write(lib / "torch_cuda_cpp.dll", pe({{".nv_fatb", fatbin({{{2, 61}}})}}).bytes);
    test::write(lib / "torch_cuda.dll");  // the empty stub beside them: nothing to read
    t = read_torch_arch_facts(site);
    CHECK(t.error == "");
    CHECK(t.archs == std::vector<std::string>{"sm_61", "sm_75"});
    CHECK(t.files.size() == 2);

    // A cut-off one: said, and no list.
    const std::string whole = pe({{".nv_fatb", fatbin({{{2, 61}}})}}).bytes;
    test::write(lib / "torch_cuda_cpp.dll", whole.substr(0, whole.size() - 600));
    t = read_torch_arch_facts(site);
    CHECK_FALSE(t.archs);
    CHECK(t.error.find("could not read " + (lib / "torch_cuda_cpp.dll").string() +
                       ": .nv_fatb (") == 0);
    CHECK(t.error.find("past the end of the file") != std::string::npos);
}
