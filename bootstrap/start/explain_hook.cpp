#include "start/explain_hook.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

#include "embed/embed_abi.h"

#include "base/text.hpp"
#include "diagnose/doctor.hpp"
#include "diagnose/explain.hpp"
#include "diagnose/explain_text.hpp"
#include "os/process.hpp"

namespace alltalk {

namespace {

const LaunchPlan* g_plan = nullptr;

// The variables that rules test ("$A|B"), as this process (the app) has them.
EnvMap condition_environment() {
    EnvMap out;
    for (const auto& name : condition_variables(builtin_rules())) {
        if (const char* v = std::getenv(name.c_str())) {
            out[name] = v;
        }
    }
    return out;
}

// The key ("" when nothing is known) and the text to print ("" when nothing is to be said).
std::pair<std::string, std::string> explain_for(const LaunchPlan& plan, const FailureInfo& failure,
                                                bool logged) {
    if (failure.line_only) {
        // A logged line: nothing to say unless a rule's pattern is in it, which is decided
        // before site-packages is read (every logged error comes here).
        static const std::vector<std::string> patterns = failure_patterns(builtin_rules());
        if (std::none_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
                return failure.message.find(p) != std::string::npos;
            })) {
            return {"", ""};
        }
    }
    const SiteScan scan = scan_site_packages(plan.env.site_packages);
    const EnvMap env_vars = condition_environment();
    InstalledFacts facts{&scan, plan.env.version.text, marker_env(plan.env), plan.env.platform,
                         &env_vars};
    const std::string python = text::quote_arg(plan.env.python.string(), plan.env.platform);
    const ModulesReader modules = [&] {
        return read_installed_modules(scan, plan.env.site_packages);
    };
    const FailureInfo f = complete_failure(failure);
    if (f.line_only) {
        if (auto e = explain_known(builtin_rules(), f, facts, python, {})) {
            return {e->key, format_explanation(*e)};
        }
        return {"", ""};
    }
    // The chain (__cause__ / __context__) as the traceback text shows it: the cause may be what
    // a rule knows, the last exception only what the handler of it did next.
    const std::vector<PastedException> chain = traceback_chain(f.traceback);
    if (auto c = explain_chain(builtin_rules(), chain, f, facts, python, modules)) {
        const std::string cause = chain_cause_text(chain, c->index);
        return {c->explanation.key, (cause.empty() ? "" : "alltalk-launch: " + cause + "\n") +
                                        format_explanation(c->explanation)};
    }
    return {"", logged ? "" : explain_failure(builtin_rules(), f, facts, python)};
}

}  // namespace

void set_explain_plan(const LaunchPlan& plan) {
    g_plan = &plan;
}

std::size_t explain_exception_callback(const char* exception_type, const char* message,
                                       const char* traceback, int flags, char* out,
                                       std::size_t out_size) {
    if (!g_plan || !out || out_size == 0) {
        return 0;
    }
    try {
        FailureInfo f;
        f.exception_type = exception_type ? exception_type : "";
        f.message = message ? message : "";
        f.traceback = traceback ? traceback : "";
        f.line_only = (flags & ALLTALK_EXPLAIN_LINE) != 0;
        if (f.line_only) {
            f.message = f.traceback;
        }
        const auto [key, note] = explain_for(*g_plan, f, (flags & ALLTALK_EXPLAIN_LOGGED) != 0);
        if (note.empty()) {
            return 0;
        }
        const std::string text = key + "\n" + note;
        const std::size_t n = std::min(text.size(), out_size - 1);
        std::memcpy(out, text.data(), n);
        out[n] = '\0';
        return n;
    } catch (const std::exception&) {
        return 0;  // never turn the app's failure into a launcher failure
    }
}

std::string explain_crash(const LaunchPlan& plan, const FailureInfo& crash) {
    FailureInfo f;
    f.signal = crash.signal;
    f.exception_code = crash.exception_code;
    // What the app printed before it died, where stderr is a file that can be read back.
    f.stderr_tail = process::stderr_file_tail(64 * 1024);
    const SiteScan scan = scan_site_packages(plan.env.site_packages);
    InstalledFacts facts{&scan, plan.env.version.text, marker_env(plan.env), plan.env.platform};
    return explain_failure(builtin_rules(), f, facts,
                           text::quote_arg(plan.env.python.string(), plan.env.platform));
}

}  // namespace alltalk
