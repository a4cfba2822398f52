#pragma once
// Folders that may serve a cuDNN major, each versioned from its file names (libcudnn.so.9.1.0,
// cudnn64_9.dll, cudnn_ops_infer64_8.dll, ...), the installed wheel's metadata, or a
// cudnn_version.h beside it. Reads directory listings only; loads nothing.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/environ.hpp"
#include "cudnn/needs.hpp"
#include "discover/python_env.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk {

struct CudnnCandidate {
    std::filesystem::path dir;
    int major = 0;
    std::string version;         // "9.1.0.70", "9.19.0", or "9" when only the major is known
    std::string version_source;  // "nvidia-cudnn-cu12 metadata", "cudnn_version.h", "file names"
    std::string origin;    // "--cudnn", "env wheel nvidia/cudnn", "torch/lib", "CUDA_PATH", ...
    int rank = 0;          // lower is preferred: override, the env's own, then the system's
    bool env_own = false;  // inside the env
    std::vector<std::string> libraries;  // this major's cuDNN files in `dir`
    bool complete = false;               // the main library and the ops library are both there
    std::string main_library() const;    // libcudnn.so.9 / cudnn64_9.dll (empty if absent)
};

// The cuDNN libraries of one major that a folder's file names show (pure). `header` is the text
// of a cudnn_version.h found beside the folder, if any.
std::vector<CudnnCandidate> version_cudnn_dir(const std::filesystem::path& dir,
                                              const std::vector<std::string>& names,
                                              Platform platform,
                                              const std::optional<std::string>& header);

// CUDNN_MAJOR.CUDNN_MINOR.CUDNN_PATCHLEVEL of a cudnn_version.h text.
std::optional<std::string> version_from_header(const std::string& text);

struct CandidateFacts {
    PythonEnv env;
    const SiteScan* scan = nullptr;  // for the version of the env's nvidia-cudnn wheel
    EnvMap env_vars;                 // CUDA_PATH, CUDA_PATH_V*, LD_LIBRARY_PATH / PATH
    Platform platform = kHostPlatform;
    std::optional<std::filesystem::path> override_dir;  // --cudnn or [native] cudnn
    std::string override_source;
    std::optional<std::filesystem::path> overlay_dir;  // the command's overlay, ahead of the env
    // The system's folders after the env's: /usr/local/cuda*, the loader's folders. Filled by
    // system_cudnn_dirs() in the launcher, by hand in tests.
    std::vector<std::pair<std::filesystem::path, std::string>> system_dirs;
};

// The platform's system folders: /usr/local/cuda*/lib64|lib, /etc/ld.so.conf(.d) and the default
// library folders on Linux; PATH's folders on Windows (CUDA_PATH is handled from env_vars).
std::vector<std::pair<std::filesystem::path, std::string>> system_cudnn_dirs(const EnvMap& env_vars,
                                                                             Platform platform);

std::vector<CudnnCandidate> find_cudnn_candidates(const CandidateFacts& facts);

// The environment variables that find_cudnn_candidates() and system_cudnn_dirs() read, with
// their values: CUDA_PATH and CUDA_PATH_V*, and LD_LIBRARY_PATH (Linux) or PATH (Windows). Part of
// the key of the decision cache (cudnn/decision_cache.hpp): keep it in step with the readers.
EnvMap cudnn_env_inputs(const EnvMap& env_vars, Platform platform);

// The entry names of a folder (empty when it cannot be read).
std::vector<std::string> list_names(const std::filesystem::path& dir);

}  // namespace alltalk
