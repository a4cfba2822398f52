#include "doctor_cmd.hpp"

#include <cstdio>
#include <fstream>

#include "base/error.hpp"
#include "base/text.hpp"
#include "deep_check.hpp"
#include "diagnose/doctor.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk {

// doctor --deep for one check: its first command, launched as that command is (deep_check.hpp),
// for an env that the launch can start; each failure explained as after a traceback.
void add_deep_check(const cli::Options& opts, DoctorFacts& f) {
    if (f.unresolved || !f.env || !f.env_error.what.empty() || f.commands.empty()) {
        return;  // the launch cannot start it: the doctor's own findings say why
    }
    const int gpus = f.gpus && !f.cpu_only ? static_cast<int>(f.gpus->devices.size()) : 0;
    f.deep = run_deep_check(opts, f.commands.front(), gpus);
    const InstalledFacts installed{&f.scan, f.env->version.text, f.markers, f.platform};
    const std::string python = text::quote_arg(f.env->python.string(), f.platform);
    const SiteScan& scan = f.scan;
    const fs::path site = f.env->site_packages;
    explain_steps(*f.deep, builtin_rules(), installed, python,
                  [&] { return read_installed_modules(scan, site); });
}

int run_doctor(const cli::Options& opts) {
    const DiscoveryInputs in = cli::discovery_inputs(opts);

    // The commands' own resolutions (plan/resolve.hpp), with the launch's --cudnn, --cpu and
    // --no-gpu-check.
    DoctorRequest request;
    if (opts.doctor->command) {
        request.commands = {*opts.doctor->command};
    }
    request.overrides = opts.request;
    DoctorResult result;
    try {
        std::vector<DoctorFacts> facts = gather_doctor_facts(request, in, PlanContext{});
        if (opts.doctor->deep) {
            for (auto& f : facts) {
                add_deep_check(opts, f);
            }
        }
        result = diagnose_all(facts, builtin_rules());
    } catch (const LaunchError& e) {
        std::fprintf(stderr, "alltalk-launch: error: the doctor could not run: %s\n", e.what());
        return 2;
    }
    const std::string text = opts.doctor->json ? format_json(result) : format_text(result);
    std::fputs(text.c_str(), stdout);
    if (opts.doctor->report) {
        const fs::path file = absolute_from(*opts.doctor->report, in.cwd);
        std::string home =
            lookup(in.env_vars, "HOME").value_or(lookup(in.env_vars, "USERPROFILE").value_or(""));
        std::string user =
            lookup(in.env_vars, "USER").value_or(lookup(in.env_vars, "USERNAME").value_or(""));
        std::ofstream out(file, std::ios::binary);
        out << format_markdown(result, home, user);
        out.close();
        if (!out) {
            std::fprintf(stderr,
                         "alltalk-launch: error: could not write the report to %s: check that "
                         "its folder exists and is writable, or pass another --report FILE.\n",
                         file.string().c_str());
            return 2;
        }
        std::fprintf(stderr, "alltalk-launch: report written to %s\n", file.string().c_str());
    }
    return result.has_errors() ? 1 : 0;
}

}  // namespace alltalk
