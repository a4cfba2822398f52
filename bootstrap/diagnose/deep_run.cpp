#include "diagnose/deep_run.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include "base/files.hpp"
#include "base/text.hpp"
#include "os/process.hpp"
#include "plan/plan.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The end of the child's output, for a launch that failed before Python ran: its error lines
// when it printed some, else its last lines.
std::string output_tail(const fs::path& log) {
    const std::string text = files::read_all(log);
    std::vector<std::string> errors;
    const auto lines = text::split_nonempty(text, '\n');
    for (const auto& l : lines) {
        if (l.find("alltalk-launch: error") != std::string::npos) {
            errors.push_back(std::string(text::trim(l)));
        }
    }
    if (errors.empty()) {
        for (std::size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i) {
            errors.push_back(std::string(text::trim(lines[i])));
        }
    }
    std::string out = text::join(errors, " / ");
    return out.empty() ? "it printed nothing" : out;
}

fs::path make_dir() {
    std::random_device rd;
    std::error_code ec;
    for (int i = 0; i < 10; ++i) {
        fs::path dir = fs::temp_directory_path(ec) / ("alltalk-deep-" + std::to_string(rd()));
        if (fs::create_directory(dir, ec)) {
            return dir;
        }
    }
    throw LaunchError(Stage::Install, "doctor --deep could not make a folder for its probe in " +
                                          fs::temp_directory_path(ec).string() +
                                          ": check that the temporary folder is writable.");
}

// The launch's command line, as this doctor was given it.
std::vector<std::string> child_argv(std::vector<std::string> argv, Command command,
                                    const fs::path& dir) {
    argv.push_back("--deep-probe");
    argv.push_back(process::to_utf8(dir));
    argv.push_back(to_string(command));
    return argv;
}

// Reads the complete lines added to results.jsonl since `offset`.
std::vector<ProbeRecord> new_records(const fs::path& file, std::size_t& offset) {
    std::vector<ProbeRecord> out;
    const std::string text = files::read_all(file);
    while (offset < text.size()) {
        const std::size_t eol = text.find('\n', offset);
        if (eol == std::string::npos) {
            break;  // a line still being written
        }
        if (auto r = parse_probe_record(std::string_view(text).substr(offset, eol - offset))) {
            out.push_back(std::move(*r));
        }
        offset = eol + 1;
    }
    return out;
}

// One start of the child: what it reported, and how it ended.
struct ChildRun {
    std::optional<DeepStep> current;  // a step begun and not ended: it hung or ended the process
    int current_index = -1;
    bool any = false, done = false, timed_out = false;
    std::optional<int> status;
    Clock::time_point last;
};

// Watches one start of the child to its end, killing it when a step (or the launch before the
// first step) runs past its limit; the steps that ended go into `d`.
struct Watch {
    DeepCheck& d;
    const fs::path& results;
    double startup_limit;
    int& start;
    int& count;
    std::size_t& offset;

    void take(ProbeRecord& r, ChildRun& c) {
        c.any = true;
        if (r.event == "steps") {
            count = r.count;
        } else if (r.event == "begin") {
            c.current = std::move(r.step);
            c.current_index = r.index;
            c.last = Clock::now();
        } else if (r.event == "end") {
            d.steps.push_back(std::move(r.step));
            c.current.reset();
            start = r.index + 1;
            c.last = Clock::now();
        } else if (r.event == "done") {
            c.done = true;
        }
    }

    ChildRun follow(process::Child& child) {
        ChildRun c;
        c.last = Clock::now();
        for (;;) {
            c.status = child.wait_for(50);
            for (auto& r : new_records(results, offset)) {
                take(r, c);
            }
            if (c.status) {
                return c;
            }
            if (since(c.last) > (c.current ? d.timeout_s : startup_limit)) {
                child.kill();
                c.timed_out = true;
                return c;
            }
        }
    }
};

// The step that hung or ended the process, with how it ended and what it printed.
DeepStep ended_step(ChildRun& c, const fs::path& log) {
    DeepStep step = std::move(*c.current);
    step.status = c.timed_out ? StepStatus::TimedOut : StepStatus::Crashed;
    step.seconds = since(c.last);
    step.exit_status = c.status.value_or(0);
    if (!c.timed_out) {
        // Windows: a fatal exception's code as the exit status (0xC0000005 ...), named from the
        // table the crash handler uses; POSIX: the signal, as a negative status.
        const auto code = static_cast<std::uint32_t>(step.exit_status);
        if (exit_is_windows_exception(step.exit_status, kHostPlatform)) {
            step.failure.exception_code = code;
        } else if (step.exit_status < 0) {
            step.failure.signal = -step.exit_status;
        }
        // What the step printed before it died: cuDNN's and ctranslate2's own reasons.
        const std::string printed = files::read_all(log);
        step.failure.stderr_tail =
            printed.substr(printed.size() > 65536 ? printed.size() - 65536 : 0);
    }
    return step;
}

}  // namespace

DeepCheck run_deep_check(const std::vector<std::string>& launch_argv, Command command, int gpus,
                         double timeout_s, const std::vector<DeepAlso>& also) {
    DeepCheck d;
    d.timeout_s = timeout_s;
    nlohmann::json also_json = nlohmann::json::array();
    for (const DeepAlso& a : also) {
        also_json.push_back({{"command", a.command}, {"script", process::to_utf8(a.script)}});
        d.also.push_back(a);
    }
    const auto t0 = Clock::now();
    const fs::path dir = make_dir();
    { std::ofstream(dir / kDeepProbeFile, std::ios::binary) << deep_probe_source(); }
    const std::vector<std::string> argv = child_argv(launch_argv, command, dir);
    const fs::path results = dir / "results.jsonl";
    int start = 0, count = -1;
    std::size_t offset = 0;
    // Before its first step the child launches (cuDNN, the GPU probe, the interpreter).
    Watch watch{d, results, std::max(60.0, d.timeout_s), start, count, offset};
    for (int run = 0; run < 1000; ++run) {
        {
            std::ofstream(dir / "request.json")
                << nlohmann::json{{"start", start}, {"gpus", gpus}, {"also", also_json}};
        }
        process::Child child;
        std::string why;
        const fs::path log = dir / ("child-" + std::to_string(run) + ".log");
        if (!child.start(argv, log, why)) {
            d.launch_error = "the launcher could not start itself: " + why;
            d.launch_status = -1;
            break;
        }
        ChildRun c = watch.follow(child);
        if (c.done) {
            break;
        }
        if (c.current) {
            d.steps.push_back(ended_step(c, log));
            start = c.current_index + 1;
            if (count >= 0 && start >= count) {
                break;
            }
            continue;
        }
        if (!c.any || c.timed_out) {  // the launch itself failed (or hung) before the probe ran
            d.launch_status = c.status.value_or(-1);
            d.launch_error = c.timed_out
                                 ? "the launch did not reach Python within " +
                                       std::to_string(static_cast<int>(watch.startup_limit)) + " s"
                                 : output_tail(log);
        }
        break;  // the probe ended between steps: nothing more to learn by starting again
    }
    d.seconds = since(t0);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return d;
}

void add_deep_check(const std::vector<std::string>& launch_argv, double timeout_s, DoctorFacts& f) {
    if (f.unresolved || !f.env || !f.env_error.what.empty() || f.commands.empty()) {
        return;  // the launch cannot start it: the doctor's own findings say why
    }
    const int gpus = f.gpus && !f.cpu_only ? static_cast<int>(f.gpus->devices.size()) : 0;
    f.deep = run_deep_check(launch_argv, f.commands.front(), gpus, timeout_s, f.deep_also);
    // A command of this check that the first child could not cover (its script elsewhere, or
    // its own [command] environment) gets a child of its own, its steps added after the first's.
    for (std::size_t i = 1; i < f.commands.size(); ++i) {
        const std::string name = to_string(f.commands[i]);
        if (std::any_of(f.deep_also.begin(), f.deep_also.end(),
                        [&](const DeepAlso& a) { return a.command == name; })) {
            continue;
        }
        DeepCheck more = run_deep_check(launch_argv, f.commands[i], gpus, timeout_s);
        if (!f.deep->launch_error && more.launch_error) {
            f.deep->launch_error = more.launch_error;
            f.deep->launch_status = more.launch_status;
        }
        f.deep->also.push_back({name, {}});
        for (DeepStep& s : more.steps) {
            s.command = name;
            f.deep->steps.push_back(std::move(s));
        }
        f.deep->seconds += more.seconds;
    }
    const InstalledFacts installed{&f.scan, f.env->version.text, f.markers, f.platform};
    const std::string python = text::quote_arg(f.env->python.string(), f.platform);
    const SiteScan& scan = f.scan;
    const fs::path site = f.env->site_packages;
    explain_steps(*f.deep, builtin_rules(), installed, python,
                  [&] { return read_installed_modules(scan, site); });
}

}  // namespace alltalk
