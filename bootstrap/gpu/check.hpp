#pragma once
// The GPU check before start-up (pure): each probed device against the architectures compiled
// into the installed torch. An incompatible GPU would fail at the first CUDA operation with "no
// kernel image is available for execution on the device"; the launcher says so before starting.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/platform.hpp"
#include "gpu/probe.hpp"

namespace alltalk {

// The error paragraph for the first device that torch cannot run on, or nullopt.
std::optional<std::string> gpu_arch_problem(const GpuProbe& probe,
                                            const std::vector<std::string>& torch_archs,
                                            const std::filesystem::path& python,
                                            Platform platform = kHostPlatform);

// --dry-run / -v lines: the devices (or why there are none) and torch's architectures
// (`archs_error`: why torch's CUDA library could not be read, when it could not).
std::string describe_gpu_check(const std::optional<GpuProbe>& probe,
                               const std::optional<std::vector<std::string>>& torch_archs,
                               bool check_enabled, const std::string& archs_error = "");

}  // namespace alltalk
