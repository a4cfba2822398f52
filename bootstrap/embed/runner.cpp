#include "embed/runner.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "python_shims.hpp"
#ifdef ALLTALK_SHIM_BYTECODE
#include "python_shims_bytecode.hpp"
#endif

namespace alltalk::embed_runtime {

namespace {

constexpr int kPyFileInput = 257;  // Py_file_input
// The shim that is the module itself, run in the module's namespace rather than one of its own.
constexpr std::string_view kModuleShim = "alltalk_launch_module";

// A shim named *_lazy is not run at start: its precompiled code is kept as marshal data in
// alltalk_launch._lazy_code (or, where this interpreter reads other bytecode, its source in
// _lazy_sources) and run when a shim asks for it (alltalk_launch._exec_lazy), as the allow-list's
// torch part is when torch.serialization loads and the failure explanations' working part when an
// exception or logging first needs it. A process that never needs one pays a bytes copy.
bool is_lazy(std::string_view name) {
    constexpr std::string_view suffix = "_lazy";
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

// Sets d[key] = str(value) (decoded as Python decodes file names) and drops the new reference.
bool set_str(const Api& py, PyObject* d, const char* key, const char* value) {
    PyObject* s = py.PyUnicode_DecodeFSDefault(value ? value : "");
    if (!s) {
        return false;
    }
    const int rc = py.PyDict_SetItemString(d, key, s);
    py.Py_DecRef(s);
    return rc == 0;
}

// The build's precompiled code of `shim` (marshal data) when this interpreter reads the same
// bytecode (magic number); nothing otherwise.
std::optional<std::string_view> shim_bytecode(const Api& py, const shims::Source& shim) {
#ifdef ALLTALK_SHIM_BYTECODE
    if (static_cast<unsigned long>(py.PyImport_GetMagicNumber()) == shims::bytecode_magic()) {
        for (const auto& b : shims::bytecode()) {
            if (b.name == shim.name) {
                return b.data;
            }
        }
    }
#else
    (void)py;
    (void)shim;
#endif
    return std::nullopt;
}

// The shim's code object: the build's precompiled one where it can be read, else compiled from
// the source now (about 1.7 ms for all shims).
PyObject* shim_code(const Api& py, const shims::Source& shim, const std::string& filename) {
    if (const auto data = shim_bytecode(py, shim)) {
        if (PyObject* code = py.PyMarshal_ReadObjectFromString(
                data->data(), static_cast<Py_ssize_t>(data->size()))) {
            return code;
        }
        py.PyErr_Clear();
    }
    return py.Py_CompileString(std::string(shim.code).c_str(), filename.c_str(), kPyFileInput);
}

// d[key] = bytes(value) and drops the new reference.
bool set_bytes(const Api& py, PyObject* d, const char* key, std::string_view value) {
    PyObject* b = py.PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
    if (!b) {
        return false;
    }
    const int rc = py.PyDict_SetItemString(d, key, b);
    py.Py_DecRef(b);
    return rc == 0;
}

// Runs one shim in `globals` (a namespace of its own, or the module's); false when it raised.
bool run_in(const Api& py, const shims::Source& shim, PyObject* globals) {
    const std::string filename = "<alltalk_launch:" + std::string(shim.name) + ">";
    PyObject* code = shim_code(py, shim, filename);
    PyObject* result = code ? py.PyEval_EvalCode(code, globals, globals) : nullptr;
    if (code) {
        py.Py_DecRef(code);
    }
    if (!result) {
        return false;
    }
    py.Py_DecRef(result);
    return true;
}

bool make_module(const Api& py, const alltalk_embed_request& req) {
    const shims::Source* source = nullptr;
    for (const auto& s : shims::all()) {
        source = s.name == kModuleShim ? &s : source;
    }
    PyObject* module = py.PyImport_AddModule("alltalk_launch");  // borrowed, in sys.modules
    PyObject* ns = module ? py.PyModule_GetDict(module) : nullptr;
    PyObject* items = ns ? py.PyDict_New() : nullptr;
    bool ok = items != nullptr && source != nullptr;
    ok = ok && set_str(py, ns, "__version__", req.launcher_version);
    for (int i = 0; ok && i < req.plan_size; ++i) {
        ok = set_str(py, items, req.plan_keys[i], req.plan_values[i]);
    }
    ok = ok && py.PyDict_SetItemString(ns, "_plan_items", items) == 0;
    PyObject* lazy_code = ok ? py.PyDict_New() : nullptr;
    PyObject* lazy_sources = lazy_code ? py.PyDict_New() : nullptr;
    ok = lazy_sources != nullptr;
    for (const auto& s : shims::all()) {
        if (!ok || !is_lazy(s.name)) {
            continue;
        }
        const std::string name(s.name);
        const auto data = shim_bytecode(py, s);
        ok = data ? set_bytes(py, lazy_code, name.c_str(), *data)
                  : set_str(py, lazy_sources, name.c_str(), std::string(s.code).c_str());
    }
    ok = ok && py.PyDict_SetItemString(ns, "_lazy_code", lazy_code) == 0;
    ok = ok && py.PyDict_SetItemString(ns, "_lazy_sources", lazy_sources) == 0;
    for (PyObject* d : {lazy_code, lazy_sources}) {
        if (d) {
            py.Py_DecRef(d);
        }
    }
    // The launcher's explain callback (embed_abi.h), called through ctypes from _explain().
    ok = ok && set_str(py, ns, "_explain_address",
                       std::to_string(reinterpret_cast<std::uintptr_t>(req.explain)).c_str());
    if (items) {
        py.Py_DecRef(items);
    }
    return ok && run_in(py, *source, ns);
}

// Binds each named entry point through `lookup`, stopping at the first one missing.
class Binder {
  public:
    Binder(Lookup lookup, void* context, std::string& missing)
        : lookup_(lookup), context_(context), missing_(missing) {}
    template <typename Fn>
    void operator()(Fn& fn, const char* name) {
        void* p = ok_ ? lookup_(context_, name) : nullptr;
        if (!p && ok_) {
            ok_ = false;
            missing_ = name;
        }
        fn = reinterpret_cast<Fn>(p);
    }
    bool ok() const { return ok_; }

  private:
    Lookup lookup_;
    void* context_;
    std::string& missing_;
    bool ok_ = true;
};

// PyConfig, as an opaque buffer: 3.13's struct is under 600 bytes on 64-bit platforms; this leaves
// room for later versions. Static: large, and used once per process.
struct alignas(16) ConfigBuffer {
    unsigned char bytes[16384];
};
ConfigBuffer config_buffer;

}  // namespace

bool bind(Api& api, Lookup lookup, void* context, std::string& missing) {
    Binder get(lookup, context, missing);
#define ALLTALK_BIND(name) get(api.name, #name)
    ALLTALK_BIND(Py_CompileString);
    ALLTALK_BIND(PyEval_EvalCode);
    ALLTALK_BIND(PyEval_GetBuiltins);
    ALLTALK_BIND(PyImport_AddModule);
    ALLTALK_BIND(PyImport_GetMagicNumber);
    ALLTALK_BIND(PyMarshal_ReadObjectFromString);
    ALLTALK_BIND(PyModule_GetDict);
    ALLTALK_BIND(PyDict_New);
    ALLTALK_BIND(PyDict_SetItemString);
    ALLTALK_BIND(PyUnicode_DecodeFSDefault);
    ALLTALK_BIND(PyBytes_FromStringAndSize);
    ALLTALK_BIND(PyErr_Print);
    ALLTALK_BIND(PyErr_Clear);
    ALLTALK_BIND(Py_DecRef);
    ALLTALK_BIND(Py_RunMain);
#undef ALLTALK_BIND
    return get.ok();
}

bool bind_init(InitApi& api, Lookup lookup, void* context, const char* set_argv_name,
               std::string& missing) {
    Binder get(lookup, context, missing);
    get(api.PyConfig_InitPythonConfig, "PyConfig_InitPythonConfig");
    get(api.Py_InitializeFromConfig, "Py_InitializeFromConfig");
    get(api.PyConfig_Clear, "PyConfig_Clear");
    get(api.set_argv, set_argv_name);
    return get.ok();
}

int start(const Api& api, const InitApi& init, SetArgv set_argv, void* argv_context,
          const alltalk_embed_request& req, std::string& error) {
    void* config = config_buffer.bytes;
    init.PyConfig_InitPythonConfig(config);
    PyStatus status = set_argv(argv_context, config);
    if (status.type == 0) {
        status = init.Py_InitializeFromConfig(config);
    }
    init.PyConfig_Clear(config);
    if (status.type == 2) {
        return status.exitcode;  // e.g. `--version` or `-h`, already printed by CPython
    }
    if (status.type != 0) {
        error = status.err_msg ? status.err_msg : "unknown error";
        if (status.func) {
            error = std::string(status.func) + ": " + error;
        }
        return -1;
    }
    if (!install(api, req, error)) {
        return -1;
    }
    return api.Py_RunMain();
}

bool install(const Api& py, const alltalk_embed_request& req, std::string& error) {
    if (!make_module(py, req)) {
        py.PyErr_Print();
        error = "could not create the alltalk_launch module";
        return false;
    }
    for (const auto& shim : shims::all()) {
        if (shim.name == kModuleShim || is_lazy(shim.name)) {
            continue;
        }
        PyObject* globals = py.PyDict_New();
        bool ok = globals && set_str(py, globals, "__name__",
                                     ("alltalk_launch._" + std::string(shim.name)).c_str());
        ok = ok && py.PyDict_SetItemString(globals, "__builtins__", py.PyEval_GetBuiltins()) == 0;
        ok = ok && run_in(py, shim, globals);
        if (globals) {
            py.Py_DecRef(globals);
        }
        if (!ok) {
            std::fprintf(stderr,
                         "alltalk-launch: warning: the launcher shim <alltalk_launch:%s> failed; "
                         "the app runs without it. Please report this with the traceback below.\n",
                         std::string(shim.name).c_str());
            py.PyErr_Print();
        }
    }
    return true;
}

}  // namespace alltalk::embed_runtime
