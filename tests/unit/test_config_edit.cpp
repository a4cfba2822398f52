#include <doctest/doctest.h>

#include "base/error.hpp"
#include "discover/config.hpp"
#include "discover/config_edit.hpp"

using namespace alltalk;

namespace {
const std::filesystem::path kFile = "/cfg/alltalk-launch.toml";
const std::vector<std::string> kOverlay = {"gradio==3.50.2", "pydantic<2"};

std::vector<std::string> overlay_of(const std::string& text, const std::string& command) {
    return parse_config(text, kFile).command(command)->overlay;
}
}  // namespace

TEST_CASE("an overlay is added to an existing table, the rest of the file kept byte for byte") {
    const std::string text =
        "# my settings\nenv = \"alltalk_environment/env\"\n\n[finetune]  # the UI\n"
        "script = \"finetune.py\"\n\n[server]\nargs = [\"--tts_model\", \"xtts\"]\n";
    const std::string out = with_overlay(text, kFile, "finetune", kOverlay);
    CHECK(out ==
          "# my settings\nenv = \"alltalk_environment/env\"\n\n[finetune]  # the UI\n"
          "overlay = [\"gradio==3.50.2\", \"pydantic<2\"]\nscript = \"finetune.py\"\n\n"
          "[server]\nargs = [\"--tts_model\", \"xtts\"]\n");
    CHECK(overlay_of(out, "finetune") == kOverlay);
    CHECK(overlay_of(out, "server").empty());
}

TEST_CASE("an existing overlay value is replaced where it is, multi-line and commented") {
    const std::string text =
        "[finetune]\noverlay = [\n  \"gradio==3.50.2\", # old UI\n  \"pydantic<2\",\n] # keep\n"
        "script = \"ä.py\"\n";
    const std::string out = with_overlay(text, kFile, "finetune", {"gradio==3.50.2"});
    CHECK(out == "[finetune]\noverlay = [\"gradio==3.50.2\"] # keep\nscript = \"ä.py\"\n");
    // Non-ASCII before the value on its own line: columns are code points, offsets bytes.
    const std::string odd = "[server]\nscript = \"ä.py\"; overlay = [\"x\"]\n";
    CHECK_THROWS_AS(with_overlay(odd, kFile, "server", {"y"}), LaunchError);  // not TOML
    const std::string dotted = "server.script = \"ä\"\nserver.overlay = [\"a<1\"]\n";
    CHECK(with_overlay(dotted, kFile, "server", {"b==2"}) ==
          "server.script = \"ä\"\nserver.overlay = [\"b==2\"]\n");
}

TEST_CASE("a missing table is added at the end; one implied by a sub-table too") {
    CHECK(with_overlay("", kFile, "finetune", kOverlay) ==
          "\n[finetune]\noverlay = [\"gradio==3.50.2\", \"pydantic<2\"]\n");
    const std::string text = "env = \"e\"";  // no final newline
    const std::string out = with_overlay(text, kFile, "server", {"gradio==4.44.1"});
    CHECK(out == "env = \"e\"\n\n[server]\noverlay = [\"gradio==4.44.1\"]\n");
    const std::string sub = "[finetune.environment]\nA = \"1\"\n";
    const std::string out2 = with_overlay(sub, kFile, "finetune", kOverlay);
    CHECK(overlay_of(out2, "finetune") == kOverlay);
    CHECK(parse_config(out2, kFile).finetune.environment.at("A") == "1");
    CHECK(out2 == sub + "\n[finetune]\noverlay = [\"gradio==3.50.2\", \"pydantic<2\"]\n");
    // A table made by dotted keys takes a dotted key.
    CHECK(with_overlay("finetune.script = \"f.py\"\n", kFile, "finetune", {"a==1"}) ==
          "finetune.script = \"f.py\"\nfinetune.overlay = [\"a==1\"]\n");
}

TEST_CASE("requirements with quotes and markers are escaped and read back") {
    const std::vector<std::string> reqs = {"pydantic<2; python_version < \"3.12\"", "a\\b==1"};
    CHECK(toml_string_array(reqs) ==
          "[\"pydantic<2; python_version < \\\"3.12\\\"\", \"a\\\\b==1\"]");
    CHECK(overlay_of(with_overlay("[server]\n", kFile, "server", {reqs[0]}), "server") ==
          std::vector<std::string>{reqs[0]});
}

TEST_CASE("an inline table or a file that does not parse is refused, with the reason") {
    try {
        with_overlay("finetune = { script = \"f.py\" }\n", kFile, "finetune", kOverlay);
        FAIL("expected a refusal");
    } catch (const LaunchError& e) {
        CHECK(std::string(e.what()).find("inline table") != std::string::npos);
        CHECK(std::string(e.what()).find("was not changed") != std::string::npos);
    }
    CHECK_THROWS_AS(with_overlay("[finetune\n", kFile, "finetune", kOverlay), LaunchError);
    // A requirement the config would refuse (not PEP 508) is refused too.
    CHECK_THROWS_AS(with_overlay("", kFile, "finetune", {"gradio=="}), LaunchError);
}
