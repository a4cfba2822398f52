// Windows: the probe is not implemented yet (it needs a helper process, as the POSIX one forks).
// It reports that honestly; the launch continues and the architecture check is skipped.
#include "gpu_probe.hpp"

namespace alltalk {

GpuProbe probe_gpus(const std::vector<std::filesystem::path>& /*cudart*/, int /*timeout_ms*/) {
    GpuProbe p;
    p.note = "the GPU probe is not available on Windows yet";
    return p;
}

}  // namespace alltalk
