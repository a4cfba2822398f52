// The embed plugin: starts the env's interpreter from a plan, installs the `alltalk_launch` module
// and the Python shims (embed/runner.cpp, shared with the Windows exe) and runs __main__ exactly
// as `python` would (Py_RunMain: SystemExit, tracebacks, KeyboardInterrupt and the exit status are
// CPython's own). Built per Python minor version against its headers, for the PyConfig fields it
// sets; linked against no libpython: its Python symbols bind to the library the launcher loaded.
#include <Python.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "embed/embed_abi.h"
#include "embed/runner.hpp"

namespace {

void copy_error(char* out, size_t size, const std::string& text) {
    if (out && size) {
        std::snprintf(out, size, "%s", text.c_str());
    }
}

// The env's libpython was loaded RTLD_GLOBAL before this plugin: its symbols are in the global
// scope.
void* lookup(void* /*context*/, const char* name) {
    return dlsym(RTLD_DEFAULT, name);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int alltalk_embed_run(
    const alltalk_embed_request* req, char* error, size_t error_size) {
    if (!req || req->abi_version != ALLTALK_EMBED_ABI_VERSION) {
        copy_error(error, error_size, "the embed plugin does not match this launcher (ABI)");
        return -1;
    }
    alltalk::embed_runtime::Api api{};
    std::string missing;
    if (!alltalk::embed_runtime::bind(api, lookup, nullptr, missing)) {
        copy_error(error, error_size, "the env's Python library does not export " + missing);
        return -1;
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

    std::string why;
    if (!alltalk::embed_runtime::install(api, *req, why)) {
        copy_error(error, error_size, why);
        return -1;
    }
    return api.Py_RunMain();
}
