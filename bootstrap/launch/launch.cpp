#include "launch/launch.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/logging.hpp"
#include "base/text.hpp"
#include "cudnn/codec.hpp"
#include "fix/lock.hpp"
#include "fix/run_lock.hpp"
#include "gpu/check.hpp"
#include "launch/gpu_facts.hpp"
#include "os/process.hpp"
#include "plan/child_codec.hpp"
#include "plan/plan.hpp"
#include "setup/run.hpp"
#include "start/cudnn_apply.hpp"
#include "start/explain_hook.hpp"
#include "start/interpreter.hpp"
#include "start/launch_hint.hpp"
#include "start/native_cache.hpp"
#include "start/prepare.hpp"

namespace fs = std::filesystem;

namespace alltalk {

// The handover of the one re-exec is read once and never passed on to the app.
void drop_handover() {
    for (const char* var : {kNativeReexecVar, kGpuReexecVar, kNativeCheckVar, kLibraryPathBeforeVar,
                            kFreshStartVar, kLaunchHintVar}) {
        process::unset_env(var);
    }
}

namespace {

// A cached cuDNN decision whose inputs were checked off the critical path turned out stale, or a
// remembered LD_LIBRARY_PATH (reexec_from_hint) is not what the plan wants: the launch starts over
// (LD_LIBRARY_PATH as the user had it, `entry` (the cache entry or the hint) gone, the cache
// checked synchronously and no hint used this time). Returns only when the exec fails.
// `reason` completes "cuDNN: ...: starting over".
void start_over(const Invocation& inv, const std::string& reason, const fs::path& entry,
                const std::string& library_path_before) {
    spdlog::debug("cuDNN: {}: starting over", reason);
    std::error_code ec;
    fs::remove(entry, ec);
    restore_library_path(library_path_before);
    drop_handover();
    process::set_env(kFreshStartVar, "1");
    const std::string why = process::exec_self(inv.args);
    process::unset_env(kFreshStartVar);
    spdlog::warn("warning: the launcher could not start over ({}) although {}; continuing", why,
                 reason);
}

void log_decisions(const LaunchPlan& plan, const std::vector<std::string>& confirmed) {
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
    for (std::size_t i = 0; i < plan.native.choices.size(); ++i) {
        const auto& c = plan.native.choices[i];
        const std::string loaded = i < confirmed.size() ? confirmed[i] : "";
        spdlog::debug("cuDNN: chose {} for cuDNN {} ({}){}", c.candidate.dir.string(), c.major,
                      c.why, loaded.empty() ? "" : "; loaded: " + loaded);
    }
}

// A damaged overlay stops the command; a stale one is used and a missing one leaves the env's
// own packages, each with one warning (in the launch, not again in its re-exec or children).
void check_overlay(const LaunchPlan& plan, Role role) {
    require_overlay(plan);
    if (!plan.overlay || role != Role::Launch || plan.overlay->state == overlay::State::Current) {
        return;
    }
    const char* cmd = to_string(plan.command);
    if (plan.overlay->state == overlay::State::Stale) {
        spdlog::warn(
            "the overlay of {} is stale: its requirements or the env changed since it was "
            "made; it is used as it is: run `alltalk-launch overlay sync {}` to make it again",
            cmd, cmd);
    } else {
        spdlog::warn(
            "{} has an overlay in its config, but it has not been made (or was removed): "
            "running with the env's own packages; run `alltalk-launch overlay sync {}` to "
            "make it",
            cmd, cmd);
    }
}

// Never while a fix changes the env's packages (one failed open when no fix was ever run), nor
// from an env that setup has not finished.
void guard_env(const LaunchPlan& plan) {
    if (plan.command != Command::Server && plan.command != Command::Finetune) {
        return;
    }
    // The run lock first (held until this process ends, its re-exec included), then the check
    // for a fix: of a fix and a start at the same moment, one sees the other.
    static fix::RunLock run_lock =
        fix::RunLock::acquire(plan.env.dir, to_string(plan.command), process::environment());
    fix::refuse_while_fixing(plan.env, to_string(plan.command));
    setup::refuse_unfinished(plan.env, to_string(plan.command));
}

// --dry-run: the plan and the GPU check, printed.
int print_dry_run(const LaunchPlan& plan, GpuFacts& gpu) {
    const std::vector<std::string> confirmed = confirm_native(plan.native);
    log_decisions(plan, confirmed);
    std::fputs(describe_plan(plan, confirmed).c_str(), stdout);
    gpu.gather(true);
    std::fputs(describe_gpu_check(gpu.probed(), plan.cpu_only ? std::nullopt : gpu.archs(),
                                  plan.gpu_check && !plan.cpu_only,
                                  plan.cpu_only ? std::string() : gpu.archs_error())
                   .c_str(),
               stdout);
    return 0;
}

// Role::Launch and Role::Reexec: discover -> plan -> prepare -> run, one phase per method.
class Launch {
  public:
    Launch(const Invocation& inv, const LaunchOptions& opts) : inv_(inv), opts_(opts) {}

    int run() {
        take_handover();
        in_ = opts_.discovery();  // the environment without the handover
        use_caches();
        made_ = plan_timed();
        check_hint();
        GpuFacts gpu(made_, std::move(handed_probe_), std::move(pending_probe_),
                     opts_.dry_run ? std::nullopt : ctx_.runtime_dir);
        gpu.answer_from_cache(opts_.verbose);
        recheck_deferred(gpu);
        const LaunchPlan& plan = made_;  // a value from here on
        if (!deferred_.inputs.empty()) {
            check_entry_ = deferred_.entry;
        }
        if (opts_.dry_run) {
            return print_dry_run(plan, gpu);
        }
        check_overlay(plan, inv_.role);
        guard_env(plan);
        StartOutcome outcome;
        prepare_native(plan, gpu, outcome);
        if (plan.log_file) {
            logging::add_file(*plan.log_file);
        }
        log_decisions(plan,
                      opts_.verbose ? confirm_native(plan.native) : std::vector<std::string>{});
        check_gpus(plan, gpu, opts_.verbose);
        if (plan.command == Command::Server || plan.command == Command::Finetune) {
            spdlog::info("starting AllTalk {} with Python {} from {}", to_string(plan.command),
                         plan.env.version.text, plan.env.dir.string());
        }
        outcome.alias_dir = make_alias_dir(plan);
        enter_process(plan, outcome,
                      environment_changes(plan, in_.env_vars, kHostPlatform, outcome));
        logging::close();
        return run_interpreter(plan, opts_.verbose);
    }

  private:
    // What the launch before the re-exec decided and handed over; LD_LIBRARY_PATH before it.
    void take_handover() {
        if (inv_.role == Role::Reexec) {
            // Made before the re-exec: not repeated.
            ctx_.native_decided = decode_native_decision(*process::env_var(kNativeReexecVar));
            if (auto handed = process::env_var(kGpuReexecVar)) {
                GpuFacts::take_over(*handed, handed_probe_, pending_probe_);
            }
            if (auto entry = process::env_var(kNativeCheckVar)) {
                check_entry_ = fs::path(*entry);
                library_path_before_ = process::env_var(kLibraryPathBeforeVar).value_or("-");
            }
        } else if (inv_.hinted_library_path) {
            library_path_before_ = inv_.hinted_before;
        } else {
            library_path_before_ = library_path_now();
        }
        // A first launch may act on a cached decision before its inputs are checked
        // (DeferredCheck).
        defer_ = inv_.role == Role::Launch && !process::env_var(kFreshStartVar);
        drop_handover();
    }

    // The cuDNN decision and the overlay check, kept in the runtime folder (a dry run computes
    // afresh and writes nothing).
    void use_caches() {
        ctx_.runtime_dir = process::runtime_dir_candidate(in_.env_vars);
        if (!ctx_.runtime_dir || opts_.dry_run) {
            return;
        }
        ctx_.analyze = [this, dir = *ctx_.runtime_dir](const NativeFacts& f) {
            return analyze_native_cached(f, dir, nullptr, kCacheSettle,
                                         defer_ ? &deferred_ : nullptr);
        };
        ctx_.check_overlay = [dir = *ctx_.runtime_dir](const PythonEnv& env,
                                                       const std::string& command,
                                                       const std::vector<std::string>& reqs) {
            return check_overlay_cached(env, command, reqs, dir);
        };
    }

    // doctor --deep's child is this launch with the probe for the script (diagnose/deep_run.hpp).
    LaunchPlan plan_now() {
        LaunchPlan p = make_plan(opts_.request, in_, ctx_);
        return opts_.deep_probe
                   ? deep_probe_plan(std::move(p), absolute_from(*opts_.deep_probe, in_.cwd))
                   : p;
    }

    LaunchPlan plan_timed() {
        const auto plan_start = std::chrono::steady_clock::now();
        LaunchPlan p = plan_now();
        spdlog::debug(
            "timing: plan {:.2f} ms{}",
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - plan_start)
                .count(),
            inv_.role == Role::Reexec ? " (after the re-exec)" : "");
        return p;
    }

    // A launch re-executed from a hint acted on the cached decision already, and has no re-exec
    // left to hide the check of its inputs behind (in the GPU probe's child): they are checked
    // now, before anything is said or started (a thread measured no faster).
    void check_hint() {
        if (!inv_.hinted_library_path) {
            return;
        }
        spdlog::debug(
            "cuDNN: this launch re-executed itself at its start with LD_LIBRARY_PATH={}, as an "
            "earlier one with the same arguments, folder and environment did",
            *inv_.hinted_library_path);
        if (deferred_.inputs.empty()) {
            return;
        }
        const std::string changed = first_changed_input(deferred_);
        const fs::path entry = deferred_.entry;
        deferred_ = {};
        if (!changed.empty()) {
            start_over(inv_, changed + " changed since the cached decision was made", entry,
                       library_path_before_);
        }
    }

    // The deferred check rides on the GPU probe's child only on the plain path (with a probe
    // result kept from an earlier launch, the child only checks): a decision that stops the
    // launch or warns, or a launch without a probe, has its inputs checked now.
    void recheck_deferred(GpuFacts& gpu) {
        if (deferred_.inputs.empty() ||
            (made_.native.missing.empty() && made_.native.override_problem.empty() &&
             gpu.wants_probe(opts_.verbose))) {
            return;
        }
        const std::string changed = first_changed_input(deferred_);
        deferred_ = {};
        if (!changed.empty()) {
            spdlog::debug("cuDNN: {} changed since the cached decision was made: selecting again",
                          changed);
            defer_ = false;
            made_ = plan_now();
        }
    }

    // Before anything is logged or started: a missing cuDNN is an error (only GPU-time needs
    // missing matter only if there is a GPU to run on), and on Linux the chosen folders may need
    // one re-exec of the launcher (cudnn_apply.hpp); then the deferred check's answer.
    void prepare_native(const LaunchPlan& plan, GpuFacts& gpu, StartOutcome& outcome) {
        gpu.start_early(
            opts_.verbose, deferred_.inputs.empty() ? std::function<std::string()>{} : [this] {
                return first_changed_input(deferred_);
            });
        require_native(plan, !missing_only_on_gpu(plan.native) || gpu.gpu_usable(),
                       inv_.role == Role::Reexec);
        outcome.cudnn_links = make_cudnn_links(plan);
        const std::vector<EnvChange> changes =
            environment_changes(plan, in_.env_vars, kHostPlatform, outcome);
        const EnvChange* wanted = library_path_change(changes);  // what the plan wants (POSIX)
        check_hinted_path(wanted);
        const auto handover = [&] {  // asked only when the launcher re-executes itself
            if (inv_.role == Role::Launch && wanted) {
                store_launch_hint(inv_.args, *wanted->value);  // the next identical launch's guess
            }
            EnvMap vars = {{kNativeReexecVar, encode_native_decision(plan.native)}};
            if (const std::string probe = gpu.handover(); !probe.empty()) {
                vars[kGpuReexecVar] = probe;
                if (check_entry_) {
                    vars[kNativeCheckVar] = check_entry_->string();
                    vars[kLibraryPathBeforeVar] = library_path_before_;
                }
            }
            return vars;
        };
        serve_native(plan, changes, inv_.args, handover, inv_.role == Role::Reexec);
        if (check_entry_) {
            const std::optional<std::string>& changed = gpu.probe().inputs_changed;
            if (!changed || !changed->empty()) {
                start_over(inv_,
                           (changed ? *changed : "an input (the check gave no answer)") +
                               " changed since the cached decision was made",
                           *check_entry_, library_path_before_);
            }
        }
    }

    // A remembered LD_LIBRARY_PATH that is not what the plan wants starts the launch over.
    void check_hinted_path(const EnvChange* wanted) {
        if (!inv_.hinted_library_path) {
            return;
        }
        if (!wanted || *wanted->value != *inv_.hinted_library_path) {
            start_over(inv_,
                       "the remembered LD_LIBRARY_PATH is not what this launch wants (" +
                           (wanted ? *wanted->value : std::string("none")) + ")",
                       read_launch_hint(inv_.args).file, library_path_before_);
        } else {
            process::set_env("LD_LIBRARY_PATH", *wanted->value);  // as the loader started with it
        }
    }

    const Invocation& inv_;
    const LaunchOptions& opts_;
    DiscoveryInputs in_;
    PlanContext ctx_;
    std::optional<GpuProbe> handed_probe_;
    std::optional<PendingProbe> pending_probe_;
    // The cache entry whose inputs the probe's child checks, and LD_LIBRARY_PATH before the
    // launch.
    std::optional<fs::path> check_entry_;
    std::string library_path_before_;
    bool defer_ = false;
    DeferredCheck deferred_;
    LaunchPlan made_;
};

}  // namespace

// A process started by the app through sys.executable (or a bare `python`): behave exactly like
// the env's python, with the parent's plan and environment.
int run_child(const Invocation& inv) {
    LaunchPlan parent;
    try {
        parent = decode_child_plan(*lookup(inv.env, kChildPlanVar));
    } catch (const LaunchError& e) {
        throw LaunchError(Stage::Child,
                          ErrorText{std::string(kChildPlanVar) +
                                        " is set in the environment, but it is not a plan from "
                                        "this alltalk-launch (" +
                                        e.what() + ").",
                                    "",
                                    "It is meant only for processes that the launcher starts: "
                                    "unset it (unset " +
                                        std::string(kChildPlanVar) + ") and start again."});
    }
    drop_handover();
    const LaunchPlan plan = make_child_plan(parent, inv.args, inv.env);
    // The parent's cuDNN links are normally inherited; redone (one re-exec) when the app gave the
    // child another LD_LIBRARY_PATH.
    serve_native(
        plan, plan.env_changes, inv.args,
        [] {
            return EnvMap{{kNativeReexecVar, "child"}};
        },
        inv.reexeced);
    return run_interpreter(plan, false);
}

int run_gpu_probe(const Invocation& inv) {
    std::vector<fs::path> cudart;
    for (const auto& line : text::split_nonempty(*lookup(inv.env, kGpuProbeVar), '\n')) {
        cudart.push_back(process::from_utf8(line));
    }
    std::ostringstream report;
    write_probe_report(report, cudart);
    std::fputs(report.str().c_str(), stdout);
    return 0;
}

// The crash reporter's process: inv.args[1] is the signal number or the Windows exception code.
int run_explain_signal(const Invocation& inv) {
    const std::optional<FailureInfo> crash = parse_fatal_failure(inv.args[1]);
    if (!crash) {
        std::fprintf(stderr,
                     "alltalk-launch: --explain-signal takes a signal number (6) or a Windows "
                     "exception code (0xC0000005), not '%s'\n",
                     inv.args[1].c_str());
        return 2;
    }
    if (auto encoded = lookup(inv.env, kChildPlanVar)) {
        const LaunchPlan plan = decode_child_plan(*encoded);
        std::fflush(stdout);
        std::fputs(explain_crash(plan, *crash).c_str(), stderr);
    }
    return 0;
}

int run_launch(const Invocation& inv, const LaunchOptions& opts) {
    Launch launch(inv, opts);
    return launch.run();
}

}  // namespace alltalk
