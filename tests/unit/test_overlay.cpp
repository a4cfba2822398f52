#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "discover/overlay.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

TEST_CASE("overlay.json round-trips, and anything else is refused with a reason") {
    overlay::Manifest m;
    m.requirements = {"gradio==3.50.2", "pydantic<2"};
    m.distributions = {{"gradio", "3.50.2"}, {"pydantic", "1.10.26"}};
    m.inputs_hash = "abc";
    const std::string text = overlay::encode_manifest(m);
    auto back = overlay::decode_manifest(text);
    REQUIRE(back);
    CHECK(back->requirements == m.requirements);
    CHECK(back->distributions == m.distributions);
    CHECK(back->inputs_hash == "abc");

    std::string why;
    CHECK_FALSE(overlay::decode_manifest("{\"overlay\": 1, \"requirem", &why));
    CHECK(why == "it is not JSON");
    CHECK_FALSE(overlay::decode_manifest("{\"overlay\": 2}", &why));
    CHECK(why.find("not written by this version") != std::string::npos);
    CHECK_FALSE(overlay::decode_manifest(
        R"({"overlay": 1, "requirements": [], "distributions": [{"name": "x"}], "inputs_hash": ""})",
        &why));
    CHECK(why.find("no name or version") != std::string::npos);
}

TEST_CASE("the inputs hash: the requirements in order, the base's dist-info names in any order") {
    const std::vector<std::string> reqs = {"gradio==3.50.2", "pydantic<2"};
    const std::string h = overlay::inputs_hash(reqs, {"a-1.dist-info", "b-2.dist-info"});
    CHECK(h.size() == 16);
    CHECK(h == overlay::inputs_hash(reqs, {"b-2.dist-info", "a-1.dist-info"}));
    CHECK(h != overlay::inputs_hash(reqs, {"a-1.dist-info", "b-3.dist-info"}));
    CHECK(h != overlay::inputs_hash({"pydantic<2", "gradio==3.50.2"},
                                    {"a-1.dist-info", "b-2.dist-info"}));
    CHECK(h != overlay::inputs_hash({"gradio==3.50.2"}, {"a-1.dist-info", "b-2.dist-info"}));
}

TEST_CASE("an overlay's state: missing, current, stale when the base changes, corrupt") {
    test::TempDir t;
    const fs::path& tmp = t.path();
    PythonEnv env;
    env.dir = tmp / "env";
    env.site_packages = env.dir / "lib" / "python3.11" / "site-packages";
    fs::create_directories(env.site_packages / "gradio-4.44.1.dist-info");
    fs::create_directories(env.site_packages / "gradio");
    const std::vector<std::string> reqs = {"gradio==3.50.2"};

    CHECK(overlay::check(env, "finetune", reqs).state == overlay::State::Missing);

    const fs::path dir = overlay::overlay_dir(env, "finetune");
    CHECK(dir == env.dir / ".alltalk-launch" / "overlays" / "finetune");
    fs::create_directories(dir);
    CHECK(overlay::check(env, "finetune", reqs).state == overlay::State::Corrupt);

    overlay::Manifest m;
    m.requirements = reqs;
    m.distributions = {{"gradio", "3.50.2"}};
    m.inputs_hash = overlay::inputs_hash(reqs, overlay::dist_info_names(env.site_packages));
    std::ofstream(dir / overlay::kManifestFile) << overlay::encode_manifest(m);
    auto s = overlay::check(env, "finetune", reqs);
    CHECK(s.state == overlay::State::Current);
    CHECK(overlay::describe(s).find("finetune: current, 1 distribution (gradio 3.50.2)") == 0);

    CHECK(overlay::check(env, "finetune", {"gradio==3.50.0"}).state == overlay::State::Stale);
    fs::create_directories(env.site_packages / "typer-0.9.0.dist-info");
    s = overlay::check(env, "finetune", reqs);
    CHECK(s.state == overlay::State::Stale);
    CHECK(overlay::describe(s).find("alltalk-launch overlay sync finetune") != std::string::npos);

    std::ofstream(dir / overlay::kManifestFile) << "{ not json";
    s = overlay::check(env, "finetune", reqs);
    CHECK(s.state == overlay::State::Corrupt);
    CHECK(s.problem.find("it is not JSON") != std::string::npos);
}
