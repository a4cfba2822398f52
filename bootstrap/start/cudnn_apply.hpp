#pragma once
// Applying the cuDNN choice to this process before the interpreter starts, one file per platform:
//   Linux: a private folder of links to the chosen cuDNN files (plan.cudnn_link_dir; the chosen
//   folders themselves if it cannot be made) leads LD_LIBRARY_PATH (plan.env_changes). The dynamic
//   loader reads that variable once, at process start, so the launcher re-executes itself once with
//   it set (guarded by kNativeReexecVar against loops). Every later load by plain name -- torch's
//   DT_NEEDED libcudnn.so.9, cuDNN's own dlopen of its sub-libraries, ctranslate2's
//   libcudnn_ops_infer.so.8, ctypes.CDLL("libcudnn_ops.so.9") -- then finds the chosen files, and
//   children inherit the variable.
//   Windows: AddDllDirectory for each chosen folder, and PATH (in plan.env_changes, inherited by
//   children). SetDefaultDllDirectories is never called: it would drop PATH from the search.
#include <functional>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace alltalk {

// Set for the one re-exec: the loop guard, and the decision (cudnn/codec.hpp) so that the
// re-executed launcher does not select again; with it, the GPU probe's report when the probe ran
// before the re-exec (so that it runs once per launch). Never passed on to the app.
inline constexpr const char* kNativeReexecVar = "ALLTALK_LAUNCH_NATIVE_REEXEC";
inline constexpr const char* kGpuReexecVar = "ALLTALK_LAUNCH_GPU_REEXEC";
// Set when the decision came from the cache with its inputs still to be checked (in the GPU
// probe's child; start/native_cache.hpp DeferredCheck): the cache entry, and LD_LIBRARY_PATH as
// the user had it ("+value", or "-" for unset), to start over with if an input changed.
inline constexpr const char* kNativeCheckVar = "ALLTALK_LAUNCH_NATIVE_CHECK";
inline constexpr const char* kLibraryPathBeforeVar = "ALLTALK_LAUNCH_LIBRARY_PATH_BEFORE";
// Set for a launch that starts over after such a change: it checks the cache synchronously.
inline constexpr const char* kFreshStartVar = "ALLTALK_LAUNCH_FRESH_START";
// Set for a launch that re-executed itself at its start with a remembered LD_LIBRARY_PATH
// (start/launch_hint.hpp): the variable as the user had it ("+value", or "-").
inline constexpr const char* kLaunchHintVar = "ALLTALK_LAUNCH_HINTED";

// Throws LaunchError(Stage::Cudnn) when a need has no candidate (or --cudnn names no cuDNN folder).
// Needs that only matter on the GPU (gpu_only) are a warning instead when `gpu_usable` is false
// (--cpu, no driver, no GPU): a CPU-only install that works today keeps working; said once per
// launch (`warned_before`: the launcher before its re-exec said it).
void require_native(const LaunchPlan& plan, bool gpu_usable, bool warned_before = false);

// The LD_LIBRARY_PATH that `changes` leave set (their last change of it, Linux), or nullptr when
// they set none or unset it.
const EnvChange* library_path_change(const std::vector<EnvChange>& changes);

// Linux: makes plan.cudnn_link_dir, one link per chosen file. False, with a warning, when it
// cannot be made: the chosen folders themselves then lead LD_LIBRARY_PATH. True when the plan has
// no link folder (Windows, nothing chosen).
bool make_cudnn_links(const LaunchPlan& plan);

// Makes the chosen folders effective for this process and its children. Linux: when this process
// did not start with `changes`' LD_LIBRARY_PATH, re-executes the launcher once with `args` (the
// arguments after the program name) and the variables `handover()` gives (asked only then), and
// does not return; `reexeced` says this process is that re-exec (the loop guard). Windows:
// AddDllDirectory for each folder.
using Handover = std::function<EnvMap()>;
void serve_native(const LaunchPlan& plan, const std::vector<EnvChange>& changes,
                  const std::vector<std::string>& args, const Handover& handover, bool reexeced);

// Loads each chosen main library by its full path and returns, per choice, what
// cudnnGetVersion() said (for --dry-run and -v). Only the chosen files are loaded; a failure is
// said in the text, not thrown.
std::vector<std::string> confirm_native(const NativeDecision& decision);

}  // namespace alltalk
