// alltalk-launch: discover -> plan -> prepare -> start the env's interpreter -> exit status.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/build_info.hpp"
#include "base/error.hpp"
#include "base/logging.hpp"
#include "base/text.hpp"
#include "cli.hpp"
#include "console.hpp"
#include "cudnn/codec.hpp"
#include "doctor_cmd.hpp"
#include "explain_cmd.hpp"
#include "fix/lock.hpp"
#include "fix/run_lock.hpp"
#include "fix_cmd.hpp"
#include "gpu/check.hpp"
#include "gpu/torch_arch.hpp"
#include "os/process.hpp"
#include "overlay_cmd.hpp"
#include "plan/child_codec.hpp"
#include "plan/plan.hpp"
#include "roles.hpp"
#include "setup/run.hpp"
#include "setup_cmd.hpp"
#include "start/cudnn_apply.hpp"
#include "start/explain_hook.hpp"
#include "start/interpreter.hpp"
#include "start/launch_hint.hpp"
#include "start/native_cache.hpp"
#include "start/prepare.hpp"

namespace fs = std::filesystem;
using namespace alltalk;

namespace {

constexpr int kInternalErrorStatus = 70;  // EX_SOFTWARE

// The handover of the one re-exec is read once and never passed on to the app.
void drop_handover() {
    for (const char* var : {kNativeReexecVar, kGpuReexecVar, kNativeCheckVar, kLibraryPathBeforeVar,
                            kFreshStartVar, kLaunchHintVar}) {
        process::unset_env(var);
    }
}

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

// The GPU probe and torch's architectures, each gathered at most once per launch: the probe, a
// child process with a 10 s limit, runs when a CUDA build of torch or a cuDNN need is there (or
// with -v / --dry-run), never with --cpu. It starts as soon as the plan is made and runs while
// the launcher goes on (on Linux across the re-exec, which adopts it); its result is read where
// it is needed.
class GpuFacts {
  public:
    // `handed`: the probe's result or the running probe from before the re-exec. `cache_dir`:
    // where torch's architecture list may be cached (start/native_cache.hpp).
    GpuFacts(const LaunchPlan& plan, std::optional<GpuProbe> handed,
             std::optional<PendingProbe> pending, std::optional<fs::path> cache_dir)
        : plan_(plan),
          probe_(std::move(handed)),
          pending_(std::move(pending)),
          cache_dir_(std::move(cache_dir)) {}

    // A result kept by an earlier launch answers at once, with no probe to run
    // (start/native_cache.hpp says while it is kept). Not with -v: that probes afresh, so that
    // it shows what the driver says now (and keeps that).
    void answer_from_cache(bool verbose) {
        if (probe_ || pending_ || !cache_dir_ || verbose || !wants_probe(verbose)) {
            return;
        }
        probe_ = read_gpu_probe_cached(cudart(), *cache_dir_, slot_);
    }

    // Starts the probe in the background when gather() will want it; `check` rides along in the
    // probe's child (PendingProbe::start), which also keeps a lasting result for later launches.
    // With a kept result, the child runs only `check` (and hands the kept result on).
    void start_early(bool verbose, const std::function<std::string()>& check = {}) {
        if (probe_ && probe_->kept && check && !pending_) {
            pending_ = PendingProbe::start({}, kGpuProbeTimeoutMs, check, {}, &*probe_);
            probe_.reset();
            return;
        }
        if (!probe_ && !pending_ && wants_probe(verbose)) {
            std::function<void(const std::string&)> keep;
            if (cache_dir_ && slot_.file.empty()) {
                slot_ = probe_cache_slot(cudart(), *cache_dir_);  // not read by answer_from_cache
            }
            if (!slot_.file.empty()) {
                keep = [slot = slot_](const std::string& report) { store_gpu_probe(slot, report); };
            }
            pending_ = PendingProbe::start(cudart(), kGpuProbeTimeoutMs, check, keep);
        }
    }

    bool wants_probe(bool verbose) {
        return !plan_.cpu_only && (archs() || !plan_.native.needs.empty() || verbose);
    }

    const GpuProbe& probe() {
        if (!probe_) {
            const auto t0 = std::chrono::steady_clock::now();
            const bool early = pending_.has_value();
            if (!pending_) {
                pending_ = PendingProbe::start(cudart());
            }
            probe_ = pending_->finish();
            pending_.reset();
            spdlog::debug("timing: GPU probe {:.2f} ms{}", ms_since(t0),
                          early ? " (waited for its end; it started with the plan)" : "");
        }
        return *probe_;
    }
    const std::optional<GpuProbe>& probed() const { return probe_; }

    // What the re-exec hands on (kGpuReexecVar): the result, or the running probe to adopt.
    std::string handover() const {
        if (probe_) {
            return encode_probe_report(*probe_);
        }
        const std::string running = pending_ ? pending_->handover() : "";
        return running.empty() ? "" : kPendingPrefix + running;
    }
    // The other side of handover().
    static void take_over(const std::string& handed, std::optional<GpuProbe>& probe,
                          std::optional<PendingProbe>& pending) {
        if (handed.rfind(kPendingPrefix, 0) == 0) {
            pending = PendingProbe::adopt(handed.substr(std::string(kPendingPrefix).size()));
        } else {
            parse_probe_report(handed, probe.emplace());
        }
    }

    const std::optional<std::vector<std::string>>& archs() {
        if (!archs_read_) {
            const auto t0 = std::chrono::steady_clock::now();
            if (cache_dir_) {
                archs_ = read_torch_archs_cached(plan_.env.site_packages, *cache_dir_, nullptr,
                                                 kCacheSettle, &archs_error_);
            } else {
                TorchArchs t = read_torch_arch_facts(plan_.env.site_packages);
                archs_ = std::move(t.archs);
                archs_error_ = std::move(t.error);
            }
            archs_read_ = true;
            spdlog::debug("timing: torch architectures {:.2f} ms", ms_since(t0));
        }
        return archs_;
    }
    // Why torch's CUDA library could not be read ("" when it was, or there is none).
    const std::string& archs_error() {
        archs();
        return archs_error_;
    }

    // Whether there is a GPU to run on (for needs that matter only on the GPU).
    bool gpu_usable() { return !plan_.cpu_only && !probe().devices.empty(); }

    // The facts the check and -v need, or nothing with --cpu.
    bool gather(bool verbose) {
        if (plan_.cpu_only) {
            return false;
        }
        if (wants_probe(verbose) || pending_) {  // a running probe is always read (and ended)
            probe();
        }
        return true;
    }

  private:
    // The CUDA runtimes the probe tries (listed once per launch).
    const std::vector<fs::path>& cudart() {
        if (!cudart_) {
            cudart_ = cudart_candidates(plan_.env);
        }
        return *cudart_;
    }
    static double ms_since(std::chrono::steady_clock::time_point t0) {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
            .count();
    }
    static constexpr const char* kPendingPrefix = "pending ";
    const LaunchPlan& plan_;
    std::optional<GpuProbe> probe_;
    std::optional<PendingProbe> pending_;
    std::optional<fs::path> cache_dir_;
    std::optional<std::vector<fs::path>> cudart_;
    ProbeCacheSlot slot_;  // where this launch's probe result is kept
    std::optional<std::vector<std::string>> archs_;
    std::string archs_error_;
    bool archs_read_ = false;
};

// An incompatible GPU is an error before start.
void check_gpus(const LaunchPlan& plan, GpuFacts& gpu, bool verbose) {
    if (!gpu.gather(verbose)) {
        return;
    }
    if (plan.gpu_check && !gpu.archs_error().empty()) {
        // A malformed (say, half-written) torch library: said, and the launch goes on.
        spdlog::warn("{}; the GPU architecture check is skipped", gpu.archs_error());
    }
    if (!gpu.probed()) {
        return;
    }
    const GpuProbe& probe = *gpu.probed();
    if (probe.kept) {
        spdlog::debug(
            "GPU probe: the result kept by an earlier launch (nothing it depends on "
            "changed since)");
    }
    if (probe.devices.empty()) {
        spdlog::info("no NVIDIA driver/GPU: running on the CPU ({})", describe_gpus(probe));
    } else {
        spdlog::info("{}", describe_gpus(probe));
    }
    if (const auto& archs = gpu.archs()) {
        spdlog::debug("torch CUDA architectures: {}", text::join(*archs, " "));
        if (plan.gpu_check) {
            if (auto problem =
                    gpu_arch_problem(probe, *archs, plan.env.python, plan.env.platform)) {
                throw LaunchError(Stage::Gpu, *problem);
            }
        }
    }
}

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
    Launch(const Invocation& inv, const cli::Options& opts) : inv_(inv), opts_(opts) {}

    int run() {
        take_handover();
        in_ = cli::discovery_inputs(opts_);  // the environment without the handover
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
    const cli::Options& opts_;
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
    Launch launch(inv, opts);
    return launch.run();
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
