// Windows implementation of launch_hint.hpp: the launcher never re-executes itself there, so
// there is never a hint.
#include "start/launch_hint.hpp"

namespace alltalk {

LaunchHint read_launch_hint(const std::vector<std::string>& /*args*/) {
    return {};
}

bool store_launch_hint(const std::vector<std::string>& /*args*/, const std::string& /*value*/) {
    return false;
}

}  // namespace alltalk
