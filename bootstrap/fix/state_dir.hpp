#pragma once
// Where alltalk-launch keeps what it writes into an env (only for `fix` and `overlay`, which the
// user asked for): <env>/.alltalk-launch/, with undo/<id>/ (fix/undo.hpp) and fix.lock
// (fix/lock.hpp).
#include <filesystem>
#include <string>

#include "discover/python_env.hpp"

namespace alltalk::fix {

std::filesystem::path state_dir(const PythonEnv& env);  // <env>/.alltalk-launch
std::filesystem::path undo_root(const PythonEnv& env);  // <env>/.alltalk-launch/undo
std::filesystem::path lock_file(const PythonEnv& env);  // <env>/.alltalk-launch/fix.lock

// Where fix's passing files go (pip's report and output, the trial fixes' scratch folders):
// <env>/.alltalk-launch/tmp, so that a fix writes nothing outside the env; with --dry-run, which
// writes nothing in the env, the system's temporary folder.
std::filesystem::path scratch_root(const PythonEnv& env, bool dry_run);

// A fresh folder under a scratch root, removed (with everything in it) when this goes, and the
// root too when that leaves it empty. Throws LaunchError (Stage::Fix) when none can be made.
class ScratchDir {
  public:
    ScratchDir(const std::filesystem::path& root, const std::string& prefix);
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return dir_; }

  private:
    std::filesystem::path root_, dir_;
};

}  // namespace alltalk::fix
