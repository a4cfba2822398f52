#pragma once
// `alltalk-launch doctor --deep`: runs the deep check of one command.
//
// The child is the launcher itself, started as that command's launch with the same options that
// this doctor got (--root, --env, --config, --cudnn, --cpu, --no-gpu-check), the same working
// folder and environment, and the hidden --deep-probe DIR. It takes the launch's path through
// main.cpp: make_plan, the cuDNN links and the one re-exec for LD_LIBRARY_PATH, the GPU check,
// the `python` alias folder, the environment changes, the child plan for sys.executable, the
// embedded interpreter with every shim (torch allow-list, explanations); only the plan's argv is
// the probe's (plan/plan.hpp deep_probe_plan). So what the probe imports is imported exactly as
// `alltalk-launch server` (or finetune) would import it, which a plain `python -c` could not
// promise. The probe (python_shims/alltalk_launch_deep_probe.py, compiled in) is written to DIR,
// and it writes one JSON record per step to DIR/results.jsonl; the doctor watches that file: a
// step that runs past the limit has the child (and its process group) killed and is reported as
// timed out, one that ends the process as crashed, and the child is started again after it.
#include "cli.hpp"
#include "diagnose/deep.hpp"

namespace alltalk {

// The launcher itself with the options this process got that choose what a launch runs (--root,
// --env, --config, --cudnn, --cpu, --no-gpu-check), paths made absolute from `cwd`.
std::vector<std::string> launch_options_argv(const cli::Options& opts,
                                             const std::filesystem::path& cwd);

// `gpus`: how many GPUs the launcher's facts show (0: no GPU check step).
DeepCheck run_deep_check(const cli::Options& opts, Command command, int gpus);

}  // namespace alltalk
