#include "gpu/check.hpp"

#include "base/text.hpp"
#include "gpu/torch_arch.hpp"

namespace alltalk {

namespace {
std::string join(const std::vector<std::string>& v) {
    return text::join(v, " ");
}
}  // namespace

std::optional<std::string> gpu_arch_problem(const GpuProbe& probe,
                                            const std::vector<std::string>& torch_archs,
                                            const std::filesystem::path& python,
                                            Platform platform) {
    for (const auto& d : probe.devices) {
        if (check_arch(d.cc_major, d.cc_minor, torch_archs).compatible) {
            continue;
        }
        const std::string sm = "sm_" + std::to_string(d.cc_major) + std::to_string(d.cc_minor);
        return "The GPU " + d.name + " (GPU " + std::to_string(d.index) + ", compute capability " +
               std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor) + ", " + sm +
               ") cannot run the installed torch: it has kernels for " + join(torch_archs) +
               " only, and no " + sm +
               " kernels or PTX that could be compiled for it, so every CUDA operation would fail "
               "with \"no kernel image is available for execution on the device\". Install a "
               "torch build with " +
               sm + " kernels: " + text::quote_arg(python.string(), platform) +
               " -m pip install --upgrade torch torchaudio --index-url " +
               torch_index_for(d.cc_major, d.cc_minor) +
               " . Or run on the CPU with --cpu, or start anyway with --no-gpu-check.";
    }
    return std::nullopt;
}

std::string describe_gpu_check(const std::optional<GpuProbe>& probe,
                               const std::optional<std::vector<std::string>>& torch_archs,
                               bool check_enabled, const std::string& archs_error) {
    std::string out = "  GPU:\n";
    out += "    probe: " + (probe ? describe_gpus(*probe) : std::string("not run")) + "\n";
    out += "    torch CUDA architectures: " +
           (torch_archs           ? join(*torch_archs)
            : archs_error.empty() ? std::string("none (no CUDA build of torch)")
                                  : "unknown (" + archs_error + ")") +
           "\n";
    if (probe && torch_archs) {
        for (const auto& d : probe->devices) {
            ArchVerdict v = check_arch(d.cc_major, d.cc_minor, *torch_archs);
            out += "    GPU " + std::to_string(d.index) + " sm_" + std::to_string(d.cc_major) +
                   std::to_string(d.cc_minor) + ": " +
                   (v.compatible ? "supported (" + v.how + ")" : std::string("NOT supported")) +
                   "\n";
        }
    }
    if (!check_enabled) {
        out += "    architecture check: off (--no-gpu-check, [native] gpu_check or --cpu)\n";
    }
    return out;
}

}  // namespace alltalk
