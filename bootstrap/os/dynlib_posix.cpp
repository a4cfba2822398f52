// POSIX implementation of dynlib.hpp.
#include <dlfcn.h>

#include "os/dynlib.hpp"

namespace alltalk::dynlib {

Library load(const std::filesystem::path& path, bool global, std::string& error) {
    Library lib;
    lib.handle = ::dlopen(path.c_str(), RTLD_LAZY | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (!lib.handle) {
        const char* msg = ::dlerror();
        error = msg ? msg : "unknown error";
    }
    return lib;
}

void* symbol(const Library& lib, const char* name) {
    return ::dlsym(lib.handle, name);
}

void add_search_dirs(const std::vector<std::filesystem::path>& /*dirs*/) {}

}  // namespace alltalk::dynlib
