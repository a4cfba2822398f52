#pragma once
// The one definition of what runs inside the env's interpreter once it is initialised, for both
// platforms: the `alltalk_launch` module (python_shims/alltalk_launch_module.py) and the shims,
// in their order, each in a namespace of its own. Compiled into the POSIX embed plugin
// (embed_main.cpp) and into alltalk-launch.exe (start/embed_runner_win32.cpp).
//
// Why the few C API functions are bound at run time through a lookup (dlsym / GetProcAddress)
// rather than called through pybind11 or Python.h: the Windows exe has no Python headers or
// import library to compile against (Debian ships neither) and must serve several Python minor
// versions from one binary, as PyInstaller's bootloader does; writing the module in Python and
// calling it through a dozen functions whose signatures have not changed since 3.8 lets the POSIX
// plugin use the very same code instead of a second definition in pybind11 (it also loads faster:
// no pybind11 module object and its type registrations at every start). The plugin keeps
// Python.h for what is per version by nature: the PyConfig fields it sets before start.
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

// Finds one exported function of the env's Python library by name (nullptr when absent).
using Lookup = void* (*)(void* context, const char* name);

// Binds every entry point, or names the first one missing.
bool bind(Api& api, Lookup lookup, void* context, std::string& missing);

// After Py_InitializeFromConfig: makes `alltalk_launch` (__version__, plan(), _explain()) and runs
// the shims. A failing shim is reported on stderr, not fatal; false (with `error`) when the module
// itself could not be made.
bool install(const Api& api, const alltalk_embed_request& req, std::string& error);

}  // namespace alltalk::embed_runtime
