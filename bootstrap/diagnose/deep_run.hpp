#pragma once
// `alltalk-launch doctor --deep`'s run (effects): the deep check of one command.
//
// The child is the launcher itself, started as that command's launch with the options that chose
// what this process checks (`launch_argv`: the launcher and its --root, --env, --config, --cudnn,
// --cpu, --no-gpu-check), the same working folder and environment, and the hidden
// --deep-probe DIR. It takes the launch's path through main.cpp: make_plan, the cuDNN links and
// the one re-exec for LD_LIBRARY_PATH, the GPU check, the `python` alias folder, the environment
// changes, the child plan for sys.executable, the embedded interpreter with every shim (torch
// allow-list, explanations); only the plan's argv is the probe's (plan/plan.hpp deep_probe_plan).
// So what the probe imports is imported exactly as `alltalk-launch server` (or finetune) would
// import it, which a plain `python -c` could not promise. The probe
// (python_shims/alltalk_launch_deep_probe.py, compiled in) is written to DIR, and it writes one
// JSON record per step to DIR/results.jsonl; this run watches that file: a step that runs past
// the limit has the child (and its process group) killed and is reported as timed out, one that
// ends the process as crashed, and the child is started again after it.
#include <string>
#include <vector>

#include "diagnose/deep.hpp"
#include "diagnose/doctor.hpp"

namespace alltalk {

// `gpus`: how many GPUs the launcher's facts show (0: no GPU check step); `timeout_s`: per step.
// `also`: further commands that launch alike, whose scripts' imports the same child runs.
DeepCheck run_deep_check(const std::vector<std::string>& launch_argv, Command command, int gpus,
                         double timeout_s, const std::vector<DeepAlso>& also = {});

// doctor --deep for one check (also `fix --deep`): its first command, launched as that command
// is, for an env that the launch can start; each failure explained as after a traceback. Sets
// f.deep; leaves facts whose launch cannot start as they are (the doctor's findings say why).
void add_deep_check(const std::vector<std::string>& launch_argv, double timeout_s, DoctorFacts& f);

}  // namespace alltalk
