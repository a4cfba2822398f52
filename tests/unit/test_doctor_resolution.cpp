// The doctor checks what the launch runs: for each command, on the same inputs, the doctor's facts
// have the env, the cuDNN choice and needs, the override and the cpu / gpu_check settings that
// make_plan decides (both come from plan/resolve.hpp).
#include <doctest/doctest.h>

#include <algorithm>

#include "diagnose/doctor.hpp"
#include "plan/plan.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

namespace {

using test::kCudnn8Linux;
using test::kCudnn9Linux;

// An AllTalk root whose server env has torch with its cuDNN 9 wheel, and whose finetune env
// (`[finetune] env`) has ctranslate2 4.4.0 (cuDNN 8), no cuDNN of its own and coqui-tts without
// its anyascii; `[native] cudnn`
// names a folder with cuDNN 8, and `cudnn_majors = [8]` adds cuDNN 8 to the server's needs.
struct Fixture {
    test::TempDir tmp;
    fs::path root = tmp.path() / "alltalk_tts";
    fs::path server_env = root / "alltalk_environment" / "env";
    fs::path finetune_env = root / "finetune_env";
    fs::path configured_cudnn = tmp.path() / "cudnn 8.9" / "lib";
    fs::path other_cudnn = tmp.path() / "other cudnn";
    DiscoveryInputs in;
    PlanContext ctx;

    Fixture() {
        test::make_root(root);
        test::make_prefix(server_env);
        test::make_prefix(finetune_env);
        const fs::path server_site = server_env / "lib" / "python3.11" / "site-packages";
        test::write_dist(server_site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
        test::write_dist(server_site, "nvidia-cudnn-cu12", "9.1.0.70");
        test::write_files(server_site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
        const fs::path ft_site = finetune_env / "lib" / "python3.11" / "site-packages";
        test::write_dist(ft_site, "ctranslate2", "4.4.0");
        test::write_dist(ft_site, "coqui-tts", "0.24.3", {"anyascii>=0.3.0"});
        test::write_files(configured_cudnn, kCudnn8Linux);
        test::write_files(other_cudnn, kCudnn8Linux);
        config("");
        in.cwd = tmp.path();
        in.root_option = root;
        in.exe = tmp.path() / "bin" / "alltalk-launch";
        in.env_vars = {{"PATH", "/usr/bin"}};
        ctx.want = PythonVersion{3, 11, "3.11"};
        ctx.runtime_dir = tmp.path() / "run";
        ctx.system_library_dirs.emplace();  // no system cuDNN: only the env's and the configured
    }

    void config(const std::string& more) {
        test::write(root / "alltalk-launch.toml",
                    "[finetune]\nenv = \"finetune_env\"\n[native]\ncudnn = \"" +
                        configured_cudnn.string() + "\"\ncudnn_majors = [8]\n" + more);
    }

    LaunchPlan plan(Command c, LaunchRequest overrides = {}) {
        overrides.command = c;
        return make_plan(overrides, in, ctx);
    }

    std::vector<DoctorFacts> doctor(std::vector<Command> commands, LaunchRequest overrides = {}) {
        DoctorRequest r;
        r.commands = std::move(commands);
        r.overrides = std::move(overrides);
        return gather_doctor_facts(r, in, ctx);
    }
};

std::vector<std::string> choices(const NativeDecision& d) {
    std::vector<std::string> out;
    for (const auto& c : d.choices) {
        out.push_back(std::to_string(c.major) + " " + c.candidate.dir.string() + " " + c.why);
    }
    return out;
}

std::vector<std::string> needs(const NativeDecision& d) {
    std::vector<std::string> out;
    for (const auto& n : d.needs) {
        out.push_back(std::to_string(n.major) + " " + n.who);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<int> missing(const NativeDecision& d) {
    std::vector<int> out;
    for (const auto& m : d.missing) {
        out.push_back(m.major);
    }
    return out;
}

// What the launch decides for `c` equals what the doctor's facts say.
void same_decisions(const LaunchPlan& p, const DoctorFacts& f) {
    REQUIRE(f.env_dir);
    CHECK(*f.env_dir == p.env.dir);
    REQUIRE(f.env);
    CHECK(f.env->dir == p.env.dir);
    CHECK(f.env_source == p.env_choice.source);
    REQUIRE(f.native);
    CHECK(choices(*f.native) == choices(p.native));
    CHECK(needs(*f.native) == needs(p.native));
    CHECK(missing(*f.native) == missing(p.native));
    CHECK(f.native->override_problem == p.native.override_problem);
    CHECK(f.cpu_only == p.cpu_only);
    CHECK(f.gpu_check == p.gpu_check);
}

}  // namespace

TEST_CASE("doctor and launch: the same env, cuDNN choice and settings for each command") {
    Fixture f;
    for (Command c : {Command::Server, Command::Finetune}) {
        CAPTURE(to_string(c));
        const LaunchPlan p = f.plan(c);
        const std::vector<DoctorFacts> facts = f.doctor({c});
        REQUIRE(facts.size() == 1);
        CHECK(facts[0].commands == std::vector<Command>{c});
        same_decisions(p, facts[0]);
        CHECK(*facts[0].cudnn_override == f.configured_cudnn);
        CHECK(facts[0].cudnn_majors == std::vector<int>{8});
    }
    // Not only equal, but right: finetune runs in its own env, and [native] cudnn serves cuDNN 8.
    const LaunchPlan server = f.plan(Command::Server);
    const LaunchPlan finetune = f.plan(Command::Finetune);
    CHECK(server.env.dir == f.server_env);
    CHECK(finetune.env.dir == f.finetune_env);
    const std::vector<DoctorFacts> ft = f.doctor({Command::Finetune});
    REQUIRE(ft[0].native);
    REQUIRE(ft[0].native->choices.size() == 1);
    CHECK(ft[0].native->choices[0].major == 8);
    CHECK(ft[0].native->choices[0].candidate.dir == f.configured_cudnn);
    CHECK(ft[0].native->choices[0].why.find("[native] cudnn") != std::string::npos);
    const std::vector<std::string> ft_needs = needs(*ft[0].native);
    CHECK(std::find(ft_needs.begin(), ft_needs.end(), "8 ctranslate2 4.4.0") != ft_needs.end());
    const std::vector<DoctorFacts> sv = f.doctor({Command::Server});
    REQUIRE(sv[0].native);
    REQUIRE(sv[0].native->choices.size() == 2);  // 8 from [native] cudnn, 9 the env's wheel
    CHECK(sv[0].native->choices[1].candidate.dir ==
          f.server_env / "lib" / "python3.11" / "site-packages" / "nvidia" / "cudnn" / "lib");
}

TEST_CASE("doctor and launch: --cudnn, --cpu and --no-gpu-check, and [native] cpu / gpu_check") {
    Fixture f;
    LaunchRequest overrides;
    overrides.cudnn = f.other_cudnn;
    overrides.cpu = true;
    overrides.no_gpu_check = true;
    for (Command c : {Command::Server, Command::Finetune}) {
        CAPTURE(to_string(c));
        const LaunchPlan p = f.plan(c, overrides);
        const std::vector<DoctorFacts> facts = f.doctor({c}, overrides);
        REQUIRE(facts.size() == 1);
        same_decisions(p, facts[0]);
        CHECK(facts[0].cpu_only);
        CHECK_FALSE(facts[0].gpu_check);
        CHECK(*facts[0].cudnn_override == f.other_cudnn);  // --cudnn wins over [native] cudnn
        CHECK(facts[0].cudnn_override_source == "--cudnn");
        CHECK_FALSE(facts[0].gpus);  // --cpu: the launch probes no GPU, nor does the doctor
        REQUIRE(facts[0].native);
        CHECK(facts[0].native->choices.front().candidate.dir == f.other_cudnn);
    }
    f.config("cpu = true\ngpu_check = false\n");
    for (Command c : {Command::Server, Command::Finetune}) {
        CAPTURE(to_string(c));
        const LaunchPlan p = f.plan(c);
        const std::vector<DoctorFacts> facts = f.doctor({c});
        REQUIRE(facts.size() == 1);
        same_decisions(p, facts[0]);
        CHECK(p.cpu_only);
        CHECK_FALSE(p.gpu_check);
    }
}

TEST_CASE("the default doctor checks finetune separately only when it resolves differently") {
    Fixture f;
    std::vector<DoctorFacts> facts = f.doctor({});
    REQUIRE(facts.size() == 2);
    CHECK(facts[0].commands == std::vector<Command>{Command::Server});
    CHECK(facts[1].commands == std::vector<Command>{Command::Finetune});
    same_decisions(f.plan(Command::Server), facts[0]);
    same_decisions(f.plan(Command::Finetune), facts[1]);

    // --env applies to every command: one check covers both.
    f.in.env_option = f.server_env;
    facts = f.doctor({});
    REQUIRE(facts.size() == 1);
    CHECK(facts[0].commands == std::vector<Command>{Command::Server, Command::Finetune});
    same_decisions(f.plan(Command::Finetune), facts[0]);

    // A [finetune] env that does not exist: an error finding for finetune, the server still
    // checked.
    f.in.env_option.reset();
    f.config("");
    fs::remove_all(f.finetune_env);
    facts = f.doctor({});
    REQUIRE(facts.size() == 2);
    CHECK_FALSE(facts[0].unresolved);
    REQUIRE(facts[1].unresolved);
    const DoctorResult result = diagnose_all(facts, builtin_rules());
    auto it = std::find_if(result.findings.begin(), result.findings.end(),
                           [](const Finding& x) { return x.id == "env-not-found"; });
    REQUIRE(it != result.findings.end());
    CHECK(it->severity == Severity::Error);
    CHECK(it->commands == std::vector<Command>{Command::Finetune});
    CHECK(it->message.find("finetune_env") != std::string::npos);
    CHECK(it->fix.rfind("Give the environment folder itself", 0) == 0);  // the launch error's fix
    CHECK(result.has_errors());
    // Asked for finetune alone, the same failure means the doctor cannot run.
    CHECK_THROWS_AS(f.doctor({Command::Finetune}), LaunchError);
}

TEST_CASE("an env the launch cannot start is reported with the launch error's fix") {
    Fixture f;
    test::make_prefix(f.tmp.path() / "py312", "3.12");
    f.in.env_option = f.tmp.path() / "py312";
    CHECK_THROWS_AS(f.plan(Command::Server), LaunchError);
    std::vector<DoctorFacts> facts = f.doctor({Command::Server});
    REQUIRE(facts.size() == 1);
    REQUIRE(facts[0].env);  // read at any version
    CHECK(facts[0].env->version.short_text() == "3.12");
    CHECK(facts[0].env_error.what.find("has Python 3.12") != std::string::npos);
    CHECK(facts[0].env_error.fix.find("DALLTALK_PYTHON_VERSION=3.12") != std::string::npos);

    // Unreadable: the finding's fix is the launch error's own fix, not part of the message.
    facts[0].env.reset();
    const DoctorResult r = diagnose_all(facts, builtin_rules());
    auto it = std::find_if(r.findings.begin(), r.findings.end(),
                           [](const Finding& x) { return x.id == "env-unreadable"; });
    REQUIRE(it != r.findings.end());
    CHECK(it->fix == facts[0].env_error.fix);
    CHECK(it->message.find("DALLTALK_PYTHON_VERSION") == std::string::npos);
}

TEST_CASE("doctor output: findings of one command are tagged, shared ones listed once") {
    Fixture f;
    const DoctorResult r = diagnose_all(f.doctor({}), builtin_rules());
    REQUIRE(r.checks.size() == 2);
    CHECK(r.commands == std::vector<Command>{Command::Server, Command::Finetune});
    // coqui-tts without anyascii is only in the finetune env.
    auto missing = std::find_if(r.findings.begin(), r.findings.end(),
                                [](const Finding& x) { return x.id == "requirement-missing"; });
    REQUIRE(missing != r.findings.end());
    CHECK(missing->commands == std::vector<Command>{Command::Finetune});
    CHECK(r.has_errors());
    // The root is the same for both: a root finding (if any) is listed once, for both.
    for (const auto& x : r.findings) {
        if (x.id.rfind("root-", 0) == 0 || x.id == "port-in-use") {
            CHECK(x.commands.size() == 2);
        }
    }
    const std::string text = format_text(r);
    CHECK(text.find("[requirement-missing] [finetune] coqui-tts 0.24.3 requires") !=
          std::string::npos);
    CHECK(text.find("  finetune:\n    environment:    " + f.finetune_env.string()) !=
          std::string::npos);
    const std::string json = format_json(r);
    CHECK(json.find("\"commands\":{\"finetune\":{") != std::string::npos);
    CHECK(json.find("\"commands\":[\"finetune\"]") != std::string::npos);
    const std::string md = format_markdown(r, "", "");
    CHECK(md.find("| Environment (finetune) | `" + f.finetune_env.string()) != std::string::npos);
}
