#pragma once
// The launcher's side of failure explanations: the callback the explain shim calls (through
// ctypes, embed/embed_abi.h), and the handler that names a fatal signal. Both read the env
// (site-packages, rules) only when something has failed.
#include <cstddef>

#include "diagnose/explain.hpp"
#include "plan/plan.hpp"

namespace alltalk {

// The plan the explanations refer to (the env, its python); set before the interpreter starts.
void set_explain_plan(const LaunchPlan& plan);

// alltalk_explain_fn (embed_abi.h).
std::size_t explain_exception_callback(const char* exception_type, const char* message,
                                       const char* traceback, int flags, char* out,
                                       std::size_t out_size);

// The explanation of a fatal signal or Windows exception (FailureInfo::signal or exception_code),
// for `alltalk-launch --explain-signal N` (run by the crash handler in a fresh process, since
// nothing but write() is safe inside a signal handler).
std::string explain_crash(const LaunchPlan& plan, const FailureInfo& crash);

// Installs a handler for fatal signals before the interpreter starts. faulthandler, enabled
// during start-up, saves it as the previous handler and calls it after printing the Python
// stack; it then prints the signal and the fix, and lets the process die by the same signal so
// the exit status stays the one a plain python would have. On Windows also an unhandled-
// exception filter, run after faulthandler's vectored handler (crash_report_win32.cpp).
void install_crash_reporter(const LaunchPlan& plan);

}  // namespace alltalk
