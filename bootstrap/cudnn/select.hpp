#pragma once
// The native-library decision of a launch: which cuDNN majors the env needs (and who needs them),
// every candidate folder with its version, the choice per major with the reason, and each need
// that nothing serves with the exact command that fixes it. Pure given its facts; analyze_native()
// gathers the facts from the file system (listings only) and is what the plan and the doctor use.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/environ.hpp"
#include "cudnn/candidates.hpp"
#include "cudnn/needs.hpp"
#include "discover/python_env.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk {

struct CudnnChoice {
    int major = 0;
    CudnnCandidate candidate;
    std::string why;
};

struct MissingCudnn {
    int major = 0;
    std::vector<CudnnNeed> needed_by;
    std::string fix;  // the command(s) that fix it in this env
};

// What `fix` is made of, from `needed_by`: the pip requirement that provides the cuDNN (the first
// need's that names one), else a conda command; and another requirement that removes the need
// (e.g. "ctranslate2>=4.5.0"), if any. Empty strings where there is none.
struct CudnnFixParts {
    std::string requirement;
    std::string conda;
    std::string alternative;
};
CudnnFixParts cudnn_fix_parts(const MissingCudnn& missing);

struct NativeDecision {
    std::vector<CudnnNeed> needs;
    std::vector<CudnnCandidate> candidates;
    std::vector<CudnnChoice> choices;
    std::vector<MissingCudnn> missing;
    std::string override_problem;  // --cudnn / [native] cudnn holds no cuDNN library
    double elapsed_ms = 0;         // time analyze_native() took (for -v and bench/native.py)

    // The chosen folders, the env's own first, without duplicates: what goes first on the
    // library search path (LD_LIBRARY_PATH / AddDllDirectory + PATH).
    std::vector<std::filesystem::path> library_dirs() const;
};

// Per needed major: the override if it serves that major, else the best complete candidate
// (lowest rank: the env's own first; then the version closest to a pin, then the newest).
// `python` is the env's python, for the fix commands.
NativeDecision choose_cudnn(std::vector<CudnnNeed> needs, std::vector<CudnnCandidate> candidates,
                            const std::filesystem::path& python, Platform platform);

struct NativeFacts {
    PythonEnv env;
    const SiteScan* scan = nullptr;  // scanned by the caller when it has one; else scanned here
    EnvMap env_vars;
    Platform platform = kHostPlatform;
    std::optional<std::filesystem::path> override_dir;  // --cudnn DIR, else [native] cudnn
    std::string override_source;
    // The command's overlay (current or stale): its distributions over the env's (`scan`, when
    // the caller gives it, is that view already), and its cuDNN wheel ahead of the env's.
    std::optional<std::filesystem::path> overlay_dir;
    std::vector<int> configured_majors;  // [native] cudnn_majors
    std::string configured_source;
    // Search candidates even when nothing needs cuDNN (the doctor); the launch skips the search.
    bool search_without_needs = false;
    // nullopt: system_cudnn_dirs(env_vars, platform).
    std::optional<std::vector<std::pair<std::filesystem::path, std::string>>> system_dirs;
};

NativeDecision analyze_native(const NativeFacts& facts);

// True when every missing need is one that matters only on the GPU (CudnnNeed::gpu_only).
bool missing_only_on_gpu(const NativeDecision& decision);

// The error paragraph for missing needs (empty when nothing is missing).
std::string missing_cudnn_message(const NativeDecision& decision, const PythonEnv& env);

// Text for --dry-run and -v: needs, candidates with versions, the choice and why.
// `confirmed`: per choice, what loading it said (start/cudnn_apply.hpp confirm_native); may be
// empty.
std::string describe_native(const NativeDecision& decision,
                            const std::vector<std::string>& confirmed = {});

}  // namespace alltalk
