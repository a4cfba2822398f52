// alltalk-launch: the process's role, then the command's options in and its output out; the
// launch itself is bootstrap/launch (discover -> plan -> prepare -> start the env's interpreter).
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/build_info.hpp"
#include "base/error.hpp"
#include "base/logging.hpp"
#include "cli.hpp"
#include "console.hpp"
#include "doctor_cmd.hpp"
#include "explain_cmd.hpp"
#include "fix_cmd.hpp"
#include "launch/launch.hpp"
#include "launch/roles.hpp"
#include "os/process.hpp"
#include "overlay_cmd.hpp"
#include "setup_cmd.hpp"

namespace fs = std::filesystem;
using namespace alltalk;

namespace {

constexpr int kInternalErrorStatus = 70;  // EX_SOFTWARE

// The commands that are not a launch (doctor, fix, overlay, explain, setup); nullopt: a launch.
// Each one's report is the point of a window made for it (a shortcut, a double-click), so that
// window waits for Enter at the end whatever the status (console::finish).
std::optional<int> run_subcommand(const cli::Options& opts) {
    if (!opts.doctor && !opts.fix && !opts.overlay && !opts.explain && !opts.setup) {
        return std::nullopt;
    }
    drop_handover();
    console::keep_window_open();
    if (opts.doctor) {
        return run_doctor(opts);
    }
    if (opts.fix) {
        return run_fix(opts);
    }
    if (opts.overlay) {
        return run_overlay(opts);
    }
    if (opts.explain) {
        return run_explain_command(opts);
    }
    logging::init_console(false);
    return run_setup_command(opts);
}

// Role::Launch and Role::Reexec: the command line, then a subcommand or the launch.
int run_launch(const Invocation& inv) {
    cli::Parsed parsed = cli::parse(inv.args);
    if (!parsed.options) {
        return parsed.exit_status;
    }
    const cli::Options& opts = *parsed.options;
    if (auto status = run_subcommand(opts)) {
        return *status;
    }
    // `alltalk-launch python` is exactly the env's python (a tool may read its stderr): its
    // console says only warnings and errors, or every decision with -v.
    logging::init_console(opts.verbose, opts.request.command == Command::Python);
    LaunchOptions lo;
    lo.request = opts.request;
    lo.verbose = opts.verbose;
    lo.dry_run = opts.dry_run;
    lo.deep_probe = opts.deep_probe;
    lo.discovery = [&opts] { return cli::discovery_inputs(opts); };
    return alltalk::run_launch(inv, lo);
}

// `args` are the arguments after the program name, in UTF-8.
int launcher_main(std::vector<std::string> args) {
    try {
        reexec_from_hint(args);  // a launch made before: at once, with what it needed
        const Invocation inv = role_of(std::move(args));
        switch (inv.role) {
            case Role::ExplainSignal:
                return run_explain_signal(inv);
            case Role::GpuProbe:
                return run_gpu_probe(inv);
            case Role::Child:
                return run_child(inv);
            case Role::Launch:
            case Role::Reexec:
                return run_launch(inv);
        }
        return kInternalErrorStatus;
    } catch (const LaunchError& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "alltalk-launch: error: %s\n", e.what());
        return e.exit_status();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "alltalk-launch: internal error: %s. This is a bug in alltalk-launch %s: "
                     "please report it with the command you ran and the output of -v.\n",
                     e.what(), build::kVersion);
        return kInternalErrorStatus;
    }
}

}  // namespace

#ifdef _WIN32
// Wide argv: arguments (paths, user names) with any Unicode characters arrive intact and are
// converted to UTF-8 once, here.
int wmain(int argc, wchar_t** argv) {
    console::init();
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        args.push_back(process::to_utf8(fs::path(argv[i])));
    }
    return console::finish(launcher_main(args));
}
#else
int main(int argc, char** argv) {
    console::init();
    return console::finish(launcher_main(std::vector<std::string>(argv + 1, argv + argc)));
}
#endif
