#include <doctest/doctest.h>

#include <algorithm>

#include "base/error.hpp"
#include "plan/child_codec.hpp"
#include "plan/plan.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    test::TempDir tmp;
    fs::path root = tmp.path() / "All Talk" / "alltalk_tts";
    fs::path env = root / "alltalk_environment" / "env";
    DiscoveryInputs in;
    PlanContext ctx;

    Fixture() {
        test::make_root(root);
        test::make_prefix(env);
        in.cwd = root;
        in.exe = tmp.path() / "bin" / "alltalk-launch";
        in.env_vars = {{"PATH", "/usr/bin"}, {"PYTHONPATH", "/home/u/lib"}, {"HOME", "/home/u"}};
        ctx.want = PythonVersion{3, 11, "3.11"};
        ctx.runtime_dir = tmp.path() / "run";
    }

    LaunchPlan plan(Command c, std::vector<std::string> args = {}) {
        LaunchRequest r;
        r.command = c;
        r.args = std::move(args);
        return make_plan(r, in, ctx);
    }
};

const EnvChange* change(const LaunchPlan& p, const std::string& name) {
    auto it = std::find_if(p.env_changes.begin(), p.env_changes.end(),
                           [&](const EnvChange& c) { return c.name == name; });
    return it == p.env_changes.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("server plan: script, argv, cwd and conda activation") {
    Fixture f;
    f.in.cwd = f.tmp.path();
    f.in.root_option = f.root;
    LaunchPlan p = f.plan(Command::Server, {"--tts_model", "xtts"});
    CHECK(*p.script == f.root / "script.py");
    CHECK(p.python_argv == std::vector<std::string>{(f.env / "bin" / "python3.11").string(),
                                                    (f.root / "script.py").string(), "--tts_model",
                                                    "xtts"});
    CHECK(p.cwd == f.root);
    CHECK(p.env.kind == EnvKind::Conda);
    REQUIRE(change(p, "PATH"));
    CHECK(change(p, "PATH")->value->find((f.env / "bin").string() + ":/usr/bin") !=
          std::string::npos);
    CHECK(change(p, "PATH")->value->rfind(p.alias_dir->string(), 0) == 0);
    CHECK(*change(p, "CONDA_PREFIX")->value == f.env.string());
    CHECK_FALSE(change(p, "PYTHONPATH")->value);  // unset
    CHECK(*change(p, "PYTHONNOUSERSITE")->value == "1");
    CHECK_FALSE(change(p, "TRAINER_TELEMETRY"));
    CHECK(*p.log_file == f.root / "logs" / "alltalk-launch.log");
}

TEST_CASE("finetune sets TRAINER_TELEMETRY=0 and config args come before CLI args") {
    Fixture f;
    test::write(
        f.root / "alltalk-launch.toml",
        "[finetune]\nargs = [\"--num_epochs\", \"2\"]\n[finetune.environment]\nX = \"1\"\n");
    LaunchPlan p = f.plan(Command::Finetune, {"--batch_size", "4"});
    CHECK(*change(p, "TRAINER_TELEMETRY")->value == "0");
    CHECK(*change(p, "X")->value == "1");
    CHECK(p.script_argv() == std::vector<std::string>{(f.root / "finetune.py").string(),
                                                      "--num_epochs", "2", "--batch_size", "4"});
    CHECK(*p.config_file == f.root / "alltalk-launch.toml");
}

TEST_CASE("a server env and a finetune env may differ") {
    Fixture f;
    test::make_prefix(f.tmp.path() / "ft env");
    test::write(f.root / "alltalk-launch.toml",
                "[finetune]\nenv = \"" + (f.tmp.path() / "ft env").string() + "\"\n");
    CHECK(f.plan(Command::Server).env.dir == f.env);
    CHECK(f.plan(Command::Finetune).env.dir == f.tmp.path() / "ft env");
}

TEST_CASE("python keeps the caller's directory; run resolves the script there") {
    Fixture f;
    f.in.cwd = f.tmp.path();
    f.in.root_option = f.root;
    LaunchPlan p = f.plan(Command::Python, {"-c", "pass"});
    CHECK(p.cwd == f.tmp.path());
    CHECK_FALSE(p.script);
    CHECK(p.python_argv.size() == 3);
    test::write(f.tmp.path() / "tool.py");
    LaunchRequest r;
    r.command = Command::Run;
    r.script = "tool.py";
    r.args = {"-v"};
    p = make_plan(r, f.in, f.ctx);
    CHECK(*p.script == f.tmp.path() / "tool.py");
    CHECK(p.cwd == f.root);
    r.script = "missing.py";
    CHECK_THROWS_WITH_AS(make_plan(r, f.in, f.ctx), doctest::Contains("does not exist"),
                         LaunchError);
}

TEST_CASE("server without an AllTalk folder, and with a missing script") {
    Fixture f;
    f.in.cwd = f.tmp.path();
    f.in.exe = f.tmp.path() / "x" / "alltalk-launch";
    f.in.env_vars["CONDA_PREFIX"] = f.env.string();
    CHECK_THROWS_WITH_AS(f.plan(Command::Server), doctest::Contains("No AllTalk folder found"),
                         LaunchError);
    f.in.root_option = f.root;
    test::write(f.root / "alltalk-launch.toml", "[server]\nscript = \"gone.py\"\n");
    CHECK_THROWS_WITH_AS(f.plan(Command::Server), doctest::Contains("gone.py does not exist"),
                         LaunchError);
}

TEST_CASE("the child plan survives encoding") {
    Fixture f;
    LaunchPlan p = f.plan(Command::Finetune);
    LaunchPlan c = decode_child_plan(encode_child_plan(p, StartOutcome{}));
    CHECK(c.command == Command::Finetune);
    CHECK(c.env.dir == p.env.dir);
    CHECK(c.env.python == p.env.python);
    CHECK(c.env.home == p.env.home);
    CHECK(c.env.libpython == p.env.libpython);
    CHECK(c.env.kind == p.env.kind);
    CHECK(c.launcher == p.launcher);
    CHECK(*c.script == *p.script);
    CHECK_THROWS_AS(decode_child_plan("codec = 99"), LaunchError);
    CHECK_THROWS_AS(decode_child_plan("not = [toml"), LaunchError);
}

TEST_CASE("dry-run text shows every decision") {
    Fixture f;
    std::string text = describe_plan(f.plan(Command::Server, {"a b"}));
    for (const char* needle : {"command:    server", "conda prefix", "libpython3.11.so.1.0",
                               "'a b'", "PYTHONPATH (unset)", "CONDA_PREFIX=", "cwd:"}) {
        CHECK_MESSAGE(text.find(needle) != std::string::npos, needle);
    }
}

TEST_CASE("Windows conda activation puts the six folders first, in conda's order") {
    PythonEnv env;
    env.dir = "C:/AllTalk/alltalk_environment/env";
    env.kind = EnvKind::Conda;
    env.bin_dir = env.dir / "Scripts";
    auto dirs = activation_path(env, Platform::Windows);
    REQUIRE(dirs.size() == 6);
    CHECK(dirs[0] == env.dir);
    CHECK(dirs[1] == env.dir / "Library" / "mingw-w64" / "bin");
    CHECK(dirs[3] == env.dir / "Library" / "bin");
    CHECK(dirs[4] == env.dir / "Scripts");
    LaunchPlan plan;
    plan.env = env;
    auto changes = environment_changes(plan, {{"PATH", "C:/Windows"}}, Platform::Windows);
    auto it = std::find_if(changes.begin(), changes.end(),
                           [](const EnvChange& c) { return c.name == "PATH"; });
    REQUIRE(it != changes.end());
    CHECK(it->value->find(";C:/Windows") != std::string::npos);
    CHECK(it->value->rfind(env.dir.string() + ";", 0) == 0);
    CHECK(activation_path(env, Platform::Posix).size() == 1);
}

TEST_CASE("doctor --deep's child: the launch's plan with the probe as its only argv change") {
    Fixture f;
    f.in.root_option = f.root;
    const LaunchPlan launch = f.plan(Command::Finetune, {"--num_epochs", "3"});
    const fs::path dir = f.tmp.path() / "probe";
    const LaunchPlan probe = deep_probe_plan(launch, dir);
    CHECK(probe.python_argv == std::vector<std::string>{launch.python_argv[0],
                                                        (dir / kDeepProbeFile).string(),
                                                        dir.string()});
    CHECK(*probe.script == f.root / "finetune.py");  // the plan still names the command's script
    CHECK(probe.cwd == launch.cwd);
    CHECK(probe.command == launch.command);
    REQUIRE(probe.env_changes.size() == launch.env_changes.size());
    for (std::size_t i = 0; i < probe.env_changes.size(); ++i) {
        CHECK(probe.env_changes[i].name == launch.env_changes[i].name);
        CHECK(probe.env_changes[i].value == launch.env_changes[i].value);
    }
    CHECK(encode_child_plan(probe, {}) == encode_child_plan(launch, {}));
}
