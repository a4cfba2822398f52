// Windows part of embed_runner.hpp: argv as wide strings (PyConfig_SetArgv), as python.exe's
// wmain receives them. How the interpreter is started and what runs in it is embed/runner.cpp,
// shared with Linux (GetProcAddress on python3XY.dll here).
//
// The interpreter finds its prefix as python.exe does: argv[0] is the env's python.exe (a full
// path), which CPython takes as the program name and so as the executable; getpath then finds
// Lib\os.py beside it (conda, python.org) or the pyvenv.cfg of a venv.
//
// Ctrl+C and Ctrl+Break are CPython's: Py_InitializeFromConfig installs its SIGINT handler
// (KeyboardInterrupt), and Py_RunMain returns STATUS_CONTROL_C_EXIT for an uncaught one, as
// python.exe exits; Ctrl+Break ends the process as it ends python.exe. The launcher installs no
// console handler of its own (launcher/console_win32.cpp).
#include <string>
#include <vector>

#include "os/process.hpp"
#include "start/embed_runner.hpp"

namespace alltalk::embed {

const char* const kSetArgvFunction = "PyConfig_SetArgv";
const char* const kLibraryNoun = "CPython DLL";

embed_runtime::PyStatus set_argv(void* fn, void* config, const std::vector<std::string>& argv) {
    std::vector<std::wstring> wide;
    for (const auto& a : argv) {
        wide.push_back(process::from_utf8(a).wstring());
    }
    std::vector<wchar_t*> ptrs;
    for (auto& w : wide) {
        ptrs.push_back(w.data());
    }
    using Fn = embed_runtime::PyStatus (*)(void*, embed_runtime::Py_ssize_t, wchar_t* const*);
    return reinterpret_cast<Fn>(fn)(config, static_cast<embed_runtime::Py_ssize_t>(ptrs.size()),
                                    ptrs.data());
}

}  // namespace alltalk::embed
