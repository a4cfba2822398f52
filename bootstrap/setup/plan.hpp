#pragma once
// `alltalk-launch setup`'s plan (pure): the facts gathered (the checkout, the base Python, the
// target env, the GPU probe, the locks, the free disk) in, the steps out, each a command line,
// or a LaunchError (Stage::Setup) that says why nothing will be made. Nothing is touched here;
// setup/run.hpp carries a plan out.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/platform.hpp"
#include "gpu/probe.hpp"
#include "setup/base_python.hpp"
#include "setup/checkout.hpp"
#include "setup/lock.hpp"
#include "setup/variant.hpp"

namespace alltalk::setup {

// What is at the target env's path before setup.
enum class EnvState {
    Absent,      // nothing, or an empty folder
    Unfinished,  // an env that an interrupted setup left (its marker says so): remade
    Exists,      // anything else: refused unless --force, which moves it aside
};

struct SetupOptions {
    std::optional<std::filesystem::path> python;  // --python
    GpuChoice gpu = GpuChoice::Auto;              // --gpu
    std::optional<std::string> profile;           // --profile ID: a shipped lock's id
    std::string installer = "pip";                // --installer pip|uv
    bool dry_run = false, yes = false, force = false, json = false;
};

struct SetupFacts {
    Checkout checkout;
    std::filesystem::path env;  // the target env folder (absolute)
    EnvState env_state = EnvState::Absent;
    std::string aside;  // with --force and an existing env: where it is moved to
    BasePython python;
    std::optional<GpuProbe> probe;
    std::string platform;                     // "linux_x86_64", "win_amd64"
    std::vector<const LockInfo*> locks;       // every lock at hand (shipped, or --lock's)
    std::optional<std::uint64_t> free_bytes;  // on the env's file system
    std::filesystem::path launcher;           // this launcher (for the checks)
    std::optional<std::string> uv;            // uv's path, for --installer uv
    Platform host = kHostPlatform;
    SetupOptions options;
};

struct SetupStep {
    std::string id;     // "venv", "install", "local", "check-server", "check-finetune"
    std::string title;  // "Make the venv"
    std::vector<std::string> argv;
};

struct SetupPlan {
    const LockInfo* lock = nullptr;
    std::string variant_reason;
    bool lock_matches =
        false;  // the checkout's requirements file is the one the lock was made from
    std::vector<std::string> notes;
    std::filesystem::path env, env_python, state_dir;
    std::filesystem::path lock_copy;     // <state>/setup/lock.txt (what the env was made from)
    std::filesystem::path check_json;    // <state>/setup/check.json (the check's doctor --json)
    std::filesystem::path requirements;  // <state>/setup/requirements.txt (resolve: pip's input)
    std::filesystem::path constraints;   // <state>/setup/constraints.txt (resolve)
    std::string lock_text;               // what is installed: the lock less what needs a compiler
    std::string requirements_text, constraints_text;
    std::uint64_t need_bytes = 0;  // disk the install needs (download + installed)
    std::vector<SetupStep> steps;
};

// The plan, or LaunchError(Stage::Setup) with the reason nothing is made: a checkout problem, an
// unknown --profile, no lock for this AllTalk and platform (or none that runs on its GPUs), an
// existing env without --force, too little disk, no uv for --installer uv.
SetupPlan make_setup_plan(const SetupFacts& f);

// The env's python inside `env` as a venv lays it out.
std::filesystem::path venv_python(const std::filesystem::path& env, Platform host);

// The `# lock` ids at hand, for messages.
std::string lock_ids(const std::vector<const LockInfo*>& locks);

// --dry-run's text and --json's "plan" object.
std::string describe_setup_plan(const SetupFacts& f, const SetupPlan& p);
std::string setup_plan_json(const SetupFacts& f, const SetupPlan& p);  // one JSON object

}  // namespace alltalk::setup
