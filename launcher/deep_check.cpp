#include "deep_check.hpp"

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
std::vector<std::string> child_argv(const cli::Options& opts, Command command, const fs::path& dir,
                                    const fs::path& cwd) {
    std::vector<std::string> argv = launch_options_argv(opts, cwd);
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

}  // namespace

std::vector<std::string> launch_options_argv(const cli::Options& opts, const fs::path& cwd) {
    std::vector<std::string> argv = {process::to_utf8(process::self_exe())};
    auto path_opt = [&](const char* name, const std::optional<fs::path>& p) {
        if (p) {
            argv.push_back(name);
            argv.push_back(process::to_utf8(absolute_from(*p, cwd)));
        }
    };
    path_opt("--root", opts.root);
    path_opt("--env", opts.env);
    path_opt("--config", opts.config);
    path_opt("--cudnn", opts.request.cudnn);
    if (opts.request.cpu) {
        argv.push_back("--cpu");
    }
    if (opts.request.no_gpu_check) {
        argv.push_back("--no-gpu-check");
    }
    return argv;
}

DeepCheck run_deep_check(const cli::Options& opts, Command command, int gpus) {
    DeepCheck d;
    d.timeout_s = opts.doctor ? opts.doctor->deep_timeout : 60;
    const auto t0 = Clock::now();
    const fs::path cwd = fs::current_path();
    const fs::path dir = make_dir();
    { std::ofstream(dir / kDeepProbeFile, std::ios::binary) << deep_probe_source(); }
    const std::vector<std::string> argv = child_argv(opts, command, dir, cwd);
    const fs::path results = dir / "results.jsonl";
    // Before its first step the child launches (cuDNN, the GPU probe, the interpreter).
    const double startup_limit = std::max(60.0, d.timeout_s);
    int start = 0, count = -1;
    std::size_t offset = 0;
    for (int run = 0; run < 1000; ++run) {
        { std::ofstream(dir / "request.json") << nlohmann::json{{"start", start}, {"gpus", gpus}}; }
        process::Child child;
        std::string why;
        const fs::path log = dir / ("child-" + std::to_string(run) + ".log");
        if (!child.start(argv, log, why)) {
            d.launch_error = "the launcher could not start itself: " + why;
            d.launch_status = -1;
            break;
        }
        std::optional<DeepStep> current;
        int current_index = -1;
        bool any = false, done = false, timed_out = false;
        auto last = Clock::now();
        std::optional<int> status;
        for (;;) {
            status = child.wait_for(50);
            for (auto& r : new_records(results, offset)) {
                any = true;
                if (r.event == "steps") {
                    count = r.count;
                } else if (r.event == "begin") {
                    current = std::move(r.step);
                    current_index = r.index;
                    last = Clock::now();
                } else if (r.event == "end") {
                    d.steps.push_back(std::move(r.step));
                    current.reset();
                    start = r.index + 1;
                    last = Clock::now();
                } else if (r.event == "done") {
                    done = true;
                }
            }
            if (status) {
                break;
            }
            if (since(last) > (current ? d.timeout_s : startup_limit)) {
                child.kill();
                timed_out = true;
                break;
            }
        }
        if (done) {
            break;
        }
        if (current) {  // a step that hung or ended the process
            current->status = timed_out ? StepStatus::TimedOut : StepStatus::Crashed;
            current->seconds = since(last);
            current->exit_status = status.value_or(0);
            if (!timed_out) {
                // Windows: a fatal exception's code as the exit status (0xC0000005 ...), named
                // from the table the crash handler uses; POSIX: the signal, as a negative status.
                const auto code = static_cast<std::uint32_t>(current->exit_status);
                if (exit_is_windows_exception(current->exit_status, kHostPlatform)) {
                    current->failure.exception_code = code;
                } else if (current->exit_status < 0) {
                    current->failure.signal = -current->exit_status;
                }
                // What the step printed before it died: cuDNN's and ctranslate2's own reasons.
                const std::string printed = files::read_all(log);
                current->failure.stderr_tail =
                    printed.substr(printed.size() > 65536 ? printed.size() - 65536 : 0);
            }
            d.steps.push_back(std::move(*current));
            start = current_index + 1;
            if (count >= 0 && start >= count) {
                break;
            }
            continue;
        }
        if (!any || timed_out) {  // the launch itself failed (or hung) before the probe ran
            d.launch_status = status.value_or(-1);
            d.launch_error = timed_out ? "the launch did not reach Python within " +
                                             std::to_string(static_cast<int>(startup_limit)) + " s"
                                       : output_tail(log);
        }
        break;  // the probe ended between steps: nothing more to learn by starting again
    }
    d.seconds = since(t0);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return d;
}

}  // namespace alltalk
