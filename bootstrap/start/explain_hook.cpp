#include "start/explain_hook.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

#include "base/text.hpp"
#include "diagnose/doctor.hpp"
#include "diagnose/explain.hpp"

namespace alltalk {

namespace {

const LaunchPlan* g_plan = nullptr;

std::string explain_for(const LaunchPlan& plan, const FailureInfo& failure) {
    const SiteScan scan = scan_site_packages(plan.env.site_packages);
    InstalledFacts facts{&scan, plan.env.version.text, marker_env(plan.env), plan.env.platform};
    return explain_failure(builtin_rules(), failure, facts,
                           text::quote_arg(plan.env.python.string(), plan.env.platform));
}

}  // namespace

void set_explain_plan(const LaunchPlan& plan) {
    g_plan = &plan;
}

std::size_t explain_exception_callback(const char* exception_type, const char* message,
                                       const char* traceback, char* out, std::size_t out_size) {
    if (!g_plan || !out || out_size == 0) {
        return 0;
    }
    try {
        FailureInfo f;
        f.exception_type = exception_type ? exception_type : "";
        f.message = message ? message : "";
        f.traceback = traceback ? traceback : "";
        const std::string text = explain_for(*g_plan, f);
        const std::size_t n = std::min(text.size(), out_size - 1);
        std::memcpy(out, text.data(), n);
        out[n] = '\0';
        return n;
    } catch (const std::exception&) {
        return 0;  // never turn the app's failure into a launcher failure
    }
}

std::string explain_signal(const LaunchPlan& plan, int signal) {
    FailureInfo f;
    f.signal = signal;
    return explain_for(plan, f);
}

}  // namespace alltalk
