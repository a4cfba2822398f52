// The platform-neutral part of native_apply.hpp: whether a missing cuDNN stops the launch.
#include <spdlog/spdlog.h>

#include "error.hpp"
#include "native_apply.hpp"

namespace alltalk {

void require_native(const LaunchPlan& plan, bool gpu_usable) {
    std::string msg = missing_cudnn_message(plan.native, plan.env);
    if (msg.empty()) {
        return;
    }
    if (!gpu_usable && plan.native.override_problem.empty() && missing_only_on_gpu(plan.native)) {
        spdlog::warn("warning: {} It is needed only on the GPU, and this run uses the CPU.", msg);
        return;
    }
    throw LaunchError("cudnn", msg);
}

}  // namespace alltalk
