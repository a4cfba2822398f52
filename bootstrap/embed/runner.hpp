#pragma once
// The one definition of how the launcher starts the env's interpreter and what runs inside it once
// it is initialised, for both platforms, compiled into alltalk-launch itself (start/embed_runner_*
// add only how argv is encoded): PyConfig made and used through its functions, the
// `alltalk_launch` module (python_shims/alltalk_launch_module.py) and the shims, in their order,
// each in a namespace of its own, then Py_RunMain.
//
// Why the few C API functions are bound at run time through a lookup (dlsym / GetProcAddress on
// the libpython the launcher loaded) rather than called through pybind11 or Python.h, as
// PyInstaller's bootloader does: the launcher links no libpython, and a binary compiled against
// one version's headers is tied to that version's struct layouts. The two dozen functions used
// here have had the same signatures since 3.8, PyConfig is only ever handled through its functions
// (as an opaque buffer larger than any version's struct), and what its fields would set is given
// as python's own options (`-s`, `-X faulthandler`), which CPython parses (parse_argv). So nothing
// here depends on a Python version's headers, the Windows exe needs none to build (Debian ships
// no Windows pyconfig.h or import library), and on Linux no per-version plugin is loaded at every
// start (it cost 0.05 ms: bench/startup.py).
#include <string>

#include "embed/embed_abi.h"

namespace alltalk::embed_runtime {

struct PyObject;  // opaque: only ever passed back to the API
using Py_ssize_t = long long;
static_assert(sizeof(Py_ssize_t) == sizeof(void*), "Py_ssize_t is pointer-sized");

struct Api {
    PyObject* (*Py_CompileString)(const char*, const char*, int);
    PyObject* (*PyEval_EvalCode)(PyObject*, PyObject*, PyObject*);
    PyObject* (*PyEval_GetBuiltins)();
    PyObject* (*PyImport_AddModule)(const char*);
    long (*PyImport_GetMagicNumber)();
    PyObject* (*PyMarshal_ReadObjectFromString)(const char*, Py_ssize_t);
    PyObject* (*PyModule_GetDict)(PyObject*);
    PyObject* (*PyDict_New)();
    int (*PyDict_SetItemString)(PyObject*, const char*, PyObject*);
    PyObject* (*PyUnicode_DecodeFSDefault)(const char*);
    PyObject* (*PyBytes_FromStringAndSize)(const char*, Py_ssize_t);
    void (*PyErr_Print)();
    void (*PyErr_Clear)();
    void (*Py_DecRef)(PyObject*);
    int (*Py_RunMain)();
};

// PyStatus, returned by value: the same layout from 3.8 to 3.13 (Include/cpython/initconfig.h).
struct PyStatus {
    int type;  // 0 ok, 1 error, 2 exit
    const char* func;
    const char* err_msg;
    int exitcode;
};

// What starts the interpreter. PyConfig is never looked into: it is initialised, given argv, used
// and cleared through these functions. How argv is given is the platform's (SetArgv below).
struct InitApi {
    void (*PyConfig_InitPythonConfig)(void*);
    PyStatus (*Py_InitializeFromConfig)(const void*);
    void (*PyConfig_Clear)(void*);
    void* set_argv;  // the platform's argv function, bound by the name bind_init() is given
};

// Finds one exported function of the env's Python library by name (nullptr when absent).
using Lookup = void* (*)(void* context, const char* name);

// Binds every entry point, or names the first one missing.
bool bind(Api& api, Lookup lookup, void* context, std::string& missing);
bool bind_init(InitApi& api, Lookup lookup, void* context, const char* set_argv_name,
               std::string& missing);

// The options that stand for the PyConfig fields a launch sets, given after argv[0]: no user site
// folder (isolation), and a native crash prints the Python stack.
inline constexpr const char* kLaunchOptions[] = {"-s", "-X", "faulthandler"};

// Gives `config` the interpreter's command line (PyConfig_SetBytesArgv on POSIX, PyConfig_SetArgv
// with wide strings on Windows).
using SetArgv = PyStatus (*)(void* context, void* config);

// Starts the interpreter (argv from `set_argv`), installs the module and the shims (install()),
// then runs __main__ exactly as `python` would (Py_RunMain: SystemExit, tracebacks,
// KeyboardInterrupt and the exit status are CPython's own). Returns the exit status, or -1 with a
// non-empty `error` when Python could not be started (a status can be negative too).
int start(const Api& api, const InitApi& init, SetArgv set_argv, void* argv_context,
          const alltalk_embed_request& req, std::string& error);

// After Py_InitializeFromConfig: makes `alltalk_launch` (__version__, plan(), _explain()) and runs
// the shims. A failing shim is reported on stderr, not fatal; false (with `error`) when the module
// itself could not be made.
bool install(const Api& api, const alltalk_embed_request& req, std::string& error);

}  // namespace alltalk::embed_runtime
