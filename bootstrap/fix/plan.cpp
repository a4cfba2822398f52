#include "fix/plan.hpp"

#include <algorithm>
#include <set>

#include "base/error.hpp"
#include "base/text.hpp"

namespace alltalk::fix {

namespace {

void add_unique(std::vector<std::string>& to, const std::string& item) {
    if (std::find(to.begin(), to.end(), item) == to.end()) {
        to.push_back(item);
    }
}

void add_action(FixRequest& r, const FixAction& a, const std::string& id) {
    if (a.index_url) {
        if (r.index_url && *r.index_url != *a.index_url) {
            throw LaunchError(
                Stage::Fix,
                ErrorText{"The selected fixes need two package indexes at once (" + *r.index_url +
                              " and " + *a.index_url + "), which one pip run cannot use.",
                          "", "Apply them one at a time: alltalk-launch fix --only " + id});
        }
        r.index_url = a.index_url;
    }
    for (const auto& x : a.remove) {
        add_unique(r.remove, x);
    }
    for (const auto& x : a.install) {
        add_unique(r.install, x);
    }
    for (const auto& x : a.options) {
        add_unique(r.options, x);
    }
    add_unique(r.from, id);
}

std::string ids_of(const std::vector<Finding>& findings) {
    std::vector<std::string> ids;
    for (const auto& f : findings) {
        add_unique(ids, f.id);
    }
    return ids.empty() ? "none" : text::join(ids, ", ");
}

}  // namespace

FixRequest collect(const std::vector<Finding>& findings, const std::vector<std::string>& only,
                   const std::optional<std::string>& profile, const RuleSet& rules) {
    FixRequest r;
    if (profile) {
        const Profile* p = nullptr;
        std::vector<std::string> names;
        for (const auto& candidate : rules.profiles) {
            names.push_back(candidate.id);
            if (candidate.id == *profile) {
                p = &candidate;
            }
        }
        if (!p) {
            throw LaunchError(
                Stage::Fix,
                ErrorText{"There is no profile \"" + *profile + "\".",
                          "the profiles are " + text::join(names, ", "),
                          "Name one of them: alltalk-launch fix --profile " + names.front()});
        }
        for (const auto& e : p->expect) {
            add_unique(r.install, e);
        }
        r.from.push_back("profile-" + p->id);
    }
    std::set<std::string> wanted(only.begin(), only.end());
    for (const auto& id : only) {
        const bool found = std::any_of(findings.begin(), findings.end(),
                                       [&](const Finding& f) { return f.id == id; });
        if (!found) {
            const bool known =
                std::any_of(rules.rules.begin(), rules.rules.end(),
                            [&](const Rule& rule) { return rule.id == id; }) ||
                std::any_of(rules.profiles.begin(), rules.profiles.end(),
                            [&](const Profile& p) { return "profile-" + p.id == id; });
            throw LaunchError(
                Stage::Fix,
                ErrorText{known ? "The doctor finds no \"" + id +
                                      "\" in this env, so there is "
                                      "nothing of it to fix."
                                : "\"" + id + "\" is not the id of a finding or a rule.",
                          "the findings here: " + ids_of(findings),
                          "Run alltalk-launch doctor to see the findings and their ids, and "
                          "pass those to --only."});
        }
    }
    if (profile && only.empty()) {
        return r;
    }
    for (const auto& f : findings) {
        const bool selected = wanted.empty() ? f.severity != Severity::Info : wanted.count(f.id);
        if (!selected) {
            continue;
        }
        if (f.action.automatable()) {
            add_action(r, f.action, f.id);
        } else if (!f.fix.empty() || !f.action.note.empty()) {
            r.manual.push_back(f);
        }
    }
    return r;
}

std::vector<std::string> dry_run_argv(const std::string& python, const FixRequest& r,
                                      const std::string& report) {
    std::vector<std::string> argv = {
        python,     "-m",   "pip",     "install",    "--dry-run",
        "--report", report, "--quiet", "--no-input", "--disable-pip-version-check"};
    argv.insert(argv.end(), r.options.begin(), r.options.end());
    if (r.index_url) {
        argv.insert(argv.end(), {"--index-url", *r.index_url});
    }
    argv.insert(argv.end(), r.install.begin(), r.install.end());
    return argv;
}

std::optional<std::vector<std::string>> uninstall_argv(const std::string& python,
                                                       const FixRequest& r) {
    if (r.remove.empty()) {
        return std::nullopt;
    }
    std::vector<std::string> argv = {
        python, "-m", "pip", "uninstall", "-y", "--no-input", "--disable-pip-version-check"};
    argv.insert(argv.end(), r.remove.begin(), r.remove.end());
    return argv;
}

std::vector<std::string> install_argv(const std::string& python, const FixRequest& r,
                                      const std::string& constraints,
                                      const std::optional<std::string>& uv) {
    std::vector<std::string> argv;
    if (uv) {
        argv = {*uv, "pip", "install", "--python", python};
    } else {
        argv = {python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check"};
    }
    argv.insert(argv.end(), r.options.begin(), r.options.end());
    if (r.index_url) {
        argv.insert(argv.end(), {"--index-url", *r.index_url});
    }
    argv.insert(argv.end(), {"-c", constraints});
    argv.insert(argv.end(), r.install.begin(), r.install.end());
    return argv;
}

std::vector<std::string> target_install_argv(const std::string& python, const std::string& dir,
                                             const std::vector<std::string>& pins, bool quiet) {
    std::vector<std::string> argv = {
        python, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check"};
    if (quiet) {
        argv.push_back("--quiet");
    }
    argv.insert(argv.end(), {"--target", dir});
    argv.insert(argv.end(), pins.begin(), pins.end());
    return argv;
}

std::string constraints_text(const std::vector<std::string>& installs) {
    std::string out;
    for (const auto& x : installs) {
        out += x + "\n";
    }
    return out;
}

}  // namespace alltalk::fix
