#pragma once
// The base Python 3.11 that setup makes the env's venv from (effects: it runs each candidate to
// ask its version). --python, else the usual places of this platform: Windows, the py launcher's
// 3.11 (`py -3.11`) and the python.org installs in %LOCALAPPDATA%\Programs\Python; Linux,
// python3.11 on PATH, /usr/bin, /usr/local/bin, pyenv's versions and /opt. $ALLTALK_PYTHON_SEARCH
// (a PATH-like list of interpreters) replaces the usual places.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/environ.hpp"

namespace alltalk::setup {

struct BasePython {
    std::filesystem::path python;  // the interpreter (sys.executable)
    std::string version;           // "3.11.7"
    std::string source;            // "--python", "PATH", "pyenv", ...
    bool has_venv = false;         // venv and ensurepip import (Debian: python3.11-venv)
};

struct BasePythonSearch {
    std::optional<BasePython> found;
    std::vector<std::string> tried;  // "PATH: /usr/bin/python3.11 is Python 3.12.1", ...
};

// `wanted`: "3.11". A `--python` that is not the wanted version (or does not run) is not
// replaced by another: `found` stays empty and `tried` says why.
BasePythonSearch find_base_python(const std::optional<std::filesystem::path>& option,
                                  const std::string& wanted, const EnvMap& env_vars);

// The error paragraph for a search that found nothing.
std::string no_base_python_text(const BasePythonSearch& s, const std::string& wanted,
                                bool from_option);

}  // namespace alltalk::setup
