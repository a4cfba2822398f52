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
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace alltalk {

// Set for the one re-exec: the loop guard, and the decision (native_codec.hpp) so that the
// re-executed launcher does not select again. Never passed on to the app.
inline constexpr const char* kNativeReexecVar = "ALLTALK_LAUNCH_NATIVE_REEXEC";

// Throws LaunchError(Stage::Cudnn) when a need has no candidate (or --cudnn names no cuDNN folder).
// Needs that only matter on the GPU (gpu_only) are a warning instead when `gpu_usable` is false
// (--cpu, no driver, no GPU): a CPU-only install that works today keeps working.
void require_native(const LaunchPlan& plan, bool gpu_usable);

// Makes the chosen folders effective for this process and its children. On Linux this may
// re-execute the launcher with `args` (the arguments after the program name) and not return.
// A link folder that cannot be made is warned about and replaced by the chosen folders in
// plan.env_changes.
void apply_native(LaunchPlan& plan, const std::vector<std::string>& args);

// Loads each chosen main library by its full path and records cudnnGetVersion() in the choice
// (for --dry-run and -v). Only the chosen files are loaded; a failure is recorded, not thrown.
void confirm_native(NativeDecision& decision);

}  // namespace alltalk
