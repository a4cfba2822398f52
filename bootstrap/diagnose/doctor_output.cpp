// The doctor's three outputs: text for people, JSON for tools (nlohmann/json), Markdown for bug
// reports with the user's home folder and name redacted.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/text.hpp"
#include "diagnose/doctor.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

const Severity kOrder[] = {Severity::Error, Severity::Warning, Severity::Info};

const char* heading(Severity s) {
    switch (s) {
        case Severity::Error:
            return "Errors";
        case Severity::Warning:
            return "Warnings";
        case Severity::Info:
            return "Notes";
    }
    return "";
}

std::size_t count(const DoctorResult& r, Severity s) {
    return static_cast<std::size_t>(std::count_if(
        r.findings.begin(), r.findings.end(), [&](const Finding& f) { return f.severity == s; }));
}

std::string summary(const DoctorResult& r) {
    return std::to_string(count(r, Severity::Error)) + " error(s), " +
           std::to_string(count(r, Severity::Warning)) + " warning(s), " +
           std::to_string(count(r, Severity::Info)) + " note(s)";
}

std::string command_list(const std::vector<Command>& commands, const char* sep = ", ") {
    std::string out;
    for (Command c : commands) {
        out += (out.empty() ? "" : sep) + std::string(to_string(c));
    }
    return out;
}

// "[finetune]" for a finding that concerns only some of the commands checked; else empty.
std::string tag(const DoctorResult& r, const Finding& f) {
    if (f.commands.empty() || std::all_of(r.commands.begin(), r.commands.end(), [&](Command c) {
            return std::find(f.commands.begin(), f.commands.end(), c) != f.commands.end();
        })) {
        return "";
    }
    return "[" + command_list(f.commands) + "] ";
}

std::string environment_line(const DoctorReport& c) {
    return c.python_prefix.string() + " (Python " + c.python_version +
           (c.env_source.empty() ? "" : ", from " + c.env_source) + ")";
}

// The non-default cuDNN and GPU settings of a check, "" when there are none.
std::string settings(const DoctorReport& c) {
    std::vector<std::string> items;
    if (c.cudnn_override) {
        items.push_back("cuDNN from " + c.cudnn_override->string() + " (" +
                        c.cudnn_override_source + ")");
    }
    if (!c.cudnn_majors.empty()) {
        std::string majors;
        for (int m : c.cudnn_majors) {
            majors += (majors.empty() ? "" : ", ") + std::to_string(m);
        }
        items.push_back("cudnn_majors [" + majors + "]");
    }
    if (c.cpu_only) {
        items.push_back("CPU only");
    }
    if (!c.gpu_check) {
        items.push_back("no GPU architecture check");
    }
    return text::join(items, "; ");
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    if (from.empty()) {
        return;
    }
    for (std::size_t at = s.find(from); at != std::string::npos;
         at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
    }
}

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", s);
    return buf;
}

// The further commands a deep check's child covered, as "finetune" or "a,b".
std::string also_names(const DeepCheck& d) {
    std::string out;
    for (const DeepAlso& a : d.also) {
        out += (out.empty() ? "" : ",") + a.command;
    }
    return out;
}

// doctor --deep: one line per step.
std::string deep_text(const DoctorReport& c, const std::string& indent) {
    const DeepCheck& d = *c.deep;
    std::string out = indent + "deep check:     " + std::to_string(d.steps.size()) +
                      " step(s) in a child prepared as `alltalk-launch " +
                      (c.commands.empty() ? "server" : to_string(c.commands.front())) + "`" +
                      (d.also.empty() ? "" : " (with " + also_names(d) + "'s imports)") + ", " +
                      seconds(d.seconds) + " in all (limit " +
                      std::to_string(static_cast<int>(d.timeout_s)) + " s per step)\n";
    if (d.launch_error) {
        out += indent + "  the launch failed before Python ran (see the errors below)\n";
    }
    for (const auto& s : d.steps) {
        std::string status = s.status == StepStatus::Ok         ? "ok"
                             : s.status == StepStatus::TimedOut ? "TIMED OUT"
                             : s.status == StepStatus::Crashed  ? "CRASHED"
                             : s.optional || s.conditional      ? "failed"
                                                                : "FAILED";
        status.resize(10, ' ');
        std::string time = seconds(s.seconds);
        time.insert(0, time.size() < 9 ? 9 - time.size() : 0, ' ');
        out += indent + "  " + status + time + "  " + s.name;
        if (!s.file.empty()) {
            out += "  (" + fs::path(s.file).filename().string() +
                   (s.line > 0 ? ":" + std::to_string(s.line) : "") + ")";
        }
        out += "\n";
    }
    return out;
}

}  // namespace

std::string format_text(const DoctorResult& r) {
    std::string out = "alltalk-launch doctor\n";
    const DoctorReport* first = r.checks.empty() ? nullptr : &r.checks.front();
    if (first) {
        out += "  AllTalk folder: " + first->root.string() + "\n";
    }
    for (const auto& c : r.checks) {
        std::string indent = "  ";
        if (r.checks.size() > 1) {
            out += "  " + command_list(c.commands) + ":\n";
            indent = "    ";
        }
        if (c.unresolved) {
            out += indent + "environment:    none (see the error below)\n";
            continue;
        }
        if (!c.python_prefix.empty()) {
            out += indent + "environment:    " + environment_line(c) + "\n";
        }
        out += indent + "distributions:  " + std::to_string(c.distributions) + " installed, " +
               std::to_string(c.check.conflicts.size()) + " requirement problem(s)\n";
        if (auto s = settings(c); !s.empty()) {
            out += indent + "settings:       " + s + "\n";
        }
        if (r.checks.size() == 1 && !c.commands.empty()) {
            out += indent + "checked for:    " + command_list(c.commands) +
                   (c.commands.size() > 1 ? " (the same environment and cuDNN setup)" : "") + "\n";
        }
        if (c.deep) {
            out += deep_text(c, indent);
        }
    }
    for (Severity s : kOrder) {
        if (count(r, s) == 0) {
            continue;
        }
        out += "\n" + std::string(heading(s)) + ":\n";
        for (const auto& f : r.findings) {
            if (f.severity != s) {
                continue;
            }
            out += "  [" + f.id + "] " + tag(r, f) + f.message + "\n";
            if (!f.fix.empty()) {
                out += "      fix: " + f.fix + "\n";
            }
        }
    }
    out += "\n" + summary(r) + ".\n";
    return out;
}

namespace {

// A fix as data (what `alltalk-launch fix` applies): empty lists and a null index_url where
// there is nothing of the kind.
nlohmann::json action_json(const FixAction& a) {
    return {{"remove", a.remove},
            {"install", a.install},
            {"index_url", a.index_url ? nlohmann::json(*a.index_url) : nlohmann::json(nullptr)},
            {"options", a.options},
            {"note", a.note},
            {"automatable", a.automatable()}};
}

nlohmann::json conflicts_json(const DoctorReport& c) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& x : c.check.conflicts) {
        nlohmann::json j = {{"package", x.package},
                            {"version", x.version},
                            {"requirement", x.requirement},
                            {"dependency", x.dependency}};
        j["installed"] = x.installed ? nlohmann::json(*x.installed) : nullptr;
        out.push_back(std::move(j));
    }
    return out;
}

nlohmann::json python_json(const DoctorReport& c) {
    return {{"version", c.python_version},
            {"prefix", c.python_prefix.string()},
            {"executable", c.python.string()}};
}

nlohmann::json deep_json(const DeepCheck& d) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : d.steps) {
        nlohmann::json j = {
            {"kind", s.kind},
            {"name", s.name},
            {"module", s.module},
            {"file", s.file},
            {"line", s.line},
            {"optional", s.optional},
            {"conditional", s.conditional},
            {"origin", s.origin.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.origin)},
            {"seconds", s.seconds},
            {"status", to_string(s.status)}};
        j["error"] = nullptr;
        if (s.status == StepStatus::Failed) {
            j["error"] = {{"type", s.failure.exception_type},
                          {"message", s.failure.message},
                          {"traceback", s.failure.traceback}};
        } else if (s.status == StepStatus::Crashed) {
            j["error"] = {{"exit_status", s.exit_status}};
        }
        j["explanation"] = nullptr;
        if (s.explanation) {
            j["explanation"] = {{"id", s.explanation->id},
                                {"message", s.explanation->message},
                                {"fix", s.explanation->fix},
                                {"action", action_json(s.explanation->action)}};
        }
        steps.push_back(std::move(j));
    }
    return {{"timeout", d.timeout_s},
            {"seconds", d.seconds},
            {"launch_error",
             d.launch_error ? nlohmann::json(*d.launch_error) : nlohmann::json(nullptr)},
            {"also", text::split_nonempty(also_names(d), ',')},
            {"imports", std::move(steps)}};
}

nlohmann::json commands_json(const std::vector<Command>& commands) {
    nlohmann::json out = nlohmann::json::array();
    for (Command c : commands) {
        out.push_back(to_string(c));
    }
    return out;
}

// One command's check: its env's facts and settings (the same object for commands that share it).
nlohmann::json check_json(const DoctorReport& c) {
    nlohmann::json j;
    if (c.unresolved) {
        j["error"] = {{"what", c.unresolved->what},
                      {"tried", c.unresolved->tried},
                      {"fix", c.unresolved->fix}};
        return j;
    }
    j["python"] = python_json(c);
    j["env_source"] = c.env_source;
    j["distributions"] = c.distributions;
    j["conflicts"] = conflicts_json(c);
    j["cudnn"] = {{"override", c.cudnn_override ? nlohmann::json(c.cudnn_override->string())
                                                : nlohmann::json(nullptr)},
                  {"override_source", c.cudnn_override_source},
                  {"majors", c.cudnn_majors}};
    j["cpu"] = c.cpu_only;
    j["gpu_check"] = c.gpu_check;
    j["checked_with"] = commands_json(c.commands);
    if (c.deep) {
        j["deep"] = deep_json(*c.deep);
    }
    return j;
}

}  // namespace

std::string format_json(const DoctorResult& r) {
    nlohmann::json j;
    // The first check's facts at the top level, as before there were several.
    static const DoctorReport none;
    const DoctorReport& first = r.checks.empty() ? none : r.checks.front();
    j["python"] = python_json(first);
    j["root"] = first.root.string();
    j["distributions"] = first.distributions;
    j["conflicts"] = conflicts_json(first);
    if (first.deep) {
        j["deep"] = deep_json(*first.deep);  // the first command's; each is under "commands"
    }
    // Every check's findings, each once, with the commands it concerns.
    j["findings"] = nlohmann::json::array();
    for (const auto& f : r.findings) {
        j["findings"].push_back({{"id", f.id},
                                 {"severity", to_string(f.severity)},
                                 {"message", f.message},
                                 {"fix", f.fix},
                                 {"action", action_json(f.action)},
                                 {"commands", commands_json(f.commands)}});
    }
    j["commands"] = nlohmann::json::object();
    for (const auto& c : r.checks) {
        for (Command cmd : c.commands) {
            j["commands"][to_string(cmd)] = check_json(c);
        }
    }
    // Invalid UTF-8 in a path or metadata must not abort the output.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string format_markdown(const DoctorResult& r, const std::string& home,
                            const std::string& user) {
    std::string out = "# alltalk-launch doctor report\n\n";
    out += "| | |\n|---|---|\n";
    if (!r.checks.empty()) {
        out += "| AllTalk folder | `" + r.checks.front().root.string() + "` |\n";
    }
    for (const auto& c : r.checks) {
        const std::string of = r.checks.size() > 1 ? " (" + command_list(c.commands) + ")" : "";
        if (c.unresolved) {
            out += "| Environment" + of + " | none: " + c.unresolved->what + " |\n";
            continue;
        }
        out += "| Environment" + of + " | `" + c.python_prefix.string() + "` (from " +
               c.env_source + ") |\n";
        out += "| Python" + of + " | " + c.python_version + " |\n";
        out += "| Distributions" + of + " | " + std::to_string(c.distributions) + " |\n";
        if (auto s = settings(c); !s.empty()) {
            out += "| Settings" + of + " | " + s + " |\n";
        }
        if (c.deep) {
            const auto bad =
                std::count_if(c.deep->steps.begin(), c.deep->steps.end(),
                              [](const DeepStep& s) { return s.status != StepStatus::Ok; });
            out += "| Deep check" + of + " | " + std::to_string(c.deep->steps.size()) +
                   " import(s), " + std::to_string(bad) + " not ok, " + seconds(c.deep->seconds) +
                   " |\n";
        }
    }
    out += "| Checked for | " + command_list(r.commands) + " |\n";
    out += "| Result | " + summary(r) + " |\n";
    for (Severity s : kOrder) {
        if (count(r, s) == 0) {
            continue;
        }
        out += "\n## " + std::string(heading(s)) + "\n\n";
        for (const auto& f : r.findings) {
            if (f.severity == s) {
                out += "- **" + f.id + "**: " + tag(r, f) + f.message + "\n";
                if (!f.fix.empty()) {
                    out += "  - fix: `" + f.fix + "`\n";
                }
            }
        }
    }
    for (const auto& c : r.checks) {
        if (c.check.conflicts.empty()) {
            continue;
        }
        out += "\n## Requirement problems (as `pip check` reports them)" +
               (r.checks.size() > 1 ? " for " + command_list(c.commands) : std::string()) + "\n\n";
        for (const auto& x : c.check.conflicts) {
            out += "- " + x.package + " " + x.version + " requires `" + x.requirement + "`: " +
                   (x.installed ? "installed " + *x.installed : std::string("not installed")) +
                   "\n";
        }
    }
    // Redact: the home folder first (it usually contains the user name), then the name itself.
    replace_all(out, home, "~");
    if (user.size() >= 3) {
        replace_all(out, user, "<user>");
    }
    return out;
}

}  // namespace alltalk
