// alltalk-launch: discover -> plan -> prepare -> start the env's interpreter -> exit status.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "base/build_info.hpp"
#include "cli.hpp"
#include "console.hpp"
#include "doctor_cmd.hpp"
#include "base/error.hpp"
#include "start/explain_hook.hpp"
#include "gpu/check.hpp"
#include "start/interpreter.hpp"
#include "base/logging.hpp"
#include "start/cudnn_apply.hpp"
#include "cudnn/codec.hpp"
#include "plan/plan.hpp"
#include "plan/child_codec.hpp"
#include "start/native_cache.hpp"
#include "start/prepare.hpp"
#include "os/process.hpp"
#include "gpu/torch_arch.hpp"

namespace fs = std::filesystem;
using namespace alltalk;

namespace {

constexpr int kInternalErrorStatus = 70;  // EX_SOFTWARE

// A process started by the app through sys.executable (or a bare `python`): behave exactly like the
// env's python, with the parent's plan and environment.
int run_child(const char* encoded, const std::vector<std::string>& args) {
    LaunchPlan plan;
    try {
        plan = decode_child_plan(encoded);
    } catch (const LaunchError& e) {
        throw LaunchError("child", std::string(kChildPlanVar) +
                                       " is set in the environment, but it is not a plan from this "
                                       "alltalk-launch (" +
                                       e.what() +
                                       "). It is meant only for processes that the launcher "
                                       "starts: unset it (unset " +
                                       kChildPlanVar + ") and start again.");
    }
    plan.python_argv.assign(1, plan.env.python.string());
    plan.python_argv.insert(plan.python_argv.end(), args.begin(), args.end());
    if (plan.cudnn_link_dir) {
        // Normally inherited; redone (one re-exec) when the app gave the child another
        // LD_LIBRARY_PATH.
        plan.env_changes.push_back(library_path_with({*plan.cudnn_link_dir}, "cuDNN links",
                                                     process::environment(), PathStyle::Posix));
        apply_native(plan, args);
    }
    return run_interpreter(plan, false);
}

void log_decisions(const LaunchPlan& plan) {
    for (const auto& t : plan.root.tried) {
        spdlog::debug("root: looked at {}", t);
    }
    spdlog::debug("root: {} ({}{})", plan.root.root.string(), plan.root.source,
                  plan.root.is_alltalk ? "" : ", not an AllTalk folder");
    spdlog::debug("config: {}", plan.config_file ? plan.config_file->string() : "none");
    for (const auto& t : plan.env_choice.tried) {
        spdlog::debug("env: looked at {}", t);
    }
    spdlog::debug("env: {} ({}, from {}), Python {}", plan.env.dir.string(),
                  to_string(plan.env.kind), plan.env_choice.source, plan.env.version.text);
    spdlog::debug("python: {}; libpython: {}", plan.env.python.string(),
                  plan.env.libpython.string());
    for (const auto& c : plan.env_changes) {
        spdlog::debug("environment: {}{} ({})", c.name, c.value ? "=" + *c.value : " unset",
                      c.reason);
    }
    spdlog::debug("cwd: {}", plan.cwd.string());
    for (const auto& g : plan.torch_safe_globals) {
        spdlog::debug("torch allow-list: {} ({})", g.full_name(), g.source);
    }
    spdlog::debug("timing: cuDNN selection {:.2f} ms{}", plan.native.elapsed_ms,
                  plan.native_from_reexec ? " (made before the re-exec, not repeated)" : "");
    for (const auto& n : plan.native.needs) {
        spdlog::debug("cuDNN: need {}: {} ({})", n.major, n.who, n.why);
    }
    for (const auto& c : plan.native.candidates) {
        spdlog::debug("cuDNN: candidate {} ({}) in {} [{}{}]", c.version, c.version_source,
                      c.dir.string(), c.origin, c.complete ? "" : ", incomplete");
    }
    for (const auto& c : plan.native.choices) {
        spdlog::debug("cuDNN: chose {} for cuDNN {} ({}){}", c.candidate.dir.string(), c.major,
                      c.why, c.confirmed.empty() ? "" : "; loaded: " + c.confirmed);
    }
}

// The GPU probe and torch's architectures: run when a CUDA build of torch or a cuDNN need is
// there (or with -v / --dry-run), never with --cpu. An incompatible GPU is an error before start.
struct GpuFacts {
    std::optional<GpuProbe> probe;
    std::optional<std::vector<std::string>> archs;
};

GpuFacts gpu_facts(const LaunchPlan& plan, bool verbose,
                   const std::optional<fs::path>& cache_in = std::nullopt) {
    GpuFacts f;
    if (plan.cpu_only) {
        return f;
    }
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    f.archs = cache_in ? read_torch_archs_cached(plan.env.site_packages, *cache_in)
                       : read_torch_archs(plan.env.site_packages);
    const auto t1 = clock::now();
    if (f.archs || !plan.native.needs.empty() || verbose) {
        f.probe = probe_gpus(cudart_candidates(plan.env));
    }
    const auto t2 = clock::now();
    spdlog::debug("timing: torch architectures {:.2f} ms, GPU probe {:.2f} ms",
                  std::chrono::duration<double, std::milli>(t1 - t0).count(),
                  std::chrono::duration<double, std::milli>(t2 - t1).count());
    return f;
}

void check_gpus(const LaunchPlan& plan, const GpuFacts& f) {
    if (!f.probe) {
        return;
    }
    if (f.probe->devices.empty()) {
        spdlog::info("no NVIDIA driver/GPU: running on the CPU ({})", describe_gpus(*f.probe));
    } else {
        spdlog::info("{}", describe_gpus(*f.probe));
    }
    if (f.archs) {
        std::string list;
        for (const auto& a : *f.archs) {
            list += (list.empty() ? "" : " ") + a;
        }
        spdlog::debug("torch CUDA architectures (libtorch_cuda.so): {}", list);
        if (plan.gpu_check) {
            if (auto problem = gpu_arch_problem(*f.probe, *f.archs, plan.env.python)) {
                throw LaunchError("gpu", *problem);
            }
        }
    }
}

int launch(const cli::Options& opts, const std::vector<std::string>& args) {
    logging::init_console(opts.verbose);
    const DiscoveryInputs in = cli::discovery_inputs(opts);

    PlanContext ctx;
    ctx.runtime_dir = process::runtime_dir_candidate(in.env_vars);
    if (auto decided = lookup(in.env_vars, kNativeReexecVar)) {
        ctx.native_decided = decode_native_decision(*decided);  // made before the re-exec
    }
    if (ctx.runtime_dir && !opts.dry_run) {  // a dry run computes afresh and writes nothing
        ctx.analyze = [dir = *ctx.runtime_dir](const NativeFacts& f) {
            return analyze_native_cached(f, dir);
        };
    }
    LaunchPlan plan = make_plan(opts.request, in, ctx);
    if (opts.dry_run) {
        confirm_native(plan.native);
        log_decisions(plan);
        std::fputs(describe_plan(plan).c_str(), stdout);
        GpuFacts f = gpu_facts(plan, true);
        std::fputs(describe_gpu_check(f.probe, f.archs, plan.gpu_check && !plan.cpu_only).c_str(),
                   stdout);
        return 0;
    }
    // Before anything is logged or started: a missing cuDNN is an error, and on Linux the chosen
    // folders may need one re-exec of the launcher (native_apply.hpp).
    bool gpu_usable = true;
    if (missing_only_on_gpu(plan.native)) {
        // Only GPU-time needs are missing: they matter only if there is a GPU to run on.
        gpu_usable = !plan.cpu_only && !probe_gpus(cudart_candidates(plan.env)).devices.empty();
    }
    require_native(plan, gpu_usable);
    apply_native(plan, args);
    if (plan.log_file) {
        logging::add_file(*plan.log_file);
    }
    if (opts.verbose) {
        confirm_native(plan.native);
    }
    log_decisions(plan);
    check_gpus(plan, gpu_facts(plan, opts.verbose, ctx.runtime_dir));
    if (plan.command == Command::Server || plan.command == Command::Finetune) {
        spdlog::info("starting AllTalk {} with Python {} from {}", to_string(plan.command),
                     plan.env.version.text, plan.env.dir.string());
    }
    prepare_process(plan);
    logging::close();
    return run_interpreter(plan, opts.verbose);
}

// `args` are the arguments after the program name, in UTF-8.
int launcher_main(const std::vector<std::string>& args) {
    try {
        // Run by the crash reporter of a launcher whose app died by a signal (explain_runtime).
        if (args.size() == 2 && args[0] == "--explain-signal") {
            auto env = process::environment();
            if (auto encoded = lookup(env, kChildPlanVar)) {
                const LaunchPlan plan = decode_child_plan(encoded->c_str());
                std::fflush(stdout);
                std::fputs(explain_signal(plan, std::atoi(args[1].c_str())).c_str(), stderr);
            }
            return 0;
        }
        const EnvMap env_now = process::environment();
        if (auto probe_var = lookup(env_now, kGpuProbeVar)) {
            const char* probe = probe_var->c_str();
            // The GPU probe's own process (Windows, gpu_probe_win32.cpp): probe, report, exit.
            std::vector<fs::path> cudart;
            std::string line;
            for (const char* c = probe; *c; ++c) {
                if (*c == '\n') {
                    cudart.push_back(process::from_utf8(line));
                    line.clear();
                } else {
                    line += *c;
                }
            }
            std::ostringstream report;
            write_probe_report(report, cudart);
            std::fputs(report.str().c_str(), stdout);
            return 0;
        }
        if (auto child = lookup(env_now, kChildPlanVar)) {
            return run_child(child->c_str(), args);
        }
        cli::Parsed parsed = cli::parse(args);
        if (!parsed.options) {
            return parsed.exit_status;
        }
        if (parsed.options->doctor) {
            return run_doctor(*parsed.options);
        }
        return launch(*parsed.options, args);
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
