#include "explain_cmd.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/error.hpp"
#include "base/text.hpp"
#include "diagnose/doctor.hpp"
#include "diagnose/explain_text.hpp"
#include "discover/root.hpp"
#include "os/process.hpp"
#include "plan/resolve.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

// The text, or nullopt after saying why it could not be read.
std::optional<std::string> read_input(const std::string& file, const fs::path& cwd) {
    if (file == "-") {
        std::ostringstream s;
        s << std::cin.rdbuf();
        return s.str();
    }
    const fs::path path = absolute_from(process::from_utf8(file), cwd);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        std::fprintf(stderr,
                     "alltalk-launch: error: explain reads a file, and %s is a folder. Pass the "
                     "log or the saved console text (a .txt file), or - to read what you paste.\n",
                     path.string().c_str());
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr,
                     "alltalk-launch: error: could not open %s to explain it: check the name, or "
                     "pass - and paste the text (end it with Ctrl+D; on Windows Ctrl+Z, Enter).\n",
                     path.string().c_str());
        return std::nullopt;
    }
    std::string text;
    const auto size = fs::file_size(path, ec);
    if (!ec) {
        text.resize(static_cast<std::size_t>(size));
        in.read(text.data(), static_cast<std::streamsize>(size));
        text.resize(static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad() || ec) {
        std::fprintf(stderr, "alltalk-launch: error: could not read %s to the end.\n",
                     path.string().c_str());
        return std::nullopt;
    }
    return text;
}

// The server's env as the launch would choose it; nullopt where there is none to read.
std::optional<CommandResolution> find_env(const cli::Options& opts) {
    try {
        LaunchRequest request = opts.request;
        request.command = Command::Server;
        auto res = resolve_command(request, cli::discovery_inputs(opts), PlanContext{},
                                   EnvReading::Report);
        if (!res.env) {
            return std::nullopt;
        }
        return res;
    } catch (const LaunchError&) {
        return std::nullopt;
    }
}

}  // namespace

int run_explain_command(const cli::Options& opts) {
    const cli::ExplainOptions& ex = *opts.explain;
    const DiscoveryInputs in = cli::discovery_inputs(opts);
    auto raw = read_input(ex.file, in.cwd);
    if (!raw) {
        return 2;
    }
    const RuleSet& rules = builtin_rules();
    const std::string text = normalize_console_text(*raw);
    raw.reset();
    const PastedText pasted = read_pasted(text, failure_patterns(rules), condition_names(rules));

    std::optional<CommandResolution> env;
    if (!ex.no_env) {
        env = find_env(opts);
    }
    SiteScan scan;
    InstalledFacts facts;
    std::string python = "alltalk-launch python";  // runs in AllTalk's env, wherever it is
    std::string from = "text";
    if (env) {
        // The env's facts, as the doctor has them; what the text says is for text without one.
        scan = scan_site_packages(env->env->site_packages);
        facts = InstalledFacts{&scan, env->env->version.text, marker_env(*env->env),
                               env->env->platform};
        python = text::quote_arg(env->env->python.string(), env->env->platform);
        from = "env " + env->env->dir.string();
    } else {
        facts = facts_from_text(pasted.facts, scan);
    }
    const fs::path site = env ? env->env->site_packages : fs::path();
    const ModulesReader modules = [&] {
        return env ? read_installed_modules(scan, site) : InstalledModules{};
    };
    const TextReport report = explain_text(rules, pasted, facts, python, modules);
    const std::string source = ex.file == "-" ? "<stdin>" : ex.file;
    if (ex.json) {
        std::fputs(format_text_report_json(report, pasted.facts, from).c_str(), stdout);
    } else {
        std::fputs(format_text_report(report, source).c_str(), stdout);
        if (report.explained > 0) {
            std::fprintf(stdout, "alltalk-launch: explained %zu failure%s, judged with %s.\n",
                         report.explained, report.explained == 1 ? "" : "s",
                         env ? ("the installed versions of " + env->env->dir.string()).c_str()
                             : "what the text says (no AllTalk env here, or --no-env): where it "
                               "does not say, the explanation says what it assumes");
        }
    }
    if (report.explained == 0) {
        std::fprintf(stderr,
                     "alltalk-launch: recognised no failure in %s%s. To report it, attach the "
                     "text and the output of:\n    alltalk-launch doctor --report "
                     "alltalk-report.md\n",
                     source.c_str(), report.items.empty() ? "" : " (tracebacks found, none known)");
        return 1;
    }
    return 0;
}

}  // namespace alltalk
