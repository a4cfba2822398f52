#pragma once
// `alltalk-launch setup`'s effects: gathering its facts (the checkout, the base Python, the GPU
// probe, the free disk) and carrying a plan out, step by step, with each tool's output live.
//
// The env is marked unfinished (<env>/.alltalk-launch/setup-unfinished) before anything is made
// in it, and the mark is taken away only after every install step ended well, so that an
// interrupted setup (Ctrl+C, a killed process, a full disk) never leaves an env that looks
// complete: `server` and `finetune` refuse such an env (refuse_unfinished), and the next setup
// remakes it. The checks after the install (doctor --deep for server and finetune) then say
// whether it is ready; what they find is for `fix`, in an env that is complete as installed.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/environ.hpp"
#include "discover/python_env.hpp"
#include "setup/plan.hpp"

namespace alltalk::setup {

// <env>/.alltalk-launch/setup-unfinished.
std::filesystem::path unfinished_marker(const std::filesystem::path& env);

// For `server` / `finetune`: throws LaunchError(Stage::Setup) when an interrupted setup left the
// env. One failed stat otherwise.
void refuse_unfinished(const PythonEnv& env, std::string_view doing);

// What is at `env` now (an absent or empty folder, an unfinished setup's env, anything else).
EnvState env_state_of(const std::filesystem::path& env);

// Where --force moves an existing env: <env>.before-setup-<UTC time>.
std::string aside_path(const std::filesystem::path& env);

// The facts: `root` (the AllTalk folder), `env` (the target), `locks`, and this machine's (the
// base Python, the GPU probe unless --gpu says, the free disk). Throws LaunchError(Stage::Setup)
// for a checkout that setup refuses and for no base Python.
SetupFacts gather_setup_facts(const std::filesystem::path& root, const std::filesystem::path& env,
                              std::vector<const LockInfo*> locks, const SetupOptions& options,
                              const EnvMap& env_vars);

struct SetupOutcome {
    bool installed = false;                  // every install step ended well (the env is complete)
    bool ready = false;                      // and the checks found no error
    std::vector<std::string> failed_checks;  // "server", "finetune"
    double seconds = 0;
    std::vector<std::pair<std::string, double>> step_seconds;
};

// The commands ("server", "finetune") that the error findings of a doctor's --json concern
// (a finding without commands: every command checked), server first; empty where the text is
// not the doctor's JSON.
std::vector<std::string> commands_failed(std::string_view doctor_json);

// Carries `plan` out. `say` gets each progress line. Throws LaunchError(Stage::Setup) when a step
// cannot start or an install step fails (the env stays marked unfinished); a failed check is in
// the outcome instead.
SetupOutcome run_setup(const SetupFacts& facts, const SetupPlan& plan,
                       const std::function<void(const std::string&)>& say);

}  // namespace alltalk::setup
