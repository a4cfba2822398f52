// Windows implementation of inputs.hpp: not supported (no inode or change time through the
// standard library), so nothing is recorded and the caches that rely on it always recompute.
#include "os/inputs.hpp"

namespace alltalk::inputs {

bool supported() {
    return false;
}

std::string signature(const std::filesystem::path& /*p*/, std::int64_t* changed_ns) {
    if (changed_ns) {
        *changed_ns = 0;
    }
    return "unsupported";
}

}  // namespace alltalk::inputs
