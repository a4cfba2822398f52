#include "launch/gpu_facts.hpp"

#include "base/error.hpp"
#include "base/text.hpp"
#include "gpu/check.hpp"

namespace alltalk {

void check_gpus(const LaunchPlan& plan, GpuFacts& gpu, bool verbose) {
    if (!gpu.gather(verbose)) {
        return;
    }
    if (plan.gpu_check && !gpu.archs_error().empty()) {
        // A malformed (say, half-written) torch library: said, and the launch goes on.
        spdlog::warn("{}; the GPU architecture check is skipped", gpu.archs_error());
    }
    if (!gpu.probed()) {
        return;
    }
    const GpuProbe& probe = *gpu.probed();
    if (probe.kept) {
        spdlog::debug(
            "GPU probe: the result kept by an earlier launch (nothing it depends on "
            "changed since)");
    }
    if (probe.devices.empty()) {
        spdlog::info("no NVIDIA driver/GPU: running on the CPU ({})", describe_gpus(probe));
    } else {
        spdlog::info("{}", describe_gpus(probe));
    }
    if (const auto& archs = gpu.archs()) {
        spdlog::debug("torch CUDA architectures: {}", text::join(*archs, " "));
        if (plan.gpu_check) {
            if (auto problem =
                    gpu_arch_problem(probe, *archs, plan.env.python, plan.env.platform)) {
                throw LaunchError(Stage::Gpu, *problem);
            }
        }
    }
}

}  // namespace alltalk
