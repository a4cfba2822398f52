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

// Loads `path`; `global` makes its symbols visible to libraries loaded later (RTLD_GLOBAL), as
// libpython must be for extension modules. On failure returns an empty
// Library and sets `error` to the loader's message.
Library load(const std::filesystem::path& path, bool global, std::string& error);

void* symbol(const Library& lib, const char* name);

// Adds folders to the DLL search of libraries loaded later with the "user directories" flag, as
// CPython loads extension modules on Windows (AddDllDirectory; PATH is searched as well, since
// SetDefaultDllDirectories is never called). Nothing to do on POSIX, where the env's rpaths and
// LD_LIBRARY_PATH serve.
void add_search_dirs(const std::vector<std::filesystem::path>& dirs);

}  // namespace alltalk::dynlib
