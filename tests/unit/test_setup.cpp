// `alltalk-launch setup`'s pure parts: the lock's header, the variant the GPU decides, the plan.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "base/files.hpp"
#include "setup/checkout.hpp"
#include "setup/lock.hpp"
#include "setup/plan.hpp"
#include "setup/run.hpp"
#include "setup/variant.hpp"

namespace fs = std::filesystem;
using namespace alltalk;
using namespace alltalk::setup;

namespace {

std::string lock_text(const std::string& variant, const std::string& cuda, const std::string& archs,
                      const std::string& extra = "") {
    return "# alltalk-launch lock\n"
           "# alltalk: v2\n"
           "# alltalk-commit: abc 2025-02-27 alltalkbeta\n"
           "# platform: linux_x86_64\n"
           "# python: 3.11\n"
           "# variant: " +
           variant + "\n# cuda: " + cuda + "\n# torch: 2.15.0\n# torch-archs: " + archs +
           "\n# index: https://pypi.org/simple\n"
           "# requirements: system/requirements/requirements_standalone.txt sha256=00ff\n"
           "# local: ./system/config/fairseq.whl; sys_platform == \"linux\"\n"
           "# pin: pydantic<2.11  gradio 4.44.1 breaks with pydantic 2.11+\n"
           "# pin: pynvml  finetune.py imports it\n"
           "# sdist-only: docopt langdetect\n"
           "# needs-compiler: pyworld\n"
           "# download-bytes: 3000000000\n"
           "# installed-bytes: 7000000000\n" +
           extra +
           "six==1.17.0 \\\n"
           "    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n"
           "docopt==0.6.2 \\\n"
           "    --hash=sha256:49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491\n"
           "pyworld==0.3.5 \\\n"
           "    --hash=sha256:00aa\n";
}

LockInfo lock_of(const std::string& id, const std::string& variant, const std::string& cuda,
                 const std::string& archs) {
    std::string why;
    auto l = parse_lock(id, lock_text(variant, cuda, archs), &why);
    REQUIRE_MESSAGE(l, why);
    return *l;
}

GpuProbe gpu(int major, int minor, int driver) {
    GpuProbe p;
    p.driver_present = true;
    p.driver_version = driver;
    p.devices.push_back({0, "NVIDIA GeForce Test", major, minor, 16ull << 30});
    return p;
}

}  // namespace

TEST_CASE("setup lock: the header and the pins are read") {
    const LockInfo l = lock_of("alltalk-v2-linux_x86_64-cu130", "cu130", "13.0", "sm_75 sm_120");
    CHECK(l.alltalk == "v2");
    CHECK(l.cuda == 13000);
    CHECK(l.torch_archs == std::vector<std::string>{"sm_75", "sm_120"});
    CHECK(l.requirements == "system/requirements/requirements_standalone.txt");
    CHECK(l.requirements_sha256 == "00ff");
    REQUIRE(l.pins.size() == 2);
    CHECK(l.pins[0].requirement == "pydantic<2.11");
    CHECK(l.pins[0].reason == "gradio 4.44.1 breaks with pydantic 2.11+");
    CHECK(l.local ==
          std::vector<std::string>{"./system/config/fairseq.whl; sys_platform == \"linux\""});
    CHECK(l.sdist_only == std::vector<std::string>{"docopt", "langdetect"});
    CHECK(l.download_bytes == 3000000000ull);
    CHECK(l.needs_compiler == std::vector<std::string>{"pyworld"});
    CHECK(l.packages == std::vector<std::string>{"six==1.17.0", "docopt==0.6.2", "pyworld==0.3.5"});
    // What setup installs: the lock less what needs a compiler, hashes and all.
    const std::string kept = lock_without(l.text, l.needs_compiler);
    CHECK(kept.find("pyworld==") == std::string::npos);
    CHECK(kept.find("00aa") == std::string::npos);
    CHECK(kept.find("docopt==0.6.2 \\\n    --hash=sha256:49b3") != std::string::npos);
    CHECK(lock_without(l.text, {}) == l.text);
    CHECK_FALSE(lock_of("x", "cpu", "none", "").cuda);
}

TEST_CASE("setup lock: what setup cannot install from is refused with the reason") {
    std::string why;
    CHECK_FALSE(parse_lock("x", lock_text("cu130", "thirteen", ""), &why));
    CHECK(why.find("cuda") != std::string::npos);
    std::string no_torch = lock_text("cu130", "13.0", "");
    no_torch.erase(no_torch.find("# torch: 2.15.0\n"), 16);
    CHECK_FALSE(parse_lock("x", no_torch, &why));
    CHECK(why == "the header has no '# torch: ...' line");
    CHECK_FALSE(parse_lock("x", lock_text("cu130", "13.0", "") + "gradio>=4\n", &why));
    CHECK(why.find("'gradio>=4' is not an exact pin") != std::string::npos);
    CHECK_FALSE(parse_lock("x", "# alltalk-launch lock\n", &why));
    CHECK(parse_cuda_version("12.8") == 12080);
    CHECK_FALSE(parse_cuda_version("12"));
    CHECK_FALSE(parse_cuda_version("12.x"));
    CHECK(cuda_version_str(12060) == "12.6");
}

TEST_CASE("setup lock: every shipped lock parses, and the shipped list holds each of them") {
    std::size_t files = 0;
    for (const auto& e :
         fs::directory_iterator(fs::path(ALLTALK_SOURCE_DIR) / "packaging" / "locks")) {
        if (e.path().extension() != ".txt") {
            continue;
        }
        ++files;
        std::string why;
        const auto l = parse_lock(e.path().stem().string(), files::read_all(e.path()), &why);
        const std::string where = e.path().string() + ": " + why;
        REQUIRE_MESSAGE(l, where);
        CHECK(l->python == "3.11");
        CHECK_FALSE(l->proven.empty());
        CHECK(l->installed_bytes > 0);
        // Its name says what it is for.
        CHECK(l->id == "alltalk-" + l->alltalk + "-" + l->platform + "-" + l->variant);
    }
    CHECK(shipped_locks().size() == files);
}

TEST_CASE("setup variant: the shipped v2 locks serve GPUs from Maxwell to RTX 50xx") {
    // The real locks, with the architectures read from their torch: which one each GPU and
    // driver gets (the driver's CUDA version as cuDriverGetVersion gives it).
    std::vector<const LockInfo*> v2;
    for (const LockInfo& l : shipped_locks()) {
        if (l.alltalk == "v2" && l.platform == "linux_x86_64") {
            v2.push_back(&l);
        }
    }
    REQUIRE(v2.size() >= 3);
    const auto pick = [&](int major, int minor, int driver) {
        const VariantChoice v = choose_variant(v2, gpu(major, minor, driver), GpuChoice::Auto);
        return v.lock ? v.lock->variant : "none: " + v.problem;
    };
    CHECK(pick(12, 0, 13000) == "cu130");  // RTX 5090 on a 580 driver
    CHECK(pick(12, 0, 12080) == "cu128");  // the same on a 570 driver
    CHECK(pick(8, 9, 12080) == "cu128");   // RTX 4090 on a 570 driver
    CHECK(pick(8, 6, 12060) == "cu126");   // RTX 3060 on a 560 driver
    CHECK(pick(6, 1, 13000) == "cu126");   // GTX 1080: no sm_61 kernels in the newer builds
    CHECK(pick(5, 2, 12060) == "cu126");   // GTX 970 (Maxwell)
    CHECK(pick(12, 0, 12060).rfind("none: ", 0) == 0);  // RTX 50xx needs CUDA 12.8's driver
    CHECK(pick(6, 1, 12040).rfind("none: ", 0) == 0);   // a 550 driver: no shipped build...
    // ... but the CUDA 12.6 build has sm_61 kernels: named, with --profile, as the way round.
    CHECK(pick(6, 1, 12040).find("minor version compatibility") != std::string::npos);
    CHECK(pick(6, 1, 12040).find("--profile alltalk-v2-linux_x86_64-cu126") != std::string::npos);
    // An RTX 50xx on a CUDA 12.6 driver: the 12.8 build has its kernels, the driver's minor lags.
    CHECK(pick(12, 0, 12060).find("--profile alltalk-v2-linux_x86_64-cu128") != std::string::npos);
    // A CUDA 13 build is never offered to a CUDA 12 driver.
    CHECK(pick(6, 1, 12040).find("cu130`") == std::string::npos);
}

TEST_CASE("setup variant: the GPU and its driver decide among the locks") {
    const LockInfo cu130 =
        lock_of("cu130", "cu130", "13.0", "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120");
    const LockInfo cu128 =
        lock_of("cu128", "cu128", "12.8", "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120");
    const LockInfo cu126 =
        lock_of("cu126", "cu126", "12.6", "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90");
    const LockInfo cpu = lock_of("cpu", "cpu", "none", "");
    const std::vector<const LockInfo*> all = {&cu126, &cpu, &cu130, &cu128};
    // RTX 5080 (sm_120) behind a 580 driver (CUDA 13.0): the newest build.
    CHECK(choose_variant(all, gpu(12, 0, 13000), GpuChoice::Auto).lock == &cu130);
    // The same GPU behind a 570 driver: CUDA 13 needs a newer driver; 12.8 has sm_120.
    VariantChoice v = choose_variant(all, gpu(12, 0, 12080), GpuChoice::Auto);
    CHECK(v.lock == &cu128);
    // An RTX 4090 (sm_89, not 12.0): sm_86 cubins run on it.
    CHECK(choose_variant(all, gpu(8, 9, 13000), GpuChoice::Auto).lock == &cu130);
    // A GTX 1080 (sm_61): only the CUDA 12.6 build still has Pascal kernels.
    CHECK(choose_variant(all, gpu(6, 1, 13000), GpuChoice::Auto).lock == &cu126);
    // An RTX 5080 behind a CUDA 12.6 driver: no build fits; the problem names each build's reason.
    v = choose_variant(all, gpu(12, 0, 12060), GpuChoice::Auto);
    CHECK_FALSE(v.lock);
    CHECK(v.problem.find("cu130 (torch 2.15.0, CUDA 13.0): CUDA 13.0 needs a newer driver") !=
          std::string::npos);
    CHECK(v.problem.find("cu126 (torch 2.15.0, CUDA 12.6): no sm_120 kernels") !=
          std::string::npos);
    CHECK(v.problem.find("--gpu cpu") != std::string::npos);
    // No GPU: the CPU build; with none, the CUDA build with a note.
    GpuProbe none;
    none.note = "no NVIDIA driver";
    CHECK(choose_variant(all, none, GpuChoice::Auto).lock == &cpu);
    v = choose_variant({&cu128, &cu130}, none, GpuChoice::Auto);
    CHECK(v.lock == &cu130);
    CHECK(v.note.find("runs on the CPU as well") != std::string::npos);
    // --gpu overrides the probe both ways.
    CHECK(choose_variant(all, gpu(12, 0, 13000), GpuChoice::Cpu).lock == &cpu);
    CHECK(choose_variant(all, none, GpuChoice::Cuda).lock == &cu130);
    CHECK_FALSE(choose_variant({&cpu}, none, GpuChoice::Cuda).lock);
    CHECK(choose_variant({}, none, GpuChoice::Auto).problem.find("No lock") != std::string::npos);
}

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("alltalk-setup-unit-" + std::to_string(::rand()));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

fs::path make_checkout(const fs::path& root, const std::string& requirements) {
    write(root / "script.py", "");
    write(root / "finetune.py", "");
    fs::create_directories(root / "system" / "tts_engines");
    write(root / "system" / "requirements" / "requirements_standalone.txt", requirements);
    return root;
}

SetupFacts facts_for(const fs::path& root, const std::vector<const LockInfo*>& locks) {
    SetupFacts f;
    f.checkout = inspect_checkout(root);
    f.env = root / "alltalk_environment" / "env";
    f.python.python = "/usr/bin/python3.11";
    f.python.version = "3.11.9";
    f.python.source = "PATH";
    f.platform = "linux_x86_64";
    f.locks = locks;
    f.launcher = "/opt/alltalk-launch";
    f.host = Platform::Posix;
    f.options.gpu = GpuChoice::Cpu;
    return f;
}

}  // namespace

TEST_CASE("setup checkout: v1 and v2 told apart, and what setup refuses") {
    TempDir t;
    const fs::path v2 = make_checkout(t.path / "alltalk_tts",
                                      "gradio==4.44.1\n./system/config/x.whl; sys_platform == "
                                      "\"linux\"\n# c\n\npydantic>=2.8.2  # why\n");
    Checkout c = inspect_checkout(v2);
    CHECK(c.version == "v2");
    CHECK(c.requirement_lines == std::vector<std::string>{"gradio==4.44.1", "pydantic>=2.8.2"});
    CHECK(c.local_lines ==
          std::vector<std::string>{"./system/config/x.whl; sys_platform == \"linux\""});
    CHECK(c.requirements_sha256.size() == 64);
    CHECK(checkout_problem(c).empty());

    const fs::path v1 = t.path / "v1";
    write(v1 / "script.py", "");
    write(v1 / "finetune.py", "");
    write(v1 / "modeldownload.py", "");
    write(v1 / "system" / "requirements" / "requirements_standalone.txt", "TTS==0.22.0\n");
    CHECK(inspect_checkout(v1).version == "v1");

    const fs::path dash = make_checkout(t.path / "alltalk_tts-main", "six\n");
    CHECK(checkout_problem(inspect_checkout(dash)).find("contains a '-'") != std::string::npos);
    fs::remove_all(v1 / "modeldownload.py");
    CHECK(checkout_problem(inspect_checkout(v1)).find("is unknown") != std::string::npos);
    CHECK(checkout_problem(inspect_checkout(t.path)).find("not an AllTalk checkout") !=
          std::string::npos);
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("setup plan: the lock installed exactly, or the checkout's requirements resolved") {
    TempDir t;
    const fs::path root = make_checkout(t.path / "alltalk_tts",
                                        "six==1.17.0\n./system/config/fairseq.whl; sys_platform == "
                                        "\"linux\"\n./system/config/fairseq.exe; sys_platform == "
                                        "\"win32\"\n");
    LockInfo lock = lock_of("alltalk-v2-linux_x86_64-cu130", "cu130", "13.0", "sm_120");
    SetupFacts f = facts_for(root, {&lock});
    // The checkout's requirements differ from the lock's (its sha256 is 00ff): pip resolves them.
    SetupPlan p = make_setup_plan(f);
    CHECK_FALSE(p.lock_matches);
    REQUIRE(p.steps.size() == 3);
    CHECK(p.steps[1].title == "Resolve and install the checkout's requirements");
    CHECK(p.constraints_text == "torch==2.15.0\n");
    CHECK(p.requirements_text == "six==1.17.0\npydantic<2.11\npynvml\n");
    // The lock made from this very file: installed exactly, hashes checked, wheels only.
    lock.requirements_sha256 = f.checkout.requirements_sha256;
    p = make_setup_plan(f);
    CHECK(p.lock_matches);
    const std::vector<std::string> want = {"/alltalk_tts/alltalk_environment/env/bin/python",
                                           "-m",
                                           "pip",
                                           "install",
                                           "--disable-pip-version-check",
                                           "--no-compile",
                                           "--no-deps",
                                           "--require-hashes",
                                           "--only-binary",
                                           ":all:",
                                           "--no-binary",
                                           "docopt,langdetect",
                                           "-r"};
    std::vector<std::string> got = p.steps[1].argv;
    got[0] = got[0].substr(t.path.string().size());
    got.pop_back();  // the lock's copy
    CHECK(got == want);
    CHECK(p.steps[0].argv ==
          std::vector<std::string>{"/usr/bin/python3.11", "-m", "venv", f.env.string()});
    // One check for both commands, its JSON beside the lock's copy.
    REQUIRE(p.steps.size() == 3);
    CHECK(p.steps[2].id == "check");
    CHECK(std::vector<std::string>(p.steps[2].argv.end() - 3, p.steps[2].argv.end()) ==
          std::vector<std::string>{"--deep", "--json-file", p.check_json.string()});
    CHECK(p.check_json == f.env / ".alltalk-launch" / "setup" / "check.json");
    CHECK(p.need_bytes == 10000000000ull);
    // The local wheel is missing from this checkout: a note, not a step.
    CHECK(std::any_of(p.notes.begin(), p.notes.end(), [](const std::string& n) {
        return n.find("./system/config/fairseq.whl is missing") != std::string::npos;
    }));
    // Present, it is installed after the lock, without its dependencies (the lock holds them);
    // the Windows one is not, on Linux.
    write(root / "system" / "config" / "fairseq.whl", "");
    write(root / "system" / "config" / "fairseq.exe", "");
    p = make_setup_plan(f);
    REQUIRE(p.steps.size() == 4);
    CHECK(p.steps[2].id == "local");
    CHECK(p.steps[2].argv.back() == (root / "system" / "config" / "fairseq.whl").string());
    CHECK(p.steps[2].argv[p.steps[2].argv.size() - 2] == "--no-deps");
    // uv: the same flags through `uv pip install --python`.
    f.options.installer = "uv";
    f.uv = "/usr/bin/uv";
    p = make_setup_plan(f);
    CHECK(std::vector<std::string>(p.steps[1].argv.begin(), p.steps[1].argv.begin() + 5) ==
          std::vector<std::string>{"/usr/bin/uv", "pip", "install", "--python",
                                   (f.env / "bin" / "python").string()});
}

TEST_CASE("setup plan: what it refuses before anything is made") {
    TempDir t;
    const fs::path root = make_checkout(t.path / "alltalk_tts", "six\n");
    const LockInfo lock = lock_of("alltalk-v2-linux_x86_64-cu130", "cu130", "13.0", "sm_120");
    const auto refused = [](const SetupFacts& f) {
        try {
            make_setup_plan(f);
        } catch (const LaunchError& e) {
            CHECK(e.stage() == Stage::Setup);
            return std::string(e.what());
        }
        return std::string();
    };
    SetupFacts f = facts_for(root, {&lock});
    f.env_state = EnvState::Exists;
    f.aside = "/x/env.before-setup-1";
    CHECK(refused(f).find("already holds an environment") != std::string::npos);
    CHECK(refused(f).find("--force") != std::string::npos);
    f.options.force = true;
    CHECK(refused(f).empty());
    f = facts_for(root, {&lock});
    f.free_bytes = 5ull << 30;
    CHECK(refused(f).find("needs about 9.3 GiB of disk") != std::string::npos);
    f = facts_for(root, {&lock});
    f.options.profile = "alltalk-v2-win_amd64-cu128";
    CHECK(refused(f).find("names no lock") != std::string::npos);
    f = facts_for(root, {&lock});
    f.platform = "win_amd64";
    CHECK(refused(f).find("no proven lock ships for AllTalk v2 on win_amd64") != std::string::npos);
    CHECK(refused(f).find("download.pytorch.org") != std::string::npos);
    f = facts_for(root, {&lock});
    f.checkout.version = "v1";
    CHECK(refused(f).find("no proven lock ships for AllTalk v1 on linux_x86_64") !=
          std::string::npos);
    CHECK(refused(f).find("av 11.0.0 is on PyPI only as source") != std::string::npos);
    f = facts_for(root, {&lock});
    CHECK(refused(f).find("PyPI only as source") == std::string::npos);
    f = facts_for(root, {&lock});
    f.options.installer = "uv";
    CHECK(refused(f).find("no uv was found") != std::string::npos);
    f = facts_for(root, {&lock});
    f.options.gpu = GpuChoice::Auto;
    f.probe = gpu(12, 0, 12040);
    CHECK(refused(f).find("needs a newer driver") != std::string::npos);
}

TEST_CASE("setup check: the commands a doctor's errors stop, read from its JSON") {
    // A finetune-only error and a warning for server: finetune failed, server did not.
    CHECK(commands_failed(R"({"commands": {"server": {}, "finetune": {}}, "findings": [
        {"id": "deep-import", "severity": "error", "commands": ["finetune"]},
        {"id": "deep-import", "severity": "warning", "commands": ["server"]}]})") ==
          std::vector<std::string>{"finetune"});
    // An error without commands concerns every command checked, server first.
    CHECK(commands_failed(R"({"commands": {"finetune": {}, "server": {}}, "findings": [
        {"id": "env-missing", "severity": "error", "commands": []}]})") ==
          std::vector<std::string>{"server", "finetune"});
    CHECK(commands_failed(R"({"commands": {"server": {}}, "findings": [
        {"id": "x", "severity": "error", "commands": ["finetune"]},
        {"id": "y", "severity": "error", "commands": ["server", "finetune"]}]})") ==
          std::vector<std::string>{"server", "finetune"});
    CHECK(commands_failed(R"({"findings": [{"severity": "note"}]})").empty());
    CHECK(commands_failed("not json").empty());
    CHECK(commands_failed("").empty());
}
