#pragma once
// Choosing the Python environment and reading its layout from the file system, without running
// it: a conda prefix (alltalk_environment/env), a plain Python prefix, or a venv.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/platform.hpp"
#include "discover/root.hpp"

namespace alltalk {

enum class EnvKind { Conda, Prefix, Venv };
const char* to_string(EnvKind kind);

struct PythonVersion {
    int major = 0;
    int minor = 0;
    std::string text;  // "3.11" or, where the layout tells, "3.11.7"
    std::string short_text() const { return std::to_string(major) + "." + std::to_string(minor); }
};

struct PythonEnv {
    std::filesystem::path dir;
    EnvKind kind = EnvKind::Prefix;
    PythonVersion version;
    std::filesystem::path python;         // the env's own python executable (program name)
    std::filesystem::path home;           // a prefix's own folder (--dry-run); empty for a venv
                                          // (the interpreter finds it from argv[0] itself)
    std::filesystem::path base_prefix;    // a venv's base installation; the env itself otherwise
    std::filesystem::path libpython;      // the shared library that is loaded at run time
    std::filesystem::path site_packages;  // purelib of the env
    std::filesystem::path bin_dir;        // where its scripts live (bin, or Scripts on Windows)
    Platform platform = Platform::Posix;  // whose layout it has (python.exe: Windows)
};

struct EnvChoice {
    std::filesystem::path dir;
    std::string source;
    std::vector<std::string> tried;
};

// --env > configured > <root>/alltalk_environment/env > <root>/.venv, <root>/venv >
// CONDA_PREFIX / VIRTUAL_ENV. `configured` is already absolute. Throws LaunchError(Stage::Env) with
// every place tried when nothing is found.
EnvChoice choose_env(const DiscoveryInputs& in, const RootChoice& root,
                     const std::optional<std::filesystem::path>& configured,
                     const std::string& configured_source);

// Reads the env at `dir`. `want` is the Python the launcher was built for: another version, no
// Python at all, or a Python without a shared library is a LaunchError(Stage::Python) that says so.
// A `want` of {0, 0} accepts any version (the doctor reports a mismatch instead of failing).
PythonEnv inspect_env(const std::filesystem::path& dir, const PythonVersion& want);

// Whose layout a folder that may not be a readable env has: Windows when python.exe is there.
Platform layout_platform(const std::filesystem::path& dir);

// The Python version the launcher was built for (from CMake's ALLTALK_PYTHON_VERSION).
PythonVersion built_python_version();

}  // namespace alltalk
