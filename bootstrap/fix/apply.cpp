#include "fix/apply.hpp"

#include "os/process.hpp"

namespace alltalk::fix {

ApplyResult apply_fix(const ApplyRequest& request) {
    ApplyResult r;
    for (const auto& step : request.steps) {
        process::Child child;
        std::string why;
        if (!child.start(step.argv, "/dev/stdout", why)) {
            r.failed_step = step.what + " (" + why + ")";
            return r;
        }
        std::optional<int> status;
        while (!(status = child.wait_for(500))) {
        }
        if (*status != 0) {
            r.status = *status;
            r.failed_step = step.what;
            return r;
        }
    }
    r.ok = true;
    return r;
}

}  // namespace alltalk::fix
