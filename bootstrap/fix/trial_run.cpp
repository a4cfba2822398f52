#include "fix/trial_run.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <system_error>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "fix/pip.hpp"
#include "fix/predict.hpp"
#include "fix/state_dir.hpp"
#include "os/process.hpp"
#include "pypa/pep440.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

class Trials {
  public:
    Trials(const TrialSettings& settings, const DoctorFacts& facts, const std::string& pip)
        : settings_(settings),
          facts_(facts),
          pip_(pip),
          root_(scratch_root(*facts.env, settings.dry_run)),
          start_(Clock::now()) {}

    TrialOutcome search(const TrialTarget& t) {
        TrialOutcome out;
        out.target = t;
        const auto versions = released_versions(t.dist);
        const auto candidates = releases_below(versions, t.installed);
        say("trial: " + t.dist + " " + t.installed + " lacks " + text::join(t.names, ", ") +
            "; searching the " + std::to_string(candidates.size()) + " releases below it");
        if (candidates.empty()) {
            out.note = versions.empty() ? "pip found no released versions of " + t.dist
                                        : "no release of " + t.dist + " below " + t.installed;
            return out;
        }
        std::vector<std::optional<std::vector<std::string>>> pins(candidates.size());
        auto result = newest_passing(candidates.size(), [&](std::size_t i) -> std::optional<bool> {
            if (since(start_) > settings_.trials_timeout) {
                return std::nullopt;
            }
            ++out.trials;
            auto r = trial(t, candidates[i]);
            if (r) {
                pins[i] = *r;
            }
            return r.has_value();
        });
        if (result.found) {
            out.version = candidates[*result.found];
            out.pins = *pins[*result.found];
        } else if (result.stopped) {
            out.note = "the trials ran out of time (--trials-timeout " +
                       std::to_string(static_cast<int>(settings_.trials_timeout)) + " s)";
        } else {
            out.note =
                "no release of " + t.dist + " below " + t.installed + " makes the imports work";
        }
        return out;
    }

  private:
    void say(const std::string& s) {
        if (settings_.say) {
            settings_.say(s);
        }
    }

    std::vector<std::string> released_versions(const std::string& dist) {
        const ScratchDir s(root_, "trial-");
        const fs::path log = s.path() / "pip.log";
        std::vector<std::string> argv = {
            process::to_utf8(facts_.env->python), "-m",        "pip", "index", "versions", dist,
            "--disable-pip-version-check",        "--no-input"};
        const auto v = pep440::parse(pip_);
        const auto since = pep440::parse(kPipIndexJsonSince);
        if (v && since && pep440::compare(*v, *since) >= 0) {
            argv.push_back("--json");  // structured output; older pips print text only
        }
        run_bounded(argv, log, settings_.trial_timeout);
        return parse_index_versions(files::read_all(log));
    }

    // One trial: pip resolves dist==version against the rest (an installed dependent that it
    // would break joins the request by name), the result goes into a scratch folder, and the
    // failing imports run in a prepared child with that folder first on sys.path. The pins that
    // worked, or nullopt.
    std::optional<std::vector<std::string>> trial(const TrialTarget& t,
                                                  const std::string& version) {
        const auto t0 = Clock::now();
        const double limit = settings_.trial_timeout;
        FixRequest req;
        req.install = {t.dist + "==" + version};
        std::optional<Prediction> p;
        try {
            Plan plan =
                plan_keeping_dependents(*facts_.env, req, facts_.base_scan, facts_.markers, limit,
                                        root_, [&](const std::string& line) {
                                            say("trial: " + t.dist + " " + version + ": " + line);
                                        });
            if (!plan.unkept.empty()) {
                say("trial: " + t.dist + " " + version + " breaks " + plan.unkept.front().package +
                    ", and pip finds no release of it that fits");
                return std::nullopt;
            }
            p = std::move(plan.prediction);
        } catch (const LaunchError&) {
            say("trial: " + t.dist + " " + version + ": pip cannot resolve it with the rest");
            return std::nullopt;
        }
        const ScratchDir s(root_, "trial-");
        const fs::path target = s.path() / "site";
        const auto argv = target_install_argv(process::to_utf8(facts_.env->python),
                                              process::to_utf8(target), p->installs, true);
        auto status = run_bounded(argv, s.path() / "install.log", limit - since(t0));
        if (!status || *status != 0) {
            say("trial: " + t.dist + " " + version + ": could not be installed for the trial");
            return std::nullopt;
        }
        // The imports, in a child prepared as the launch, with the trial's folder first.
        const std::string code = imports_code({target}, facts_.root.root, t.imports);
        std::vector<std::string> run = settings_.launch_argv;
        run.insert(run.end(), {"python", "-c", code});
        status = run_bounded(run, s.path() / "imports.log", limit - since(t0));
        const bool ok = status && *status == 0;
        say("trial: " + t.dist + " " + version + ": the imports " +
            (ok       ? "work"
             : status ? "still fail"
                      : "ran out of time"));
        if (!ok) {
            return std::nullopt;
        }
        std::vector<std::string> pins;
        for (const auto& c : p->changes) {
            if (c.after) {
                pins.push_back(c.name + "==" + *c.after);
            }
        }
        return pins;
    }

    const TrialSettings& settings_;
    const DoctorFacts& facts_;
    std::string pip_;
    fs::path root_;  // where the scratch folders go (fix/state_dir.hpp)
    Clock::time_point start_;
};

}  // namespace

std::optional<int> run_bounded(const std::vector<std::string>& argv, const fs::path& log,
                               double limit_s) {
    process::Child child;
    std::string why;
    if (!child.start(argv, log, why)) {
        std::ofstream(log, std::ios::app) << "could not start: " << why << "\n";
        return std::nullopt;
    }
    const auto t0 = Clock::now();
    while (true) {
        if (auto status = child.wait_for(200)) {
            return status;
        }
        if (since(t0) > limit_s) {
            child.kill();
            return std::nullopt;
        }
    }
}

std::string py_literal(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\\' || c == '\'') {
            out += '\\';
        }
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "'";
}

std::string imports_code(const std::vector<fs::path>& first, const fs::path& root,
                         const std::vector<std::string>& statements) {
    std::string code = "import sys\nsys.path.insert(0, " + py_literal(root.string()) + ")\n";
    for (auto it = first.rbegin(); it != first.rend(); ++it) {
        code += "sys.path.insert(0, " + py_literal(process::to_utf8(*it)) + ")\n";
    }
    for (const auto& statement : statements) {
        code += statement + "\n";
    }
    return code;
}

std::vector<TrialOutcome> run_trial_fixes(const TrialSettings& settings, const DoctorFacts& facts,
                                          const std::string& pip_version) {
    std::vector<TrialOutcome> out;
    if (!facts.deep || !facts.env) {
        return out;
    }
    const InstalledModules modules = read_installed_modules(facts.scan, facts.env->site_packages);
    Trials trials(settings, facts, pip_version);
    for (const auto& target : trial_targets(*facts.deep, modules)) {
        out.push_back(trials.search(target));
    }
    return out;
}

}  // namespace alltalk::fix
