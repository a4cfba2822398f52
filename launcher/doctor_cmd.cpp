#include "doctor_cmd.hpp"

#include <cstdio>
#include <fstream>

#include "base/error.hpp"
#include "base/text.hpp"
#include "diagnose/deep_run.hpp"
#include "diagnose/doctor.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

// Writes one of the doctor's outputs to a file; false (with the reason on stderr) when it could
// not.
bool write_output(const fs::path& file, const std::string& text, const char* what,
                  const char* option) {
    std::ofstream out(file, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
        std::fprintf(stderr,
                     "alltalk-launch: error: could not write %s to %s: check that its folder "
                     "exists and is writable, or pass another %s FILE.\n",
                     what, file.string().c_str(), option);
        return false;
    }
    return true;
}

}  // namespace

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
            const auto argv = cli::launch_options_argv(opts, in.cwd);
            for (auto& f : facts) {
                add_deep_check(argv, opts.doctor->deep_timeout, f);
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
        std::string home =
            lookup(in.env_vars, "HOME").value_or(lookup(in.env_vars, "USERPROFILE").value_or(""));
        std::string user =
            lookup(in.env_vars, "USER").value_or(lookup(in.env_vars, "USERNAME").value_or(""));
        const fs::path file = absolute_from(*opts.doctor->report, in.cwd);
        if (!write_output(file, format_markdown(result, home, user), "the report", "--report")) {
            return 2;
        }
        std::fprintf(stderr, "alltalk-launch: report written to %s\n", file.string().c_str());
    }
    if (opts.doctor->json_file && !write_output(absolute_from(*opts.doctor->json_file, in.cwd),
                                                format_json(result), "the JSON", "--json-file")) {
        return 2;
    }
    return result.has_errors() ? 1 : 0;
}

}  // namespace alltalk
