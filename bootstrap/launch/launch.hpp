#pragma once
// The process's roles other than the command line's subcommands (effects): the launch (discover
// -> plan -> prepare -> start the env's interpreter, one phase per step, its re-exec included),
// a child the app starts through sys.executable, the GPU probe's own process, and the crash
// explainer's. launcher/main.cpp decides the role (launch/roles.hpp) and parses the options.
#include <filesystem>
#include <functional>
#include <optional>

#include "discover/root.hpp"
#include "launch/roles.hpp"
#include "plan/plan.hpp"

namespace alltalk {

// What the command line chose for a launch.
struct LaunchOptions {
    LaunchRequest request;  // server, finetune, run, python; --cudnn, --cpu, --no-gpu-check
    bool verbose = false;   // -v
    bool dry_run = false;   // --dry-run: the plan printed, nothing started
    std::optional<std::filesystem::path> deep_probe;  // doctor --deep's child (hidden option)
    // What discovery looks at, read once the re-exec's handover is dropped from the environment.
    std::function<DiscoveryInputs()> discovery;
};

// Role::Launch and Role::Reexec; the exit status of the app (or of the launch that failed).
int run_launch(const Invocation& inv, const LaunchOptions& options);

// Role::Child: behave exactly like the env's python, with the parent's plan and environment.
int run_child(const Invocation& inv);

// Role::GpuProbe: only the probe, its report on stdout.
int run_gpu_probe(const Invocation& inv);

// Role::ExplainSignal: inv.args[1] is the signal number or the Windows exception code.
int run_explain_signal(const Invocation& inv);

// The handover of the one re-exec is read once and never passed on to the app.
void drop_handover();

}  // namespace alltalk
