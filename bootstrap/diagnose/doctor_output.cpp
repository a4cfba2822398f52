// The doctor's three outputs: text for people, JSON for tools (nlohmann/json), Markdown for bug
// reports with the user's home folder and name redacted.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "diagnose/doctor.hpp"

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

std::size_t count(const DoctorReport& r, Severity s) {
    return static_cast<std::size_t>(std::count_if(
        r.findings.begin(), r.findings.end(), [&](const Finding& f) { return f.severity == s; }));
}

std::string summary(const DoctorReport& r) {
    return std::to_string(count(r, Severity::Error)) + " error(s), " +
           std::to_string(count(r, Severity::Warning)) + " warning(s), " +
           std::to_string(count(r, Severity::Info)) + " note(s)";
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

}  // namespace

std::string format_text(const DoctorReport& r) {
    std::string out = "alltalk-launch doctor\n";
    out += "  AllTalk folder: " + r.root.string() + "\n";
    if (!r.python_prefix.empty()) {
        out += "  environment:    " + r.python_prefix.string() + " (Python " + r.python_version +
               ")\n";
    }
    out += "  distributions:  " + std::to_string(r.distributions) + " installed, " +
           std::to_string(r.check.conflicts.size()) + " requirement problem(s)\n";
    for (Severity s : kOrder) {
        if (count(r, s) == 0) {
            continue;
        }
        out += "\n" + std::string(heading(s)) + ":\n";
        for (const auto& f : r.findings) {
            if (f.severity != s) {
                continue;
            }
            out += "  [" + f.id + "] " + f.message + "\n";
            if (!f.fix.empty()) {
                out += "      fix: " + f.fix + "\n";
            }
        }
    }
    out += "\n" + summary(r) + ".\n";
    return out;
}

std::string format_json(const DoctorReport& r) {
    nlohmann::json j;
    j["python"] = {{"version", r.python_version},
                   {"prefix", r.python_prefix.string()},
                   {"executable", r.python.string()}};
    j["root"] = r.root.string();
    j["distributions"] = r.distributions;
    j["conflicts"] = nlohmann::json::array();
    for (const auto& c : r.check.conflicts) {
        nlohmann::json x = {{"package", c.package},
                            {"version", c.version},
                            {"requirement", c.requirement},
                            {"dependency", c.dependency}};
        x["installed"] = c.installed ? nlohmann::json(*c.installed) : nullptr;
        j["conflicts"].push_back(std::move(x));
    }
    j["findings"] = nlohmann::json::array();
    for (const auto& f : r.findings) {
        j["findings"].push_back({{"id", f.id},
                                 {"severity", to_string(f.severity)},
                                 {"message", f.message},
                                 {"fix", f.fix}});
    }
    // Invalid UTF-8 in a path or metadata must not abort the output.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string format_markdown(const DoctorReport& r, const std::string& home,
                            const std::string& user) {
    std::string out = "# alltalk-launch doctor report\n\n";
    out += "| | |\n|---|---|\n";
    out += "| AllTalk folder | `" + r.root.string() + "` |\n";
    out += "| Environment | `" + r.python_prefix.string() + "` |\n";
    out += "| Python | " + r.python_version + " |\n";
    out += "| Distributions | " + std::to_string(r.distributions) + " |\n";
    out += "| Result | " + summary(r) + " |\n";
    for (Severity s : kOrder) {
        if (count(r, s) == 0) {
            continue;
        }
        out += "\n## " + std::string(heading(s)) + "\n\n";
        for (const auto& f : r.findings) {
            if (f.severity == s) {
                out += "- **" + f.id + "**: " + f.message + "\n";
                if (!f.fix.empty()) {
                    out += "  - fix: `" + f.fix + "`\n";
                }
            }
        }
    }
    if (!r.check.conflicts.empty()) {
        out += "\n## Requirement problems (as `pip check` reports them)\n\n";
        for (const auto& c : r.check.conflicts) {
            out += "- " + c.package + " " + c.version + " requires `" + c.requirement + "`: " +
                   (c.installed ? "installed " + *c.installed : std::string("not installed")) +
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
