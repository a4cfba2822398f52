#pragma once
// What this process is, decided once from its arguments and environment (role_of), and the one
// thing a launch may do before it is even that: re-execute at once with a remembered
// LD_LIBRARY_PATH (reexec_from_hint).
#include <optional>
#include <string>
#include <vector>

#include "base/environ.hpp"

namespace alltalk {

// Each role has one entry in main.cpp.
enum class Role {
    Launch,         // started by the user (or a shortcut): discover, plan, prepare, run
    Reexec,         // the launch's one re-exec for LD_LIBRARY_PATH (cudnn_apply.hpp)
    Child,          // started by the app through sys.executable or a bare `python`
    GpuProbe,       // Windows: the GPU probe's own process (gpu/probe_win32.cpp)
    ExplainSignal,  // run by the crash reporter of an app that died by a signal
};

struct Invocation {
    Role role = Role::Launch;
    std::vector<std::string> args;  // after the program name, UTF-8
    // This process's environment as it started, for the roles that read it as a whole (a child,
    // the GPU probe, --explain-signal); a launch reads its few variables one by one, and its
    // discovery takes the snapshot once (cli::discovery_inputs).
    EnvMap env;
    bool reexeced = false;  // kNativeReexecVar was set (the re-exec guard)
    // A launch that re-executed itself at its start with a remembered LD_LIBRARY_PATH
    // (reexec_from_hint): the value its loader started with, and the variable as the user had it
    // ("+value" or "-"), which is the process's again.
    std::optional<std::string> hinted_library_path;
    std::string hinted_before;
};

// The role alone, from the arguments and the environment; changes nothing.
Role role_for(const std::vector<std::string>& args);

// The role and what it needs; a launch re-executed from a hint gets LD_LIBRARY_PATH back as the
// user had it (and the hand-over variable dropped) here, before anything reads it.
Invocation role_of(std::vector<std::string> args);

// LD_LIBRARY_PATH now: "+value", or "-" for unset; and setting it back to such a value.
std::string library_path_now();
void restore_library_path(const std::string& before);

// A launch started exactly as an earlier one that re-executed itself for LD_LIBRARY_PATH (same
// launcher, arguments, folder and environment: start/launch_hint.hpp) re-executes
// itself at once with that value, before it plans anything: the re-executed launch plans, checks
// the guess (main.cpp run_launch) and starts over when it was wrong. Returns when it does not
// re-execute: another role, no hint, a launch that is starting over or was re-executed already.
void reexec_from_hint(const std::vector<std::string>& args);

}  // namespace alltalk
