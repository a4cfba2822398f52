#include "fix/state_dir.hpp"

namespace alltalk::fix {

std::filesystem::path state_dir(const PythonEnv& env) {
    return env.dir / ".alltalk-launch";
}

std::filesystem::path undo_root(const PythonEnv& env) {
    return state_dir(env) / "undo";
}

std::filesystem::path lock_file(const PythonEnv& env) {
    return state_dir(env) / "fix.lock";
}

}  // namespace alltalk::fix
