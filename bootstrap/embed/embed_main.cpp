// The embed plugin: starts the env's interpreter from a plan, installs the Python shims and runs
// __main__ exactly as `python` would (Py_RunMain: SystemExit, tracebacks, KeyboardInterrupt and
// the exit status are CPython's own). Built per Python minor version; linked against no libpython.
#include <pybind11/embed.h>
// After Python.h (included by pybind11), which it needs.
#include <marshal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "embed/embed_abi.h"
#include "python_shims.hpp"
#include "python_shims_bytecode.hpp"

namespace py = pybind11;

namespace {

std::string g_version;
alltalk_explain_fn g_explain = nullptr;
std::vector<std::pair<std::string, std::string>> g_plan;

py::object fs_string(const std::string& s) {
    if (s.empty()) {
        return py::none();
    }
    // Paths are bytes on POSIX: decode them as Python decodes file names.
    return py::reinterpret_steal<py::object>(PyUnicode_DecodeFSDefault(s.c_str()));
}

void copy_error(char* out, size_t size, const std::string& text) {
    if (out && size) {
        std::snprintf(out, size, "%s", text.c_str());
    }
}

// Runs one embedded shim in a namespace of its own. A failing shim is reported, not fatal: the
// app still starts, with the shim's traceback on stderr to report.
// The shim's code object: the build's precompiled one when this interpreter reads the same
// bytecode (magic number), else compiled from the source now (about 1.7 ms for all shims).
PyObject* shim_code(const alltalk::shims::Source& shim, const std::string& filename) {
    if (static_cast<unsigned long>(PyImport_GetMagicNumber()) == alltalk::shims::bytecode_magic()) {
        for (const auto& b : alltalk::shims::bytecode()) {
            if (b.name == shim.name) {
                PyObject* code = PyMarshal_ReadObjectFromString(
                    b.data.data(), static_cast<Py_ssize_t>(b.data.size()));
                if (code && PyCode_Check(code)) {
                    return code;
                }
                Py_XDECREF(code);
                PyErr_Clear();
                break;
            }
        }
    }
    return Py_CompileString(std::string(shim.code).c_str(), filename.c_str(), Py_file_input);
}

void run_shim(const alltalk::shims::Source& shim) {
    std::string filename = "<alltalk_launch:" + std::string(shim.name) + ">";
    PyObject* code = shim_code(shim, filename);
    PyObject* result = nullptr;
    if (code) {
        PyObject* globals = PyDict_New();
        std::string modname = "alltalk_launch._" + std::string(shim.name);
        PyObject* name = PyUnicode_FromString(modname.c_str());
        PyDict_SetItemString(globals, "__name__", name);
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
        result = PyEval_EvalCode(code, globals, globals);
        Py_XDECREF(name);
        Py_DECREF(globals);
        Py_DECREF(code);
    }
    if (!result) {
        std::fprintf(stderr,
                     "alltalk-launch: warning: the launcher shim %s failed; the app runs "
                     "without it. Please report this with the traceback below.\n",
                     filename.c_str());
        PyErr_Print();
    }
    Py_XDECREF(result);
}

}  // namespace

PYBIND11_EMBEDDED_MODULE(alltalk_launch, m) {
    m.doc() = "How this process was started by alltalk-launch.";
    m.attr("__version__") = g_version;
    m.def(
        "plan",
        [] {
            py::dict d;
            for (const auto& [key, value] : g_plan) {
                d[py::str(key)] = fs_string(value);
            }
            return d;
        },
        "The resolved launch: root, env, env_kind, command, script, python, launcher, ...");
    m.def(
        "_explain",
        [](const std::string& type, const std::string& message,
           const std::string& traceback) -> py::object {
            if (!g_explain) {
                return py::none();
            }
            std::string out(16384, '\0');
            size_t n =
                g_explain(type.c_str(), message.c_str(), traceback.c_str(), out.data(), out.size());
            if (n == 0) {
                return py::none();
            }
            out.resize(n < out.size() ? n : out.size() - 1);
            return py::str(out);
        },
        "The launcher's explanation of a failure (used by the excepthook shim).");
}

extern "C" __attribute__((visibility("default"))) int alltalk_embed_run(
    const alltalk_embed_request* req, char* error, size_t error_size) {
    if (!req || req->abi_version != ALLTALK_EMBED_ABI_VERSION) {
        copy_error(error, error_size, "the embed plugin does not match this launcher (ABI)");
        return -1;
    }
    g_version = req->launcher_version ? req->launcher_version : "";
    g_explain = req->explain;
    g_plan.clear();
    for (int i = 0; i < req->plan_size; ++i) {
        g_plan.emplace_back(req->plan_keys[i], req->plan_values[i]);
    }

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 1;
    config.faulthandler = 1;         // a native crash prints the Python stack
    config.user_site_directory = 0;  // isolation from the user's site folder
    config.install_signal_handlers = 1;

    PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, req->program_name);
    if (!PyStatus_Exception(status) && req->home && *req->home) {
        status = PyConfig_SetBytesString(&config, &config.home, req->home);
    }
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetBytesArgv(&config, req->argc, const_cast<char* const*>(req->argv));
    }
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        if (PyStatus_IsExit(status)) {
            return status.exitcode;  // e.g. `--version` or `-h`, already printed by CPython
        }
        std::string msg = status.err_msg ? status.err_msg : "unknown error";
        if (status.func) {
            msg = std::string(status.func) + ": " + msg;
        }
        copy_error(error, error_size, msg);
        return -1;
    }

    for (const auto& shim : alltalk::shims::all()) {
        run_shim(shim);
    }
    return Py_RunMain();
}
