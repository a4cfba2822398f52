// Windows implementation of embed_runner.hpp: starts the env's python3XY.dll from inside
// alltalk-launch.exe, with no embed plugin.
//
// Why the C API is bound at run time (GetProcAddress) instead of compiling a plugin as on POSIX: a
// Windows plugin would need CPython's Windows pyconfig.h and an import library for
// python3XY.dll, neither of which Debian ships (python3.11-dev has Linux headers, whose struct
// layouts differ: `long` is 4 bytes on Windows), and it would be tied to one Python minor version.
// The dozen functions used here have had the same signatures since 3.8, PyConfig is only ever
// handled through its functions (as an opaque buffer larger than any version's struct), and so
// one exe starts 3.10 to 3.13 envs alike; PyInstaller's bootloader binds python3XY.dll the same
// way. What PyConfig fields would set is given as python's own command-line options instead
// (`-s`, `-X faulthandler`), parsed by CPython (parse_argv), so no field offset is ever needed.
// What runs once the interpreter is up (the alltalk_launch module, the shims) is the same code as
// the POSIX plugin's: embed/runner.cpp.
//
// The interpreter finds its prefix as python.exe does: argv[0] is the env's python.exe (a full
// path), which CPython takes as the program name and so as the executable; getpath then finds
// Lib\os.py beside it (conda, python.org) or the pyvenv.cfg of a venv.
//
// Ctrl+C and Ctrl+Break are CPython's: Py_InitializeFromConfig installs its SIGINT handler
// (KeyboardInterrupt), and Py_RunMain returns STATUS_CONTROL_C_EXIT for an uncaught one, as
// python.exe exits; Ctrl+Break ends the process as it ends python.exe. The launcher installs no
// console handler of its own (launcher/console_win32.cpp).
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "base/error.hpp"
#include "embed/runner.hpp"
#include "os/process.hpp"
#include "start/embed_runner.hpp"

namespace alltalk::embed {

namespace {

// The C API types, as CPython 3.8-3.13 define them on 64-bit Windows.
using Py_ssize_t = std::intptr_t;
struct PyStatus {  // returned by value: same layout since 3.8 (Include/cpython/initconfig.h)
    int type;      // 0 ok, 1 error, 2 exit
    const char* func;
    const char* err_msg;
    int exitcode;
};

// PyConfig is never looked into: it is initialised, given argv, used and cleared through the API.
// 3.13's struct is under 600 bytes on x64; this leaves room for later versions.
struct alignas(16) ConfigBuffer {
    unsigned char bytes[16384];
};

struct InitApi {
    void (*PyConfig_InitPythonConfig)(void*);
    PyStatus (*PyConfig_SetArgv)(void*, Py_ssize_t, wchar_t* const*);
    PyStatus (*Py_InitializeFromConfig)(const void*);
    void (*PyConfig_Clear)(void*);
};

void* lookup(void* context, const char* name) {
    return dynlib::symbol(*static_cast<const dynlib::Library*>(context), name);
}

// Binds the start-up entry points, or names the first one missing.
bool bind_init(const dynlib::Library& lib, InitApi& api, std::string& missing) {
    bool ok = true;
    auto get = [&](auto& fn, const char* name) {
        void* p = ok ? dynlib::symbol(lib, name) : nullptr;
        if (!p && ok) {
            ok = false;
            missing = name;
        }
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    get(api.PyConfig_InitPythonConfig, "PyConfig_InitPythonConfig");
    get(api.PyConfig_SetArgv, "PyConfig_SetArgv");
    get(api.Py_InitializeFromConfig, "Py_InitializeFromConfig");
    get(api.PyConfig_Clear, "PyConfig_Clear");
    return ok;
}

void copy_error(char* out, std::size_t size, const std::string& text) {
    if (out && size) {
        std::snprintf(out, size, "%s", text.c_str());
    }
}

}  // namespace

int run(const dynlib::Library& libpython, const std::filesystem::path& /*launcher*/,
        const alltalk_embed_request& req, char* error, std::size_t error_size) {
    InitApi py{};
    embed_runtime::Api api{};
    std::string missing;
    if (!bind_init(libpython, py, missing) ||
        !embed_runtime::bind(api, lookup, const_cast<dynlib::Library*>(&libpython), missing)) {
        throw LaunchError(Stage::Python,
                          "The env's Python library does not export " + missing +
                              ", which the launcher calls to start it: it is not a "
                              "CPython DLL, or one older than 3.8. Recreate the "
                              "environment with AllTalk's installer, or point --env at "
                              "another one.");
    }

    // python.exe's command line: the interpreter, the options that the POSIX plugin sets as
    // PyConfig fields (no user site folder; a native crash prints the Python stack), then the rest.
    std::vector<std::wstring> args;
    args.push_back(process::from_utf8(req.argc > 0 ? req.argv[0] : "python").wstring());
    for (const char* opt : {"-s", "-X", "faulthandler"}) {
        args.push_back(process::from_utf8(opt).wstring());
    }
    for (int i = 1; i < req.argc; ++i) {
        args.push_back(process::from_utf8(req.argv[i]).wstring());
    }
    std::vector<wchar_t*> wargv;
    for (auto& a : args) {
        wargv.push_back(a.data());
    }

    static ConfigBuffer config;  // static: large, and used once per process
    py.PyConfig_InitPythonConfig(&config);
    PyStatus status =
        py.PyConfig_SetArgv(&config, static_cast<Py_ssize_t>(wargv.size()), wargv.data());
    if (status.type == 0) {
        status = py.Py_InitializeFromConfig(&config);
    }
    py.PyConfig_Clear(&config);
    if (status.type == 2) {
        return status.exitcode;  // e.g. `--version` or `-h`, already printed by CPython
    }
    if (status.type != 0) {
        std::string msg = status.err_msg ? status.err_msg : "unknown error";
        if (status.func) {
            msg = std::string(status.func) + ": " + msg;
        }
        copy_error(error, error_size, msg);
        return -1;
    }

    std::string why;
    if (!embed_runtime::install(api, req, why)) {
        copy_error(error, error_size, why);
        return -1;
    }
    return api.Py_RunMain();
}

}  // namespace alltalk::embed
