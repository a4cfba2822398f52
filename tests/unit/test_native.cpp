#include <doctest/doctest.h>

#include <algorithm>

#include "base/error.hpp"
#include "base/text.hpp"
#include "cudnn/codec.hpp"
#include "cudnn/select.hpp"
#include "discover/config.hpp"
#include "plan/child_codec.hpp"
#include "plan/plan.hpp"
#include "start/cudnn_apply.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

namespace {

using test::kCudnn8Linux;
using test::kCudnn9Linux;

struct Env {
    test::TempDir tmp;
    fs::path dir = tmp.path() / "env";
    fs::path site = dir / "lib" / "python3.11" / "site-packages";
    PythonEnv env;
    Env() {
        env.dir = dir;
        env.site_packages = site;
        env.python = dir / "bin" / "python3.11";
        fs::create_directories(site);
    }
    NativeDecision analyze(std::vector<std::pair<fs::path, std::string>> system = {},
                           EnvMap vars = {}) {
        NativeFacts f;
        f.env = env;
        f.env_vars = std::move(vars);
        f.platform = Platform::Posix;
        f.system_dirs = std::move(system);
        return analyze_native(f);
    }
};

}  // namespace

TEST_CASE("Requires-Dist lines: name, == pin and platform markers") {
    auto r = parse_simple_requirement(
        "nvidia-cudnn-cu12 (==9.1.0.70) ; platform_system == \"Linux\" and platform_machine == "
        "\"x86_64\"");
    REQUIRE(r);
    CHECK(r->key == "nvidia-cudnn-cu12");
    CHECK(*r->pinned == "9.1.0.70");
    CHECK(marker_may_apply(r->marker, Platform::Posix));
    CHECK_FALSE(marker_may_apply(r->marker, Platform::Windows));
    r = parse_simple_requirement("nvidia-cudnn-cu13==9.19.0.56; platform_system == 'Linux'");
    REQUIRE(r);
    CHECK(*r->pinned == "9.19.0.56");
    CHECK_FALSE(marker_may_apply(r->marker, Platform::Windows));
    r = parse_simple_requirement("nvidia-cudnn-cu12>=9,<10");
    REQUIRE(r);
    CHECK_FALSE(r->pinned);
    CHECK_FALSE(marker_may_apply("extra == \"cuda\"", Platform::Posix));
    CHECK(marker_may_apply("", Platform::Windows));
}

TEST_CASE("needs: torch's cuDNN pin, ctranslate2 before and from 4.5.0, config majors") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1",
                     {"filelock",
                      "nvidia-cudnn-cu12 (==9.1.0.70) ; platform_system == \"Linux\" and "
                      "platform_machine == \"x86_64\""});
    test::write_dist(e.site, "ctranslate2", "4.4.0", {"numpy"});
    SiteScan scan = scan_site_packages(e.site);
    NeedFacts nf{&scan, e.site, e.dir, Platform::Posix, {7}, "cfg.toml:3"};
    auto needs = cudnn_needs(nf);
    REQUIRE(needs.size() == 3);
    CHECK(needs[0].major == 7);
    CHECK(needs[1].major == 8);
    CHECK(needs[1].who == "ctranslate2 4.4.0");
    CHECK(needs[1].alternative == "ctranslate2>=4.5.0");
    CHECK(needs[2].major == 9);
    CHECK(needs[2].who == "torch 2.4.1");
    CHECK(needs[2].requirement == "nvidia-cudnn-cu12==9.1.0.70");
    // On Windows torch's pin does not apply (the marker says Linux).
    nf.platform = Platform::Windows;
    nf.configured_majors.clear();
    needs = cudnn_needs(nf);
    REQUIRE(needs.size() == 1);
    CHECK(needs[0].major == 8);
}

TEST_CASE("needs: cuDNN shipped in torch\\lib on Windows and bundled in ctranslate2.libs") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1+cu121", {"filelock"});
    test::write_files(e.site / "torch" / "lib",
                      {"torch_cuda.dll", "cudnn64_9.dll", "cudnn_ops64_9.dll"});
    test::write_dist(e.site, "ctranslate2", "4.5.0");
    test::write_files(e.site / "ctranslate2.libs", {"libcudnn-74a4c495.so.9.1.0"});
    SiteScan scan = scan_site_packages(e.site);
    auto needs = cudnn_needs({&scan, e.site, e.dir, Platform::Windows, {}, ""});
    REQUIRE(needs.size() == 2);
    CHECK(needs[0].major == 9);
    CHECK(needs[1].major == 9);
    needs = cudnn_needs({&scan, e.site, e.dir, Platform::Posix, {}, ""});
    REQUIRE(needs.size() == 1);
    CHECK(needs[0].who == "ctranslate2 4.5.0");
    CHECK(needs[0].why.find("libcudnn-74a4c495.so.9.1.0") != std::string::npos);
}

TEST_CASE("needs: a conda cudnn package; a CPU torch needs nothing") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1+cpu", {"filelock"});
    SiteScan scan = scan_site_packages(e.site);
    CHECK(cudnn_needs({&scan, e.site, e.dir, Platform::Posix, {}, ""}).empty());
    test::write(e.dir / "conda-meta" / "cudnn-8.9.2.26-cuda12_0.json", "{}");
    auto needs = cudnn_needs({&scan, e.site, e.dir, Platform::Posix, {}, ""});
    REQUIRE(needs.size() == 1);
    CHECK(needs[0].major == 8);
    CHECK(needs[0].who == "conda package cudnn 8.9.2.26");
}

TEST_CASE("a folder is versioned from its file names and cudnn_version.h") {
    auto c = version_cudnn_dir("/x",
                               {"libcudnn.so.9", "libcudnn.so.9.1.0", "libcudnn_ops.so.9",
                                "libcudnn_ops_infer.so.8", "libfoo.so.1"},
                               Platform::Posix, std::nullopt);
    REQUIRE(c.size() == 2);
    CHECK(c[0].major == 8);
    CHECK_FALSE(c[0].complete);  // no libcudnn.so.8
    CHECK(c[1].major == 9);
    CHECK(c[1].complete);
    CHECK(c[1].version == "9.1.0");
    CHECK(c[1].main_library() == "libcudnn.so.9");
    c = version_cudnn_dir(
        "/x", {"libcudnn.so.9", "libcudnn_ops.so.9"}, Platform::Posix,
        "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 19\n#define CUDNN_PATCHLEVEL 0\n");
    REQUIRE(c.size() == 1);
    CHECK(c[0].version == "9.19.0");
    CHECK(c[0].version_source == "cudnn_version.h");
    // A header of another major does not version the folder.
    c = version_cudnn_dir(
        "/x", kCudnn8Linux, Platform::Posix,
        "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 19\n#define CUDNN_PATCHLEVEL 0\n");
    CHECK(c[0].version == "8");
    c = version_cudnn_dir("C:/x", {"cudnn64_8.dll", "cudnn_ops_infer64_8.dll", "cudnn64_9.dll"},
                          Platform::Windows, std::nullopt);
    REQUIRE(c.size() == 2);
    CHECK(c[0].major == 8);
    CHECK(c[0].complete);
    CHECK(c[0].main_library() == "cudnn64_8.dll");
    CHECK(c[1].major == 9);
    CHECK_FALSE(c[1].complete);
}

TEST_CASE("choice: the env's wheel before the system's; both majors served") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
    test::write_dist(e.site, "nvidia-cudnn-cu12", "9.1.0.70");
    test::write_dist(e.site, "ctranslate2", "4.4.0");
    test::write_files(e.site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
    const fs::path sys9 = e.tmp.path() / "cuda" / "lib64";
    const fs::path sys8 = e.tmp.path() / "cudnn8" / "lib";
    test::write_files(sys9, kCudnn9Linux);
    test::write_files(sys9, {"libcudnn.so.9.19.0"});
    test::write_files(sys8, kCudnn8Linux);
    auto d = e.analyze({{sys9, "CUDA toolkit"}, {sys8, "LD_LIBRARY_PATH"}});
    REQUIRE(d.missing.empty());
    REQUIRE(d.choices.size() == 2);
    CHECK(d.choices[0].major == 8);
    CHECK(d.choices[0].candidate.dir == sys8);
    CHECK(d.choices[1].major == 9);
    CHECK(d.choices[1].candidate.dir == e.site / "nvidia" / "cudnn" / "lib");
    CHECK(d.choices[1].candidate.version == "9.1.0.70");
    CHECK(d.choices[1].why.find("env's own") != std::string::npos);
    // The env's folder first: a system folder must not shadow it.
    CHECK(d.library_dirs() == std::vector<fs::path>{e.site / "nvidia" / "cudnn" / "lib", sys8});
    CHECK(describe_native(d).find("candidate cuDNN 9.19.0 (file name libcudnn.so.9.19.0)") !=
          std::string::npos);

    // Without the env's wheel the system's cuDNN 9 serves.
    fs::remove_all(e.site / "nvidia");
    d = e.analyze({{sys9, "CUDA toolkit"}, {sys8, "LD_LIBRARY_PATH"}});
    REQUIRE(d.choices.size() == 2);
    CHECK(d.choices[1].candidate.dir == sys9);
}

TEST_CASE("a system folder holding cuDNN 8 and 9 does not shadow the env's cuDNN 9") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
    test::write_dist(e.site, "ctranslate2", "4.4.0");
    test::write_files(e.site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
    const fs::path sys = e.tmp.path() / "usr" / "lib";
    test::write_files(sys, kCudnn9Linux);
    test::write_files(sys, kCudnn8Linux);
    auto d = e.analyze({{sys, "/etc/ld.so.conf"}});
    REQUIRE(d.choices.size() == 2);
    CHECK(d.choices[0].candidate.dir == sys);
    CHECK(d.library_dirs() == std::vector<fs::path>{e.site / "nvidia" / "cudnn" / "lib", sys});
}

TEST_CASE("a need without a candidate names who needs it and the exact fix command") {
    Env e;
    test::write_dist(e.site, "ctranslate2", "4.4.0");
    test::write_dist(e.site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
    test::write_files(e.site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
    auto d = e.analyze();
    REQUIRE(d.missing.size() == 1);
    CHECK(d.missing[0].major == 8);
    const std::string msg = missing_cudnn_message(d, e.env);
    CHECK(msg.find("cuDNN 8 is needed by ctranslate2 4.4.0") != std::string::npos);
    // The one quoting rule (base/text.hpp): what a POSIX shell takes literally.
    CHECK(msg.find(text::quote_arg(e.env.python.string(), Platform::Posix) +
                   " -m pip install 'nvidia-cudnn-cu12==8.*'") != std::string::npos);
    CHECK(msg.find("-m pip install 'ctranslate2>=4.5.0'") != std::string::npos);
    CHECK(msg.find("only other cuDNN versions") != std::string::npos);
}

TEST_CASE("--cudnn overrides the choice; a folder without cuDNN is a problem") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
    test::write_files(e.site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
    const fs::path mine = e.tmp.path() / "my cudnn";
    test::write_files(mine, kCudnn9Linux);
    NativeFacts f;
    f.env = e.env;
    f.platform = Platform::Posix;
    f.system_dirs.emplace();
    f.override_dir = mine;
    f.override_source = "--cudnn";
    auto d = analyze_native(f);
    REQUIRE(d.choices.size() == 1);
    CHECK(d.choices[0].candidate.dir == mine);
    CHECK(d.choices[0].why.rfind("named by --cudnn", 0) == 0);
    f.override_dir = e.tmp.path() / "empty";
    fs::create_directories(*f.override_dir);
    d = analyze_native(f);
    CHECK(missing_cudnn_message(d, e.env).find("holds no cuDNN library") != std::string::npos);
}

TEST_CASE("the library path puts the chosen folders first and is stable when applied again") {
    NativeDecision d;
    CudnnCandidate c;
    c.dir = "/env/nvidia/cudnn/lib";
    c.major = 9;
    c.version = "9.1.0.70";
    d.choices.push_back({9, c, "env"});
    EnvMap vars{{"LD_LIBRARY_PATH", "/opt/a:/env/nvidia/cudnn/lib:/opt/b"}};
    EnvChange ch = native_library_path(d, vars, Platform::Posix);
    CHECK(ch.name == "LD_LIBRARY_PATH");
    CHECK(*ch.value == "/env/nvidia/cudnn/lib:/opt/a:/opt/b");
    vars["LD_LIBRARY_PATH"] = *ch.value;
    CHECK(*native_library_path(d, vars, Platform::Posix).value == *ch.value);
    CHECK(native_library_path(d, {}, Platform::Windows).name == "PATH");
}

TEST_CASE("[native] config: keys, types and unknown keys") {
    Config c = parse_config(
        "[native]\ncudnn = \"cudnn9/lib\"\ncudnn_majors = [8]\ngpu_check = false\ncpu = true\n",
        "/cfg/alltalk-launch.toml");
    CHECK(*c.native.cudnn == "/cfg/cudnn9/lib");
    CHECK(c.native.cudnn_majors == std::vector<int>{8});
    CHECK(*c.native.gpu_check == false);
    CHECK(*c.native.cpu == true);
    auto error = [](const std::string& text) -> std::string {
        try {
            parse_config(text, "/cfg/alltalk-launch.toml");
        } catch (const LaunchError& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK(error("[native]\ncudnn_majors = 8\n").find("must be an array of integers") !=
          std::string::npos);
    CHECK(error("[native]\ncudnn_majors = [\"8\"]\n").find("cuDNN major version") !=
          std::string::npos);
    CHECK(error("[native]\ngpu_check = \"no\"\n").find("must be true or false") !=
          std::string::npos);
    CHECK(error("[native]\ncudnn = 9\n").find("must be a string") != std::string::npos);
    CHECK(error("[native]\ncuda = 1\n").find("unknown key `cuda` in [native]") !=
          std::string::npos);
    CHECK(error("native = 1\n").find("`native` must be a table") != std::string::npos);
}

// An AllTalk root whose env has torch pinning cuDNN 9 and the wheel that serves it, planned with a
// runtime folder (so a link folder and an alias folder) and no system cuDNN folders.
struct TorchRoot {
    test::TempDir tmp;
    fs::path root = tmp.path() / "alltalk_tts";
    fs::path env = root / "alltalk_environment" / "env";
    fs::path site = env / "lib" / "python3.11" / "site-packages";
    DiscoveryInputs in;
    PlanContext ctx;

    TorchRoot() {
        test::make_root(root);
        test::make_prefix(env);
        test::write_dist(site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
        test::write_files(site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
        in.cwd = root;
        in.exe = tmp.path() / "bin" / "alltalk-launch";
        in.env_vars = {{"PATH", "/usr/bin"}, {"LD_LIBRARY_PATH", "/opt/lib"}};
        ctx.want = PythonVersion{3, 11, "3.11"};
        ctx.runtime_dir = tmp.path() / "run";
        ctx.system_library_dirs.emplace();
    }
};

TEST_CASE("the plan: cuDNN through a private link folder, --cpu, [native] config") {
    TorchRoot t;
    const fs::path &tmp = t.tmp.path(), &root = t.root, &site = t.site;
    const DiscoveryInputs& in = t.in;
    const PlanContext& ctx = t.ctx;
    LaunchRequest r;
    r.command = Command::Server;
    LaunchPlan p = make_plan(r, in, ctx);
    REQUIRE(p.cudnn_link_dir);
    CHECK(p.cudnn_link_dir->parent_path().parent_path() == tmp / "run");
    auto ld = std::find_if(p.env_changes.begin(), p.env_changes.end(),
                           [](const EnvChange& c) { return c.name == "LD_LIBRARY_PATH"; });
    REQUIRE(ld != p.env_changes.end());
    CHECK(*ld->value == p.cudnn_link_dir->string() + ":/opt/lib");
    CHECK(p.gpu_check);
    CHECK_FALSE(p.cpu_only);
    CHECK(describe_plan(p).find("chose cuDNN 9: " + (site / "nvidia" / "cudnn" / "lib").string()) !=
          std::string::npos);

    r.cpu = true;
    r.no_gpu_check = true;
    p = make_plan(r, in, ctx);
    CHECK(p.cpu_only);
    CHECK_FALSE(p.gpu_check);
    auto cvd = std::find_if(p.env_changes.begin(), p.env_changes.end(),
                            [](const EnvChange& c) { return c.name == "CUDA_VISIBLE_DEVICES"; });
    REQUIRE(cvd != p.env_changes.end());
    CHECK(*cvd->value == "");

    test::write(root / "alltalk-launch.toml", "[native]\ncpu = true\ngpu_check = false\n");
    r.cpu = false;
    r.no_gpu_check = false;
    p = make_plan(r, in, ctx);
    CHECK(p.cpu_only);
    CHECK_FALSE(p.gpu_check);
}

TEST_CASE("the plan stays as made: what start-up could not make is worked out again") {
    TorchRoot t;
    const fs::path &env = t.env, &site = t.site;
    const DiscoveryInputs& in = t.in;
    const PlanContext& ctx = t.ctx;
    LaunchRequest r;
    const LaunchPlan p = make_plan(r, in, ctx);
    REQUIRE(p.alias_dir);
    REQUIRE(p.cudnn_link_dir);
    auto value = [](const std::vector<EnvChange>& changes, const std::string& name) {
        for (const auto& c : changes) {
            if (c.name == name && c.value) {
                return *c.value;
            }
        }
        return std::string("<none>");
    };
    // Everything made: what make_plan said.
    CHECK(value(environment_changes(p, in.env_vars, Platform::Posix), "PATH") ==
          value(p.env_changes, "PATH"));
    // No alias folder: PATH without it, worked out, not cut out of a string.
    StartOutcome no_alias;
    no_alias.alias_dir = false;
    const std::string path =
        value(environment_changes(p, in.env_vars, Platform::Posix, no_alias), "PATH");
    CHECK(path.find(p.alias_dir->string()) == std::string::npos);
    CHECK(path.rfind((env / "bin").string() + ":", 0) == 0);
    // No link folder: the chosen folder itself leads LD_LIBRARY_PATH.
    StartOutcome no_links;
    no_links.cudnn_links = false;
    CHECK(value(environment_changes(p, in.env_vars, Platform::Posix, no_links),
                "LD_LIBRARY_PATH") == (site / "nvidia" / "cudnn" / "lib").string() + ":/opt/lib");
    // A link folder that was not made is not handed to children; one that was, is, and the
    // child's own plan leads LD_LIBRARY_PATH with it again.
    CHECK_FALSE(decode_child_plan(encode_child_plan(p, no_links)).cudnn_link_dir);
    const LaunchPlan parent = decode_child_plan(encode_child_plan(p, StartOutcome{}));
    REQUIRE(parent.cudnn_link_dir);
    const LaunchPlan child = make_child_plan(parent, {"-c", "pass"}, {{"LD_LIBRARY_PATH", "/x"}});
    CHECK(child.python_argv == std::vector<std::string>{p.env.python.string(), "-c", "pass"});
    CHECK(value(child.env_changes, "LD_LIBRARY_PATH") == p.cudnn_link_dir->string() + ":/x");
}

TEST_CASE("a missing GPU-only need is an error with a GPU and a warning without one") {
    Env e;
    test::write_dist(e.site, "ctranslate2", "4.4.0");
    LaunchPlan plan;
    plan.env = e.env;
    plan.native = e.analyze();
    REQUIRE(plan.native.missing.size() == 1);
    CHECK(missing_only_on_gpu(plan.native));
    CHECK_THROWS_WITH_AS(require_native(plan, true),
                         doctest::Contains("cuDNN 8 is needed by ctranslate2 4.4.0"), LaunchError);
    CHECK_NOTHROW(require_native(plan, false));
    // A need from a Requires-Dist pin (loaded at import) is an error either way.
    test::write_dist(e.site, "torch", "2.3.1", {"nvidia-cudnn-cu12==8.9.2.26"});
    plan.native = e.analyze();
    CHECK_FALSE(missing_only_on_gpu(plan.native));
    CHECK_THROWS_AS(require_native(plan, false), LaunchError);
}

TEST_CASE("nothing needs cuDNN: no candidate search, unless asked for (the doctor)") {
    Env e;
    test::write_dist(e.site, "numpy", "1.26.4");
    test::write_files(e.site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
    auto d = e.analyze();
    CHECK(d.needs.empty());
    CHECK(d.candidates.empty());
    CHECK(describe_native(d).find("not searched (nothing needs cuDNN)") != std::string::npos);
    NativeFacts f;
    f.env = e.env;
    f.platform = Platform::Posix;
    f.system_dirs.emplace();
    f.search_without_needs = true;
    d = analyze_native(f);
    REQUIRE(d.candidates.size() == 1);
    CHECK(d.choices.empty());
}

TEST_CASE("the decision survives the re-exec text unchanged") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
    test::write_dist(e.site, "ctranslate2", "4.4.0");
    test::write_files(e.site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
    NativeDecision d = e.analyze();
    REQUIRE(d.choices.size() == 1);
    REQUIRE(d.missing.size() == 1);
    auto back = decode_native_decision(encode_native_decision(d));
    REQUIRE(back);
    CHECK(describe_native(*back) == describe_native(d));
    CHECK(back->library_dirs() == d.library_dirs());
    CHECK(back->choices[0].candidate.libraries == d.choices[0].candidate.libraries);
    CHECK(back->missing[0].needed_by[0].gpu_only);
    CHECK(missing_cudnn_message(*back, e.env) == missing_cudnn_message(d, e.env));
    CHECK_FALSE(decode_native_decision("not toml ["));
    CHECK_FALSE(decode_native_decision("codec = 99\n"));
    CHECK_FALSE(decode_native_decision(""));
    CHECK_FALSE(decode_native_decision("{\"codec\": 99}"));
    CHECK_FALSE(decode_native_decision("{\"codec\": 2, \"needs\": [{\"major\": \"nine\"}]}"));
    // A folder whose name is not UTF-8 is not written at all (never changed on the way).
    d.choices[0].candidate.dir = std::string("/opt/cudnn-\xff");
    CHECK(encode_native_decision(d).empty());
}

TEST_CASE("Requires-Dist markers are evaluated as PEP 508 for the target platform") {
    CHECK(marker_may_apply("platform_system == \"Linux\" and platform_machine == \"x86_64\"",
                           Platform::Posix));
    CHECK_FALSE(marker_may_apply("platform_system == \"Linux\" and platform_machine == \"x86_64\"",
                                 Platform::Windows));
    CHECK_FALSE(marker_may_apply("platform_system != 'Linux'", Platform::Posix));
    CHECK(marker_may_apply("platform_system != 'Linux'", Platform::Windows));
    CHECK_FALSE(marker_may_apply("extra == 'cuda'", Platform::Posix));
    CHECK(marker_may_apply("python_version < '3.13'", Platform::Posix));  // undecidable
    auto r =
        parse_simple_requirement("nvidia-cudnn-cu12 (==9.1.0.70) ; platform_system == 'Linux'");
    REQUIRE(r);
    CHECK(r->key == "nvidia-cudnn-cu12");
    CHECK(r->pinned == "9.1.0.70");
    CHECK_FALSE(parse_simple_requirement("nvidia-cudnn-cu12>=9,<10")->pinned);
}

TEST_CASE("a command's overlay: its needs and its cuDNN wheel are read from its view") {
    Env e;
    test::write_dist(e.site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
    test::write_dist(e.site, "nvidia-cudnn-cu12", "9.1.0.70");
    test::write_dist(e.site, "ctranslate2", "4.5.0");
    test::write_files(e.site / "nvidia" / "cudnn" / "lib", kCudnn9Linux);
    // The overlay holds an older ctranslate2 (cuDNN 8) and the cuDNN 8 wheel it needs.
    const fs::path ov = e.tmp.path() / "overlays" / "finetune";
    test::write_dist(ov, "ctranslate2", "4.4.0");
    test::write_dist(ov, "nvidia-cudnn-cu12", "8.9.7.29");
    test::write_files(ov / "nvidia" / "cudnn" / "lib", kCudnn8Linux);

    // The base view: cuDNN 9 only, from the env.
    auto base = e.analyze();
    REQUIRE(base.missing.empty());
    REQUIRE(base.choices.size() == 1);
    CHECK(base.choices[0].major == 9);

    NativeFacts f;
    f.env = e.env;
    f.platform = Platform::Posix;
    f.system_dirs = std::vector<std::pair<fs::path, std::string>>{};
    f.overlay_dir = ov;
    auto d = analyze_native(f);
    REQUIRE(d.missing.empty());
    REQUIRE(d.choices.size() == 2);
    CHECK(d.choices[0].major == 8);
    CHECK(d.choices[0].candidate.dir == ov / "nvidia" / "cudnn" / "lib");
    CHECK(d.choices[1].major == 9);
    CHECK(d.choices[1].candidate.dir == e.site / "nvidia" / "cudnn" / "lib");
    const std::string text = describe_native(d);
    CHECK(text.find("ctranslate2 4.4.0") != std::string::npos);
    CHECK(text.find("ctranslate2 4.5.0") == std::string::npos);

    // Without the overlay's cuDNN 8 wheel, the need is missing in that view alone.
    fs::remove_all(ov / "nvidia");
    d = analyze_native(f);
    REQUIRE(d.missing.size() == 1);
    CHECK(d.missing[0].major == 8);
    CHECK(e.analyze().missing.empty());
}
