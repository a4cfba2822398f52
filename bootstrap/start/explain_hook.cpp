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
    const SiteScan scan = scan_site_packages(plan.env.site_packages);
    const EnvMap env_vars = condition_environment();
    InstalledFacts facts{&scan, plan.env.version.text, marker_env(plan.env), plan.env.platform,
                         &env_vars};
    const std::string python = text::quote_arg(plan.env.python.string(), plan.env.platform);
    const ModulesReader modules = [&] {
        return read_installed_modules(scan, plan.env.site_packages);
    };
    const FailureInfo f = complete_failure(failure);
    if (auto e = explain_known(builtin_rules(), f, facts, python, modules)) {
        return {e->key, format_explanation(*e)};
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
    const SiteScan scan = scan_site_packages(plan.env.site_packages);
    InstalledFacts facts{&scan, plan.env.version.text, marker_env(plan.env), plan.env.platform};
    return explain_failure(builtin_rules(), f, facts,
                           text::quote_arg(plan.env.python.string(), plan.env.platform));
}

}  // namespace alltalk
