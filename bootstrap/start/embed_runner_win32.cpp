// Windows implementation of embed_runner.hpp: starts the env's python3XY.dll from inside
// alltalk-launch.exe, with no embed plugin.
//
// Why the C API is bound at run time (GetProcAddress) instead of compiling a pybind11 plugin as on
// POSIX: a Windows plugin would need CPython's Windows pyconfig.h and an import library for
// python3XY.dll, neither of which Debian ships (python3.11-dev has Linux headers, whose struct
// layouts differ: `long` is 4 bytes on Windows), and it would be tied to one Python minor version.
// The dozen functions used here have had the same signatures since 3.8, PyConfig is only ever
// handled through its functions (as an opaque buffer larger than any version's struct), and so
// one exe starts 3.10 to 3.13 envs alike; PyInstaller's bootloader binds python3XY.dll the same
// way. What PyConfig fields would set is given as python's own command-line options instead
// (`-s`, `-X faulthandler`), parsed by CPython (parse_argv), so no field offset is ever needed.
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
#include "os/process.hpp"
#include "python_shims.hpp"
#include "start/embed_runner.hpp"

namespace alltalk::embed {

namespace {

// The C API types, as CPython 3.8-3.13 define them on 64-bit Windows.
struct PyObject;
using Py_ssize_t = std::intptr_t;
struct PyStatus {  // returned by value: same layout since 3.8 (Include/cpython/initconfig.h)
    int type;      // 0 ok, 1 error, 2 exit
    const char* func;
    const char* err_msg;
    int exitcode;
};
constexpr int kPyFileInput = 257;  // Py_file_input

// PyConfig is never looked into: it is initialised, given argv, used and cleared through the API.
// 3.13's struct is under 600 bytes on x64; this leaves room for later versions.
struct alignas(16) ConfigBuffer {
    unsigned char bytes[16384];
};

struct Api {
    void (*PyConfig_InitPythonConfig)(void*);
    PyStatus (*PyConfig_SetArgv)(void*, Py_ssize_t, wchar_t* const*);
    PyStatus (*Py_InitializeFromConfig)(const void*);
    void (*PyConfig_Clear)(void*);
    int (*Py_RunMain)();
    PyObject* (*Py_CompileString)(const char*, const char*, int);
    PyObject* (*PyEval_EvalCode)(PyObject*, PyObject*, PyObject*);
    PyObject* (*PyEval_GetBuiltins)();
    PyObject* (*PyImport_AddModule)(const char*);
    PyObject* (*PyModule_GetDict)(PyObject*);
    PyObject* (*PyDict_New)();
    int (*PyDict_SetItemString)(PyObject*, const char*, PyObject*);
    PyObject* (*PyUnicode_FromString)(const char*);
    void (*PyErr_Print)();
    void (*Py_DecRef)(PyObject*);
};

// Binds every entry point, or names the first one missing.
bool bind(const dynlib::Library& lib, Api& api, std::string& missing) {
    bool ok = true;
    auto get = [&](auto& fn, const char* name) {
        void* p = ok ? dynlib::symbol(lib, name) : nullptr;
        if (!p && ok) {
            ok = false;
            missing = name;
        }
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
#define ALLTALK_BIND(name) get(api.name, #name)
    ALLTALK_BIND(PyConfig_InitPythonConfig);
    ALLTALK_BIND(PyConfig_SetArgv);
    ALLTALK_BIND(Py_InitializeFromConfig);
    ALLTALK_BIND(PyConfig_Clear);
    ALLTALK_BIND(Py_RunMain);
    ALLTALK_BIND(Py_CompileString);
    ALLTALK_BIND(PyEval_EvalCode);
    ALLTALK_BIND(PyEval_GetBuiltins);
    ALLTALK_BIND(PyImport_AddModule);
    ALLTALK_BIND(PyModule_GetDict);
    ALLTALK_BIND(PyDict_New);
    ALLTALK_BIND(PyDict_SetItemString);
    ALLTALK_BIND(PyUnicode_FromString);
    ALLTALK_BIND(PyErr_Print);
    ALLTALK_BIND(Py_DecRef);
#undef ALLTALK_BIND
    return ok;
}

// The `alltalk_launch` module, as the POSIX plugin defines it with pybind11 (embed_main.cpp):
// __version__, plan() and _explain(). The values arrive as Python str objects made by the C API
// (never spliced into source text); "" becomes None.
constexpr const char* kModuleSource = R"PY(
def _make(items):
    def plan():
        """The resolved launch: root, env, env_kind, command, script, python, launcher, ..."""
        return {key: (value or None) for key, value in items.items()}
    return plan

plan = _make(_plan_items)
del _make, _plan_items

_explain_address = int(_explain_address)


def _explain(exception_type, message, traceback):
    """The launcher's explanation of a failure (used by the excepthook shim)."""
    if not _explain_address:
        return None
    import ctypes  # only after a failure: nothing is imported at start-up

    fn = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                          ctypes.c_char_p, ctypes.c_size_t)(_explain_address)
    out = ctypes.create_string_buffer(16384)
    enc = lambda s: s.encode("utf-8", "replace")  # noqa: E731
    n = fn(enc(exception_type), enc(message), enc(traceback), out, len(out))
    return out.value.decode("utf-8", "replace") if n else None
)PY";

void copy_error(char* out, std::size_t size, const std::string& text) {
    if (out && size) {
        std::snprintf(out, size, "%s", text.c_str());
    }
}

// Runs `code` with `globals`; false (the Python error printed) when it raised.
bool exec(const Api& py, const char* code, const std::string& filename, PyObject* globals) {
    PyObject* compiled = py.Py_CompileString(code, filename.c_str(), kPyFileInput);
    PyObject* result = compiled ? py.PyEval_EvalCode(compiled, globals, globals) : nullptr;
    if (compiled) {
        py.Py_DecRef(compiled);
    }
    if (!result) {
        return false;
    }
    py.Py_DecRef(result);
    return true;
}

// Sets d[key] = str(value) and drops the new reference.
bool set_str(const Api& py, PyObject* d, const char* key, const char* value) {
    PyObject* s = py.PyUnicode_FromString(value ? value : "");
    if (!s) {
        return false;
    }
    int rc = py.PyDict_SetItemString(d, key, s);
    py.Py_DecRef(s);
    return rc == 0;
}

bool make_module(const Api& py, const alltalk_embed_request& req) {
    PyObject* module = py.PyImport_AddModule("alltalk_launch");  // borrowed, in sys.modules
    PyObject* ns = module ? py.PyModule_GetDict(module) : nullptr;
    PyObject* items = ns ? py.PyDict_New() : nullptr;
    bool ok = items != nullptr;
    ok = ok && set_str(py, ns, "__doc__", "How this process was started by alltalk-launch.");
    ok = ok && set_str(py, ns, "__version__", req.launcher_version);
    for (int i = 0; ok && i < req.plan_size; ++i) {
        ok = set_str(py, items, req.plan_keys[i], req.plan_values[i]);
    }
    ok = ok && py.PyDict_SetItemString(ns, "_plan_items", items) == 0;
    // The launcher's explain callback (embed_abi.h), called through ctypes from _explain().
    ok = ok && set_str(py, ns, "_explain_address",
                       std::to_string(reinterpret_cast<std::uintptr_t>(req.explain)).c_str());
    if (items) {
        py.Py_DecRef(items);
    }
    return ok && exec(py, kModuleSource, "<alltalk_launch>", ns);
}

// Runs one embedded shim in a namespace of its own, as embed_main.cpp does. A failing shim is
// reported, not fatal: the app still starts, with the shim's traceback on stderr to report.
void run_shim(const Api& py, const shims::Source& shim) {
    const std::string filename = "<alltalk_launch:" + std::string(shim.name) + ">";
    const std::string code(shim.code);
    PyObject* globals = py.PyDict_New();
    bool ok = globals && set_str(py, globals, "__name__",
                                 ("alltalk_launch._" + std::string(shim.name)).c_str());
    ok = ok && py.PyDict_SetItemString(globals, "__builtins__", py.PyEval_GetBuiltins()) == 0;
    ok = ok && exec(py, code.c_str(), filename, globals);
    if (globals) {
        py.Py_DecRef(globals);
    }
    if (!ok) {
        std::fprintf(stderr,
                     "alltalk-launch: warning: the launcher shim %s failed; the app runs "
                     "without it. Please report this with the traceback below.\n",
                     filename.c_str());
        py.PyErr_Print();
    }
}

}  // namespace

int run(const dynlib::Library& libpython, const std::filesystem::path& /*launcher*/,
        const alltalk_embed_request& req, char* error, std::size_t error_size) {
    Api py{};
    std::string missing;
    if (!bind(libpython, py, missing)) {
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

    if (!make_module(py, req)) {
        py.PyErr_Print();
        copy_error(error, error_size, "could not create the alltalk_launch module");
        return -1;
    }
    for (const auto& shim : shims::all()) {
        run_shim(py, shim);
    }
    return py.Py_RunMain();
}

}  // namespace alltalk::embed
