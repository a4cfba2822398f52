// Platform-neutral parts of process.hpp.
#include "os/process.hpp"

namespace alltalk::process {

void apply(const std::vector<EnvChange>& changes) {
    for (const auto& c : changes) {
        if (c.value) {
            set_env(c.name, *c.value);
        } else {
            unset_env(c.name);
        }
    }
}

}  // namespace alltalk::process
