#include <doctest/doctest.h>

#include "cli.hpp"

using namespace alltalk;

namespace {
cli::Options parse_ok(std::vector<std::string> args) {
    auto parsed = cli::parse(args);
    REQUIRE(parsed.options);
    return *parsed.options;
}
}  // namespace

TEST_CASE("global options before or after the subcommand") {
    auto o = parse_ok({"--root", "/r", "server", "-v", "--dry-run", "--env", "/e"});
    CHECK(o.request.command == Command::Server);
    CHECK(*o.root == "/r");
    CHECK(*o.env == "/e");
    CHECK(o.verbose);
    CHECK(o.dry_run);
}

TEST_CASE("server arguments after -- reach the script untouched") {
    auto o = parse_ok({"server", "--", "--tts_model", "xtts", "-v"});
    CHECK(o.request.args == std::vector<std::string>{"--tts_model", "xtts", "-v"});
    CHECK_FALSE(o.verbose);
    o = parse_ok({"finetune", "--config", "c.toml", "--", "--num_epochs", "3"});
    CHECK(o.request.command == Command::Finetune);
    CHECK(*o.config == "c.toml");
}

TEST_CASE("run: everything after the script is the script's") {
    auto o = parse_ok({"-v", "run", "tool.py", "--root", "x", "-v"});
    CHECK(o.request.command == Command::Run);
    CHECK(*o.request.script == "tool.py");
    CHECK(o.request.args == std::vector<std::string>{"--root", "x", "-v"});
    CHECK_FALSE(o.root);
}

TEST_CASE("python: everything after `python` is python's") {
    auto o = parse_ok({"--env", "/e", "python", "-c", "import sys", "--version", "-v"});
    CHECK(o.request.command == Command::Python);
    CHECK(o.request.args == std::vector<std::string>{"-c", "import sys", "--version", "-v"});
    CHECK_FALSE(o.verbose);
    CHECK(parse_ok({"python"}).request.args.empty());
}

TEST_CASE("usage errors give status 2 and no options") {
    CHECK(cli::parse({}).exit_status == 2);
    CHECK(cli::parse({"serve"}).exit_status == 2);
    CHECK(cli::parse({"server", "--tts_model", "x"}).exit_status == 2);
    CHECK(cli::parse({"run"}).exit_status == 2);
    auto help = cli::parse({"--help"});
    CHECK_FALSE(help.options);
    CHECK(help.exit_status == 0);
}

TEST_CASE("doctor --command, with the launch's cuDNN and GPU options") {
    auto o = parse_ok({"doctor"});
    REQUIRE(o.doctor);
    CHECK_FALSE(o.doctor->command);
    o = parse_ok({"--cudnn", "/c", "doctor", "--command", "finetune", "--cpu", "--json"});
    REQUIRE(o.doctor);
    CHECK(o.doctor->command == Command::Finetune);
    CHECK(o.doctor->json);
    CHECK(*o.request.cudnn == "/c");
    CHECK(o.request.cpu);
    // `server` after --command is its value, not the subcommand.
    o = parse_ok({"doctor", "--command", "server", "--no-gpu-check"});
    REQUIRE(o.doctor);
    CHECK(o.doctor->command == Command::Server);
    CHECK(o.request.no_gpu_check);
    auto bad = cli::parse({"doctor", "--command", "bogus"});
    CHECK_FALSE(bad.options);
    CHECK(bad.exit_status == 2);
}

TEST_CASE("doctor --deep, --deep-timeout, and the hidden --deep-probe of its child") {
    auto o = parse_ok({"doctor"});
    CHECK_FALSE(o.doctor->deep);
    o = parse_ok({"doctor", "--deep", "--json"});
    CHECK(o.doctor->deep);
    CHECK(o.doctor->deep_timeout == 60);
    o = parse_ok({"doctor", "--deep-timeout", "2.5"});  // implies --deep
    CHECK(o.doctor->deep);
    CHECK(o.doctor->deep_timeout == 2.5);
    CHECK_FALSE(cli::parse({"doctor", "--deep-timeout", "0"}).options);
    CHECK(cli::parse({"doctor", "--deep-timeout", "-1"}).exit_status == 2);
    o = parse_ok({"--root", "/r", "--deep-probe", "/tmp/probe", "finetune"});
    CHECK(o.request.command == Command::Finetune);
    REQUIRE(o.deep_probe);
    CHECK(*o.deep_probe == "/tmp/probe");
    CHECK(o.request.args.empty());
}

TEST_CASE("overlay sync [COMMAND] | status | remove COMMAND") {
    auto o = parse_ok({"--root", "/r", "overlay", "sync"});
    REQUIRE(o.overlay);
    CHECK(o.overlay->action == cli::OverlayOptions::Action::Sync);
    CHECK_FALSE(o.overlay->command);
    CHECK(*o.root == "/r");
    o = parse_ok({"overlay", "sync", "finetune", "--config", "c.toml"});
    CHECK(*o.overlay->command == "finetune");
    CHECK(*o.config == "c.toml");
    o = parse_ok({"overlay", "sync", "trainer"});  // refused with the config's names, later
    CHECK(*o.overlay->command == "trainer");
    o = parse_ok({"overlay", "status"});
    CHECK(o.overlay->action == cli::OverlayOptions::Action::Status);
    o = parse_ok({"overlay", "remove", "finetune"});
    CHECK(o.overlay->action == cli::OverlayOptions::Action::Remove);
    CHECK(*o.overlay->command == "finetune");
    CHECK_FALSE(cli::parse({"overlay", "remove"}).options);
    CHECK_FALSE(cli::parse({"overlay"}).options);
}
