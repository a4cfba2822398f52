#pragma once
// Running an embed request (bootstrap/embed/embed_abi.h) in the env's interpreter, whose library
// the launcher has already loaded, from alltalk-launch itself: embed/runner.cpp starts it and runs
// the shims through a few C API functions bound at run time (its opening comment says why);
// embed_runner.cpp binds them; one file per platform gives argv the way its CPython takes it.
#include <cstddef>
#include <string>
#include <vector>

#include "embed/embed_abi.h"
#include "embed/runner.hpp"
#include "os/dynlib.hpp"

namespace alltalk::embed {

// Returns the interpreter's exit status, or -1 with a non-empty `error` when Python could not be
// started (see embed_abi.h). Throws LaunchError when the library lacks an entry point.
int run(const dynlib::Library& libpython, const alltalk_embed_request& request, char* error,
        std::size_t error_size);

// Per platform (embed_runner_posix.cpp / _win32.cpp): the name of the function that gives
// PyConfig its argv, and the call of it (`fn`, bound by that name) with `argv` (UTF-8).
extern const char* const kSetArgvFunction;
extern const char* const kLibraryNoun;  // what the env's Python library is called: "CPython DLL"
embed_runtime::PyStatus set_argv(void* fn, void* config, const std::vector<std::string>& argv);

}  // namespace alltalk::embed
