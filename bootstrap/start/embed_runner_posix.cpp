// POSIX part of embed_runner.hpp: argv as the bytes python's own main() receives
// (PyConfig_SetBytesArgv); CPython decodes them with the locale, as it does for python.
#include "start/embed_runner.hpp"

namespace alltalk::embed {

const char* const kSetArgvFunction = "PyConfig_SetBytesArgv";
const char* const kLibraryNoun = "CPython library";

embed_runtime::PyStatus set_argv(void* fn, void* config, const std::vector<std::string>& argv) {
    std::vector<char*> ptrs;
    for (const auto& a : argv) {
        ptrs.push_back(const_cast<char*>(a.c_str()));
    }
    using Fn = embed_runtime::PyStatus (*)(void*, embed_runtime::Py_ssize_t, char* const*);
    return reinterpret_cast<Fn>(fn)(config, static_cast<embed_runtime::Py_ssize_t>(ptrs.size()),
                                    ptrs.data());
}

}  // namespace alltalk::embed
