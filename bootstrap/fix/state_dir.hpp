#pragma once
// Where alltalk-launch keeps what it writes into an env (only for `fix` and `overlay`, which the
// user asked for): <env>/.alltalk-launch/, with undo/<id>/ (fix/undo.hpp) and fix.lock
// (fix/lock.hpp).
#include <filesystem>

#include "discover/python_env.hpp"

namespace alltalk::fix {

std::filesystem::path state_dir(const PythonEnv& env);  // <env>/.alltalk-launch
std::filesystem::path undo_root(const PythonEnv& env);  // <env>/.alltalk-launch/undo
std::filesystem::path lock_file(const PythonEnv& env);  // <env>/.alltalk-launch/fix.lock

}  // namespace alltalk::fix
