#include <doctest/doctest.h>

#include "base/error.hpp"
#include "discover/config.hpp"

using namespace alltalk;

namespace {
std::string error_of(const std::string& text) {
    try {
        parse_config(text, "/cfg/alltalk-launch.toml");
    } catch (const LaunchError& e) {
        CHECK(e.stage() == Stage::Config);
        return e.what();
    }
    FAIL("expected a config error");
    return {};
}
}  // namespace

TEST_CASE("a full config is read, relative paths against the file's folder") {
    Config c = parse_config(R"(
env = "alltalk_environment/env"
[environment]
HF_HUB_OFFLINE = "1"
[server]
script = "script.py"
args = ["--tts_model", "xtts"]
[finetune]
env = "/opt/finetune env"
[finetune.environment]
GRADIO_ANALYTICS_ENABLED = "False"
)",
                            "/cfg/alltalk-launch.toml");
    CHECK(*c.env == "/cfg/alltalk_environment/env");
    CHECK(c.environment.at("HF_HUB_OFFLINE") == "1");
    CHECK(*c.server.script == "script.py");
    CHECK(c.server.args == std::vector<std::string>{"--tts_model", "xtts"});
    CHECK(*c.finetune.env == "/opt/finetune env");
    CHECK(c.finetune.environment.at("GRADIO_ANALYTICS_ENABLED") == "False");
    CHECK(c.command("server") == &c.server);
    CHECK(c.command("run") == nullptr);
}

TEST_CASE("unknown keys name the file, line and key") {
    auto msg = error_of("[server]\nscript = \"a.py\"\nscirpt = \"b.py\"\n");
    CHECK(msg.find("/cfg/alltalk-launch.toml:3") != std::string::npos);
    CHECK(msg.find("unknown key `scirpt` in [server]") != std::string::npos);
    msg = error_of("colour = 1\n");
    CHECK(msg.find(":1") != std::string::npos);
    CHECK(msg.find("`colour`") != std::string::npos);
}

TEST_CASE("wrong types are errors with the line") {
    auto msg = error_of("\n[server]\nargs = \"--port 1\"\n");
    CHECK(msg.find(":3") != std::string::npos);
    CHECK(msg.find("`server.args` must be an array of strings, not a string") != std::string::npos);
    msg = error_of("[finetune]\nargs = [\"a\", 2]\n");
    CHECK(msg.find("must be a string, not an integer") != std::string::npos);
    msg = error_of("server = 3\n");
    CHECK(msg.find("`server` must be a table") != std::string::npos);
    msg = error_of("[environment]\nPORT = 7851\n");
    CHECK(msg.find("`environment.PORT` must be a string") != std::string::npos);
}

TEST_CASE("TOML syntax errors say where") {
    auto msg = error_of("[server\nscript = 1\n");
    CHECK(msg.find("/cfg/alltalk-launch.toml:1") != std::string::npos);
    CHECK(msg.find("valid TOML") != std::string::npos);
}

TEST_CASE("an unreadable file is a config error") {
    CHECK_THROWS_WITH_AS(load_config("/nonexistent/alltalk-launch.toml"),
                         doctest::Contains("Cannot read the configuration file"), LaunchError);
}

TEST_CASE("[server] and [finetune] overlay: PEP 508 requirements, checked at load") {
    Config c = parse_config(R"([finetune]
overlay = ["gradio==3.50.2", "pydantic<2", "typer[all]>=0.9; python_version >= '3.8'"]
[server]
overlay = []
)",
                            "/cfg/alltalk-launch.toml");
    CHECK(c.finetune.overlay ==
          std::vector<std::string>{"gradio==3.50.2", "pydantic<2",
                                   "typer[all]>=0.9; python_version >= '3.8'"});
    CHECK(c.finetune.overlay_source == "/cfg/alltalk-launch.toml:2");
    CHECK(c.server.overlay.empty());

    auto msg =
        error_of("[finetune]\nenv = \"e\"\noverlay = [\"gradio==3.50.2\", \"pydantic<<2\"]\n");
    CHECK(msg.find("/cfg/alltalk-launch.toml:3") != std::string::npos);
    CHECK(msg.find("`finetune.overlay` entry \"pydantic<<2\" is not a PEP 508 requirement") !=
          std::string::npos);
    msg = error_of("[server]\noverlay = \"gradio==4.44.1\"\n");
    CHECK(msg.find("`server.overlay` must be an array of requirements") != std::string::npos);
    msg = error_of("[server]\noverlay = [3]\n");
    CHECK(msg.find("must be a string, not an integer") != std::string::npos);
}
