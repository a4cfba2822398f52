#pragma once
// Loading shared libraries at run time (dlopen / LoadLibraryExW), one file per platform.
#include <filesystem>
#include <string>
#include <vector>

namespace alltalk::dynlib {

struct Library {
    void* handle = nullptr;
    explicit operator bool() const { return handle != nullptr; }
};

// When a library's function references are bound (POSIX; Windows binds imports at load).
//   Lazy: at each function's first call, through the loader's trampoline (what `python` does for
//         its libpython).
//   Now:  all at load (RTLD_NOW), falling back to Lazy for a library with a reference that nothing
//         loaded defines, which lazy binding lets load. For libpython a trampoline call costs more
//         than a binding at load, and a start makes hundreds of first calls (pyenv's build calls
//         even its own exported functions through the PLT): measured 0.1-0.15 ms less per start
//         with pyenv's and with Debian's libpython (bench/startup.py, bare venv and torch venv).
enum class Bind { Lazy, Now };

// Loads `path`; `global` makes its symbols visible to libraries loaded later (RTLD_GLOBAL), as
// libpython must be for extension modules. On failure returns an empty Library and sets `error`
// to the loader's message.
Library load(const std::filesystem::path& path, bool global, std::string& error,
             Bind bind = Bind::Lazy);

void* symbol(const Library& lib, const char* name);

// Adds folders to the DLL search of libraries loaded later with the "user directories" flag, as
// CPython loads extension modules on Windows (AddDllDirectory; PATH is searched as well, since
// SetDefaultDllDirectories is never called). Nothing to do on POSIX, where the env's rpaths and
// LD_LIBRARY_PATH serve.
void add_search_dirs(const std::vector<std::filesystem::path>& dirs);

}  // namespace alltalk::dynlib
