#include "fix/pip.hpp"

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "fix/apply.hpp"
#include "fix/state_dir.hpp"
#include "os/process.hpp"
#include "pypa/pep440.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

namespace {

bool at_least(const std::string& version, const char* floor) {
    auto v = pep440::parse(version);
    auto f = pep440::parse(floor);
    return v && f && pep440::compare(*v, *f) >= 0;
}

// pip's last lines, the error first where it printed one.
std::string pip_tail(const std::string& log) {
    auto lines = text::split_nonempty(log, '\n');
    std::vector<std::string> keep;
    std::size_t start = lines.size() > 12 ? lines.size() - 12 : 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind("ERROR:", 0) == 0 && i < start) {
            start = i;
            break;
        }
    }
    for (std::size_t i = start; i < lines.size() && keep.size() < 20; ++i) {
        keep.push_back("    " + std::string(text::trim(lines[i])));
    }
    return keep.empty() ? "    (pip printed nothing)" : text::join(keep, "\n");
}

}  // namespace

std::optional<std::string> pip_version(const SiteScan& scan) {
    const Distribution* pip = scan.find("pip");
    return pip ? std::optional<std::string>(pip->version_text) : std::nullopt;
}

bool pip_can_plan(const std::string& version) {
    return at_least(version, kPipReportSince);
}

void prepare_pip_environment() {
    process::apply(pip_environment());
}

std::optional<std::string> find_uv(const PythonEnv& env, const EnvMap& env_vars) {
    const char* exe = env.platform == Platform::Windows ? "uv.exe" : "uv";
    std::error_code ec;
    if (fs::is_regular_file(env.bin_dir / exe, ec)) {
        return process::to_utf8(env.bin_dir / exe);
    }
    if (auto path = lookup(env_vars, "PATH")) {
        for (const auto& dir : text::split(*path, process::path_list_separator())) {
            if (!dir.empty() && fs::is_regular_file(process::from_utf8(dir) / exe, ec)) {
                return process::to_utf8(process::from_utf8(dir) / exe);
            }
        }
    }
    return std::nullopt;
}

PipReport plan_with_pip(const PythonEnv& env, const FixRequest& r, double timeout_s,
                        const fs::path& scratch_root) {
    const ScratchDir scratch(scratch_root, "pip-");
    const fs::path& dir = scratch.path();
    const fs::path report = dir / "report.json";
    const fs::path log = dir / "pip.log";
    const auto argv = dry_run_argv(process::to_utf8(env.python), r, process::to_utf8(report));
    process::Child child;
    std::string why;
    if (!child.start(argv, log, why)) {
        throw LaunchError(Stage::Fix, ErrorText{"The env's pip could not be started (" + why + ").",
                                                text::join(argv, " "),
                                                "Check that " + env.python.string() + " runs: " +
                                                    env.python.string() + " -m pip --version"});
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<int> status;
    while (!(status = child.wait_for(200))) {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > timeout_s) {
            child.kill();
            throw LaunchError(
                Stage::Fix,
                ErrorText{"pip was still working out the change after " +
                              std::to_string(static_cast<int>(timeout_s)) +
                              " s (its resolver backtracks when the requirements barely fit "
                              "together), so fix stopped it. Nothing was changed.",
                          "",
                          "Fix one finding at a time (--only RULE_ID), or pin more of the "
                          "env with --profile."});
        }
    }
    if (*status != 0) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"pip cannot make this change (it exited with status " +
                          std::to_string(*status) + "); nothing was changed. " + "pip said:\n" +
                          pip_tail(files::read_all(log)),
                      "",
                      "Fix one finding at a time (--only RULE_ID), or see "
                      "whether the index is reachable (pip download " +
                          (r.install.empty() ? std::string("pip") : r.install.front()) + ")."});
    }
    return parse_pip_report(files::read_all(report));
}

Plan plan_keeping_dependents(const PythonEnv& env, FixRequest request, const SiteScan& scan,
                             const pep508::MarkerEnv& markers, double timeout_s,
                             const fs::path& scratch_root,
                             const std::function<void(const std::string&)>& say) {
    const auto t0 = std::chrono::steady_clock::now();
    auto left = [&] {
        return timeout_s -
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    Plan plan;
    plan.request = request;
    plan.report = plan_with_pip(env, request, left(), scratch_root);
    plan.prediction = predict(scan, request.remove, plan.report);
    for (int round = 0; round < 4; ++round) {
        std::vector<std::string> asked;
        for (const auto& r : plan.request.install) {
            asked.push_back(requirement_key(r));
        }
        const auto broken = broken_dependents(scan, plan.prediction, markers, asked);
        if (broken.empty()) {
            break;
        }
        std::vector<std::string> names;
        for (const auto& b : broken) {
            names.push_back(b.package);
        }
        say("the change breaks " + text::join(names, ", ") + "; asking pip for releases that fit");
        FixRequest next = plan.request;
        next.install.insert(next.install.end(), names.begin(), names.end());
        try {
            PipReport report = plan_with_pip(env, next, left(), scratch_root);
            Prediction p = predict(scan, next.remove, report);
            plan.request = std::move(next);
            plan.report = std::move(report);
            plan.prediction = std::move(p);
            plan.joined.insert(plan.joined.end(), broken.begin(), broken.end());
        } catch (const LaunchError&) {
            plan.unkept = broken;  // pip cannot fit them in: the conflict stays in the prediction
            break;
        }
    }
    return plan;
}

}  // namespace alltalk::fix
