#pragma once
// Loading shared libraries at run time (dlopen / LoadLibraryExW), one file per platform.
#include <filesystem>
#include <string>

namespace alltalk::dynlib {

struct Library {
    void* handle = nullptr;
    explicit operator bool() const { return handle != nullptr; }
};

// Loads `path`; `global` makes its symbols visible to libraries loaded later (RTLD_GLOBAL), as
// libpython must be for extension modules and for the embed plugin. On failure returns an empty
// Library and sets `error` to the loader's message.
Library load(const std::filesystem::path& path, bool global, std::string& error);

void* symbol(const Library& lib, const char* name);

}  // namespace alltalk::dynlib
