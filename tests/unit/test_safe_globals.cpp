// The torch weights_only allow-list: entry parsing, refusal of entries that would run code, the
// compiled-in defaults, the [torch] config key and the round trip through the child plan.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "base/error.hpp"
#include "discover/config.hpp"
#include "discover/safe_globals.hpp"
#include "discover/safe_globals_data.hpp"
#include "plan/child_codec.hpp"
#include "plan/plan.hpp"

using namespace alltalk;

namespace {

std::optional<std::string> check(const std::string& text, SafeGlobal* out = nullptr) {
    SafeGlobal g;
    auto error = parse_safe_global(text, g);
    if (out) {
        *out = g;
    }
    return error;
}

bool has(const std::vector<SafeGlobal>& list, const std::string& full) {
    return std::any_of(list.begin(), list.end(),
                       [&](const auto& g) { return g.full_name() == full; });
}

std::string config_error(const std::string& text) {
    try {
        parse_config(text, "/a/alltalk-launch.toml");
    } catch (const LaunchError& e) {
        CHECK(e.stage() == Stage::Config);
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("an entry splits at the last dot, or at the colon for nested classes") {
    SafeGlobal g;
    REQUIRE_FALSE(check("TTS.tts.configs.xtts_config.XttsConfig", &g));
    CHECK(g.module == "TTS.tts.configs.xtts_config");
    CHECK(g.qualname == "XttsConfig");
    REQUIRE_FALSE(check("pkg.mod:Outer.Inner", &g));
    CHECK(g.module == "pkg.mod");
    CHECK(g.qualname == "Outer.Inner");
    CHECK(g.full_name() == "pkg.mod.Outer.Inner");
    CHECK(g.spec() == "pkg.mod:Outer.Inner");
}

TEST_CASE("malformed entries are refused") {
    for (const char* bad : {"Class", "", "pkg..Class", "pkg.mod:", "pkg mod.Class", "1pkg.Class",
                            "pkg.mod.Class()", "pkg.mod:Class:Other"}) {
        CAPTURE(bad);
        auto error = check(bad);
        REQUIRE(error);
        CHECK(error->find("is not of the form") != std::string::npos);
    }
}

TEST_CASE("entries that would let a pickle run code are refused, naming the entry") {
    for (const char* bad : {"builtins.eval",
                            "builtins.exec",
                            "builtins.getattr",
                            "builtins.__import__",
                            "builtins.open",
                            "builtins.compile",
                            "__builtin__.eval",
                            "os.system",
                            "posix.system",
                            "nt.system",
                            "subprocess.Popen",
                            "subprocess.run",
                            "pickle.loads",
                            "_pickle.load",
                            "marshal.loads",
                            "functools.partial",
                            "operator.attrgetter",
                            "importlib.import_module",
                            "torch.load",
                            "numpy.load",
                            "mypkg.helpers.exec_command",
                            "pkg.mod:Cls.__reduce__",
                            "runpy.run_path",
                            "ctypes.CDLL",
                            "types.FunctionType"}) {
        CAPTURE(bad);
        auto error = check(bad);
        REQUIRE(error);
        CHECK(error->find(std::string("\"") + bad + "\"") != std::string::npos);
        CHECK(error->find("run code") != std::string::npos);
    }
}

TEST_CASE("plain classes and data builtins are accepted") {
    for (const char* good :
         {"mypkg.configs.MyConfig", "collections.defaultdict", "builtins.set",
          "numpy._core.multiarray._reconstruct", "numpy.dtypes.Float64DType", "my_pkg.Loader"}) {
        CAPTURE(good);
        CHECK_FALSE(check(good));
    }
}

TEST_CASE("the compiled-in default list holds the XTTS, numpy and RVC entries") {
    const auto& list = default_safe_globals();
    for (const char* want :
         {"TTS.tts.configs.xtts_config.XttsConfig", "TTS.tts.models.xtts.XttsAudioConfig",
          "TTS.tts.models.xtts.XttsArgs", "TTS.config.shared_configs.BaseDatasetConfig",
          "TTS.utils.radam.RAdam", "collections.defaultdict", "numpy.core.multiarray.scalar",
          "numpy._core.multiarray.scalar", "numpy.dtype", "fairseq.data.dictionary.Dictionary"}) {
        CAPTURE(want);
        CHECK(has(list, want));
    }
    for (const auto& g : list) {
        CHECK(g.source == "default");
    }
}

TEST_CASE("the entries taken out at build time are exactly what toml++ reads from the file") {
    const auto& built = default_safe_globals();
    const auto parsed = parse_default_safe_globals(data::kTorchSafeGlobals);
    REQUIRE(built.size() == parsed.size());
    CHECK(built.size() > 20);
    for (std::size_t i = 0; i < built.size(); ++i) {
        CAPTURE(i);
        CHECK(built[i].spec() == parsed[i].spec());
    }
}

TEST_CASE("the compiled-in list has no duplicates, so merging no user entries keeps it as it is") {
    const auto& built = default_safe_globals();
    std::set<std::string> specs;
    for (const auto& g : built) {
        CHECK(specs.insert(g.spec()).second);
    }
    const auto merged = merge_safe_globals(built, {});
    REQUIRE(merged.size() == built.size());
    for (std::size_t i = 0; i < built.size(); ++i) {
        CHECK(merged[i].spec() == built[i].spec());
        CHECK(merged[i].source == "default");
    }
    SafeGlobal mine;
    mine.source = "/a/alltalk-launch.toml:2";
    REQUIRE_FALSE(parse_safe_global("mypkg.mod:MyConfig", mine));
    const auto with_user = merge_safe_globals(built, {built.front(), mine});
    CHECK(with_user.size() == built.size() + 1);  // the repeated default is not added twice
    CHECK(with_user.back().source == "/a/alltalk-launch.toml:2");
}

TEST_CASE("a broken default list is an install error, not a crash") {
    CHECK_THROWS_AS(parse_default_safe_globals("safe_globals = [\"os.system\"]"), LaunchError);
    CHECK_THROWS_AS(parse_default_safe_globals("safe_globals = ["), LaunchError);
    CHECK_THROWS_AS(parse_default_safe_globals("other = 1"), LaunchError);
}

TEST_CASE("[torch] safe_globals in the config adds entries with their file and line") {
    Config c = parse_config("[torch]\nsafe_globals = [\n  \"mypkg.mod.MyConfig\",\n]\n",
                            "/a/alltalk-launch.toml");
    REQUIRE(c.torch_safe_globals.size() == 1);
    CHECK(c.torch_safe_globals[0].full_name() == "mypkg.mod.MyConfig");
    CHECK(c.torch_safe_globals[0].source == "/a/alltalk-launch.toml:3");
}

TEST_CASE("a dangerous config entry is refused with the entry, file and line") {
    std::string error = config_error("[torch]\nsafe_globals = [\"mypkg.A\",\n \"os.system\"]\n");
    CHECK(error.find("\"os.system\"") != std::string::npos);
    CHECK(error.find("/a/alltalk-launch.toml:3") != std::string::npos);
}

TEST_CASE("wrong shapes and unknown keys in [torch] are config errors") {
    CHECK(config_error("torch = 1\n").find("`torch` must be a table") != std::string::npos);
    CHECK(config_error("[torch]\nsafe_globals = \"a.B\"\n").find("array of strings") !=
          std::string::npos);
    CHECK(config_error("[torch]\nsafe_globals = [1]\n").find("must be a string") !=
          std::string::npos);
    CHECK(config_error("[torch]\nweights_only = false\n").find("unknown key `weights_only`") !=
          std::string::npos);
}

TEST_CASE("merging keeps defaults first and drops duplicates") {
    SafeGlobal a{"a", "A", "default"}, b{"b", "B", "cfg:1"}, a2{"a", "A", "cfg:2"};
    auto merged = merge_safe_globals({a}, {b, a2});
    REQUIRE(merged.size() == 2);
    CHECK(merged[0].source == "default");
    CHECK(merged[1].full_name() == "b.B");
}

TEST_CASE("the allow-list travels to children in the child plan") {
    LaunchPlan plan;
    plan.torch_safe_globals = {{"pkg.mod", "Outer.Inner", "cfg:3"},
                               {"collections", "defaultdict", "default"}};
    LaunchPlan child = decode_child_plan(encode_child_plan(plan, StartOutcome{}));
    REQUIRE(child.torch_safe_globals.size() == 2);
    CHECK(child.torch_safe_globals[0].spec() == "pkg.mod:Outer.Inner");
    CHECK(child.torch_safe_globals[1].full_name() == "collections.defaultdict");
}

TEST_CASE("--dry-run text lists the allow-list with sources") {
    std::string text = describe_safe_globals({{"pkg.mod", "MyConfig", "/a/x.toml:4"}});
    CHECK(text.find("pkg.mod.MyConfig  (/a/x.toml:4)") != std::string::npos);
}
