#pragma once
// Running an embed request (bootstrap/embed/embed_abi.h) in the env's interpreter, whose library
// the launcher has already loaded: one implementation per platform.
//
// - POSIX (embed_runner_posix.cpp): through the embed plugin, compiled with pybind11 against this
//   platform's Python headers and loaded beside the launcher (bootstrap/embed/embed_main.cpp).
// - Windows (embed_runner_win32.cpp): built into alltalk-launch.exe, calling the few C API
//   functions it needs through GetProcAddress on the env's python3XY.dll.
#include <cstddef>
#include <filesystem>

#include "embed/embed_abi.h"
#include "os/dynlib.hpp"

namespace alltalk::embed {

// Returns the interpreter's exit status, or -1 with a non-empty `error` when Python could not be
// started (see embed_abi.h). Throws LaunchError when the launcher's own part (the plugin) or the
// library's entry points are missing.
int run(const dynlib::Library& libpython, const std::filesystem::path& launcher,
        const alltalk_embed_request& request, char* error, std::size_t error_size);

}  // namespace alltalk::embed
