#include "fix/state_dir.hpp"

#include <random>
#include <system_error>

#include "base/error.hpp"

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

std::filesystem::path scratch_root(const PythonEnv& env, bool dry_run) {
    std::error_code ec;
    return dry_run ? std::filesystem::temp_directory_path(ec) : state_dir(env) / "tmp";
}

ScratchDir::ScratchDir(const std::filesystem::path& root, const std::string& prefix) : root_(root) {
    std::random_device rd;
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    for (int i = 0; i < 10 && dir_.empty(); ++i) {
        std::filesystem::path d = root / (prefix + std::to_string(rd()));
        if (std::filesystem::create_directory(d, ec)) {
            dir_ = d;
        }
    }
    if (dir_.empty()) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"fix could not make a working folder in " + root.string() +
                          (ec ? " (" + ec.message() + ")" : "") + ".",
                      "", "Check that this folder is writable and its disk has space."});
    }
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::remove(root_, ec);  // only when empty (the system's temporary folder never is)
}

}  // namespace alltalk::fix
