// POSIX implementation of dynlib.hpp.
#include <dlfcn.h>

#include "os/dynlib.hpp"

namespace alltalk::dynlib {

Library load(const std::filesystem::path& path, bool global, std::string& error, Bind bind) {
    Library lib;
    const int scope = global ? RTLD_GLOBAL : RTLD_LOCAL;
    if (bind == Bind::Now) {
        lib.handle = ::dlopen(path.c_str(), RTLD_NOW | scope);
    }
    if (!lib.handle) {  // lazily, or again lazily (the error then is the lazy load's)
        lib.handle = ::dlopen(path.c_str(), RTLD_LAZY | scope);
    }
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
