// The rule data (conditions, failure matching) and the doctor's pure diagnosis on hand-made facts.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>

#include "base/error.hpp"
#include "base/text.hpp"
#include "diagnose/doctor.hpp"
#include "diagnose/explain.hpp"
#include "diagnose/rules.hpp"
#include "test_support.hpp"

using namespace alltalk;

namespace {

using test::dist;
using test::scan_of;

// Facts of an AllTalk root `root` whose env is <root>/env with Python 3.11.9.
DoctorFacts facts_in_env(const std::string& root) {
    DoctorFacts f;
    f.root.is_alltalk = true;
    f.root.root = root;
    PythonEnv env;
    env.dir = root + "/env";
    env.python = env.dir / "bin" / "python";
    env.version = {3, 11, "3.11.9"};
    f.env = env;
    return f;
}

}  // namespace

TEST_CASE("the compiled-in rules parse and every condition is well formed") {
    const RuleSet& rules = builtin_rules();
    CHECK(rules.rules.size() >= 10);
    CHECK(rules.profiles.size() >= 2);
    for (const auto& r : rules.rules) {
        CHECK_FALSE(r.id.empty());
        CHECK_FALSE(r.message.empty());
    }
}

TEST_CASE("conditions: installed versions, negation, python, markers") {
    SiteScan scan = scan_of(
        {dist("gradio", "4.44.1"), dist("Pydantic", "2.11.3"), dist("ctranslate2", "4.4.0")});
    InstalledFacts facts{&scan, "3.11.7", {{"sys_platform", "linux"}}};
    CHECK(condition_holds("gradio>=4,<5", facts) == true);
    CHECK(condition_holds("pydantic>=2.11", facts) == true);
    CHECK(condition_holds("pydantic<2", facts) == false);
    CHECK(condition_holds("spacy", facts) == false);
    CHECK(condition_holds("!spacy", facts) == true);
    CHECK(condition_holds("!gradio", facts) == false);
    CHECK(condition_holds("!nvidia-cudnn-cu12<9", facts) == true);
    CHECK(condition_holds("!ctranslate2<4.5", facts) == false);
    CHECK(condition_holds("python>=3.11", facts) == true);
    CHECK(condition_holds("python<3.11", facts) == false);
    CHECK(condition_holds("gradio; sys_platform == 'win32'", facts) == false);
    CHECK(condition_holds("gradio; sys_platform == 'linux'", facts) == true);
    CHECK_FALSE(condition_holds("gradio >>> 4", facts).has_value());
}

TEST_CASE("a broken rule file is an error that names the place") {
    CHECK_THROWS_AS(
        parse_rules("[[rule]]\nid = 'x'\nmessage = 'm'\nwhen = ['a >>> 1']\n", "r.toml"),
        LaunchError);
    CHECK_THROWS_WITH_AS(parse_rules("[[rule]]\nid = 'x'\n", "r.toml"),
                         doctest::Contains("message"), LaunchError);
    CHECK_THROWS_WITH_AS(
        parse_rules("[[rule]]\nid='x'\nmessage='m'\n[rule.failure]\nsignals=['SIGNOPE']\n",
                    "r.toml"),
        doctest::Contains("SIGNOPE"), LaunchError);
}

TEST_CASE("failures match on type, pattern, conditions and signals") {
    const RuleSet rules = parse_rules(R"(
[[rule]]
id = "a"
when = ["gradio<4", "pydantic>=2"]
message = "gradio {gradio} with pydantic {pydantic}"
[rule.fix]
install = ["pydantic<2"]
[rule.failure]
exception = ["ValidationError"]
patterns = ["Input should be a valid integer"]

[[rule]]
id = "b"
message = "abort"
[rule.failure]
signals = ["SIGABRT"]
unless = ["never"]
)",
                                      "t.toml");
    SiteScan scan = scan_of({dist("gradio", "3.50.2"), dist("pydantic", "2.6.4")});
    InstalledFacts facts{&scan, "3.11.7", {}};
    FailureInfo f{"pydantic_core._pydantic_core.ValidationError",
                  "1 validation error\nport\n  Input should be a valid integer", "", 0};
    const Rule* r = match_failure(rules, f, facts);
    REQUIRE(r);
    CHECK(r->id == "a");
    const std::string text = explain_failure(rules, f, facts, "/env/bin/python");
    CHECK(text.find("gradio 3.50.2 with pydantic 2.6.4") != std::string::npos);
    CHECK(text.find("/env/bin/python -m pip install 'pydantic<2'") != std::string::npos);

    f.exception_type = "TypeError";  // another type: no match, only the pointer
    CHECK(match_failure(rules, f, facts) == nullptr);
    CHECK(explain_failure(rules, f, facts, "py").find("doctor --report") != std::string::npos);

    SiteScan newer = scan_of({dist("gradio", "4.44.1"), dist("pydantic", "2.6.4")});
    InstalledFacts other{&newer, "3.11.7", {}};
    f.exception_type = "ValidationError";
    CHECK(match_failure(rules, f, other) == nullptr);  // versions do not fit: no guess

    FailureInfo sig{"", "", "", SIGABRT};
    CHECK(match_failure(rules, sig, facts)->id == "b");
    CHECK(explain_failure(rules, sig, facts, "py").find("SIGABRT") != std::string::npos);
    FailureInfo segv{"", "", "", SIGSEGV};
    CHECK(match_failure(rules, segv, facts) == nullptr);
}

TEST_CASE("fatal Windows exceptions are explained as the signal the same fault gives on POSIX") {
    CHECK(signal_of_exception(0xC0000005u) == SIGSEGV);  // access violation
    CHECK(signal_of_exception(0xC00000FDu) == SIGSEGV);  // stack overflow
    CHECK(signal_of_exception(0xC000001Du) == SIGILL);   // illegal instruction
    CHECK(signal_of_exception(0xC0000094u) == SIGFPE);   // integer divide by zero
    CHECK(signal_of_exception(0xC000013Au) == 0);        // STATUS_CONTROL_C_EXIT: not a crash
    CHECK(signal_of_exception(0xE06D7363u) == 0);        // a C++ exception: not one of these
    CHECK(signal_of_exception(0) == 0);

    CHECK(exception_description(0xC0000005u) ==
          "a Windows access violation (exception 0xC0000005: invalid memory access in native "
          "code)");
    CHECK(exception_description(0xC00000FDu).find("stack overflow (exception 0xC00000FD") !=
          std::string::npos);
    CHECK(exception_description(0xC000001Du).find("illegal instruction") != std::string::npos);
    CHECK(exception_description(0xE06D7363u) == "Windows exception 0xE06D7363");

    const RuleSet rules = parse_rules(R"(
[[rule]]
id = "segv"
message = "a segfault"
[rule.failure]
signals = ["SIGSEGV"]
)",
                                      "t.toml");
    SiteScan scan = scan_of({});
    InstalledFacts facts{&scan, "3.11.9", {}};
    FailureInfo av{"", "", "", 0, 0xC0000005u};
    CHECK(is_native_crash(av));
    REQUIRE(match_failure(rules, av, facts));
    CHECK(match_failure(rules, av, facts)->id == "segv");
    const std::string text = explain_failure(rules, av, facts, "py");
    CHECK(text.find("alltalk-launch: the app was stopped by a Windows access violation "
                    "(exception 0xC0000005") == 0);
    CHECK(text.find("[segv]: a segfault") != std::string::npos);
    CHECK(text.find("SIGSEGV") == std::string::npos);  // named as Windows names it

    FailureInfo ill{"", "", "", 0, 0xC000001Du};
    CHECK(match_failure(rules, ill, facts) == nullptr);
    const std::string unknown = explain_failure(rules, ill, facts, "py");
    CHECK(unknown.find("illegal instruction") != std::string::npos);
    CHECK(unknown.find("doctor --report") != std::string::npos);
    // A crash is never taken for an exception in a traceback.
    CHECK(complete_failure(av).exception_type.empty());
}

TEST_CASE("--explain-signal takes a signal number or a Windows exception code, nothing else") {
    auto sig = parse_fatal_failure("6");
    REQUIRE(sig);
    CHECK(sig->signal == 6);
    CHECK(sig->exception_code == 0);
    auto abrt = parse_fatal_failure("22");
    REQUIRE(abrt);
    CHECK(abrt->signal == 22);
    auto av = parse_fatal_failure("0xC0000005");
    REQUIRE(av);
    CHECK(av->exception_code == 0xC0000005u);
    CHECK(av->signal == 0);
    auto lower = parse_fatal_failure("0xc00000fd");
    REQUIRE(lower);
    CHECK(lower->exception_code == 0xC00000FDu);
    for (const char* bad : {"", "0", "-6", "6x", "abc", "0x", "0x0", "0xC00000051", "0xG0000005",
                            "1000", "999", " 6", "0x 5"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_fatal_failure(bad));
    }
}

TEST_CASE("diagnose: conflicts become errors with a fix for this env") {
    DoctorFacts f;
    f.root.root = "/home/u/alltalk_tts";
    f.root.is_alltalk = true;
    PythonEnv env;
    env.dir = "/home/u/alltalk_tts/alltalk_environment/env";
    env.python = env.dir / "bin" / "python";
    env.version = {3, 11, "3.11.9"};
    f.env = env;
    f.scan = scan_of({dist("gradio", "3.50.2", {"pydantic<2.0"}), dist("pydantic", "2.6.4")});
    const DoctorReport r = diagnose(f, builtin_rules());
    REQUIRE(r.check.conflicts.size() == 1);
    CHECK(r.check.conflicts[0].installed == "2.6.4");
    CHECK(r.has_errors());
    bool conflict = false, rule = false;
    for (const auto& x : r.findings) {
        conflict |= x.id == "requirement-conflict" &&
                    x.fix ==
                        "/home/u/alltalk_tts/alltalk_environment/env/bin/python -m pip "
                        "install 'pydantic<2.0'";
        rule |= x.id == "gradio3-pydantic2";
    }
    CHECK(conflict);
    CHECK(rule);
    CHECK(r.findings.front().severity == Severity::Error);
}

TEST_CASE("diagnose: a profile reports what differs from its known-good set") {
    DoctorFacts f = facts_in_env("/r");
    f.scan =
        scan_of({dist("coqui-tts", "0.24.3"), dist("gradio", "4.44.1"), dist("pydantic", "2.9.0")});
    const DoctorReport r = diagnose(f, builtin_rules());
    auto it = std::find_if(r.findings.begin(), r.findings.end(),
                           [](const Finding& x) { return x.id == "profile-alltalk-v2"; });
    REQUIRE(it != r.findings.end());
    CHECK(it->message.find("pydantic 2.9.0") != std::string::npos);
    CHECK(it->message.find("gradio 4.44.1 (known good") == std::string::npos);
    CHECK(it->fix.find("pydantic==2.10.6") != std::string::npos);
}

TEST_CASE("diagnose: a GPU that the installed torch has no kernels for is an error") {
    DoctorFacts f = facts_in_env("/r");
    GpuProbe probe;
    probe.driver_present = true;
    probe.devices.push_back({0, "NVIDIA GeForce RTX 5080", 12, 0, 16ull << 30});
    f.gpus = probe;
    // A build with cubins up to sm_90 and no PTX: nothing an sm_120 GPU can run.
    f.torch_archs =
        std::vector<std::string>{"sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"};
    auto has = [](const DoctorReport& r, const std::string& id) {
        return std::any_of(r.findings.begin(), r.findings.end(),
                           [&](const Finding& x) { return x.id == id; });
    };
    DoctorReport r = diagnose(f, builtin_rules());
    REQUIRE(has(r, "gpu-arch"));
    auto it = std::find_if(r.findings.begin(), r.findings.end(),
                           [](const Finding& x) { return x.id == "gpu-arch"; });
    CHECK(it->severity == Severity::Error);
    CHECK(it->message.find("sm_120") != std::string::npos);
    CHECK(it->fix.find("/r/env/bin/python -m pip install") == 0);
    CHECK(it->fix.find("cu128") != std::string::npos);

    f.gpus->devices[0] = {0, "NVIDIA GeForce RTX 3090", 8, 6, 24ull << 30};  // sm_86: in the list
    r = diagnose(f, builtin_rules());
    CHECK_FALSE(has(r, "gpu-arch"));
    CHECK(has(r, "gpu"));
}

namespace {

bool has_finding(const DoctorReport& r, const std::string& id) {
    return std::any_of(r.findings.begin(), r.findings.end(),
                       [&](const Finding& x) { return x.id == id; });
}

const Finding* finding(const DoctorReport& r, const std::string& id) {
    auto it = std::find_if(r.findings.begin(), r.findings.end(),
                           [&](const Finding& x) { return x.id == id; });
    return it == r.findings.end() ? nullptr : &*it;
}

struct Recorded {
    const char* rule;
    std::vector<std::pair<std::string, std::string>> dists;  // installed where it fires
    const char* type;
    const char* message;
};

}  // namespace

// Recorded failures that users report (sources in rules.toml), each fired by its text beside the
// versions the rule names and not fired by the same text without them (no guessing).
TEST_CASE("recorded failures of AllTalk installs fire their rule, and only beside its versions") {
    const std::vector<Recorded> recorded = {
        {"coqui-tts-no-torch",
         {{"coqui-tts", "0.27.4"}},
         "ImportError",
         "\nCoqui TTS requires the PyTorch and Torchaudio libraries but they were not found in "
         "your\nenvironment."},
        {"coqui-tts-no-torchaudio",
         {{"coqui-tts", "0.28.0"}, {"torch", "2.8.0"}},
         "ImportError",
         "\nCoqui TTS requires the PyTorch and Torchaudio libraries but they were not found in "
         "your\nenvironment."},
        {"coqui-tts-no-torchcodec",
         {{"coqui-tts", "0.28.0"}, {"torch", "2.9.1"}, {"torchaudio", "2.9.1"}},
         "ImportError",
         "\nFrom Pytorch 2.9, the torchcodec library is required for audio IO, but it was not "
         "found in your environment."},
        {"coqpit-original-beside-fork",
         {{"coqpit", "0.0.17"}, {"coqpit-config", "0.2.1"}},
         "ImportError",
         "coqui-tts switched to a forked version of Coqpit, but you still have the original "
         "package installed."},
        {"tts-transformers-sampleoutput",
         {{"TTS", "0.21.3"}, {"transformers", "4.37.0"}},
         "ImportError",
         "cannot import name 'SampleOutput' from 'transformers.generation.utils' "
         "(/home/ai/alltalk_tts/alltalk_environment/env/lib/python3.11/site-packages/"
         "transformers/generation/utils.py)"},
        {"tts-transformers450",
         {{"TTS", "0.22.0"}, {"transformers", "4.50.0"}},
         "AttributeError",
         "'GPT2InferenceModel' object has no attribute 'generate'"},
        {"coqui-tts-transformers450",
         {{"coqui-tts", "0.24.3"}, {"transformers", "4.51.3"}},
         "AttributeError",
         "'GPT2InferenceModel' object has no attribute 'generate'"},
        {"torch-release-mismatch",
         {{"torch", "2.5.1+cu121"}, {"torchvision", "0.19.1+cu121"}},
         "RuntimeError",
         "operator torchvision::nms does not exist"},
        {"torch-cpu-build",
         {{"torch", "2.2.1+cpu"}},
         "AssertionError",
         "Torch not compiled with CUDA enabled"},
        {"deepspeed-build-mismatch",
         {{"deepspeed", "0.11.2"}, {"torch", "2.2.1+cu121"}},
         "RuntimeError",
         "PyTorch version mismatch! DeepSpeed ops were compiled and installed with a different "
         "version than what is being used at runtime."},
        {"no-nvidia-driver",
         {{"torch", "2.2.1+cu121"}},
         "RuntimeError",
         "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and "
         "installed a driver from http://www.nvidia.com/Download/index.aspx"},
        {"deepspeed-no-cuda-home",
         {{"deepspeed", "0.14.0"}},
         "OSError",
         "CUDA_HOME does not exist, unable to compile CUDA op(s)"},
        {"gradio4-pydantic211-share",
         {{"gradio", "4.44.1"}, {"pydantic", "2.11.3"}},
         "ValueError",
         "When localhost is not accessible, a shareable link must be created. Please set "
         "share=True or check your proxy settings to allow access to localhost."},
        {"ctranslate2-45-torch-cudnn8",
         {{"ctranslate2", "4.5.0"}, {"torch", "2.2.1+cu121"}},
         "RuntimeError",
         "Could not locate cudnn_ops64_9.dll. Please make sure it is in your library path!"},
        {"ctranslate2-cuda11-cublas",
         {{"ctranslate2", "3.24.0"}},
         "RuntimeError",
         "Library cublas64_11.dll is not found or cannot be loaded"},
        {"torch-no-add-safe-globals",
         {{"torch", "2.2.1"}},
         "AttributeError",
         "module 'torch.serialization' has no attribute 'add_safe_globals'"},
        {"torch-truncated-checkpoint",
         {{"torch", "2.1.0"}},
         "RuntimeError",
         "PytorchStreamReader failed reading zip archive: failed finding central directory"},
        {"torch-weights-only-opcode",
         {{"torch", "2.6.0"}},
         "_pickle.UnpicklingError",
         "Weights only load failed. This file can still be loaded, to do so you have two "
         "options\n...\nWeightsUnpickler error: Unsupported operand 118"},
    };
    for (const auto& r : recorded) {
        const std::string rule = r.rule;
        CAPTURE(rule);
        std::vector<Distribution> ds;
        for (const auto& [name, version] : r.dists) {
            ds.push_back(dist(name, version));
        }
        SiteScan scan = scan_of(ds);
        InstalledFacts facts{&scan, "3.11.9", {{"sys_platform", "linux"}}};
        FailureInfo f{r.type, r.message, "", 0};
        const Rule* m = match_failure(builtin_rules(), f, facts);
        REQUIRE(m);
        CHECK(m->id == r.rule);
        const std::string text = explain_failure(builtin_rules(), f, facts, "/env/bin/python");
        CAPTURE(text);
        for (const auto& [name, version] : r.dists) {
            // The versions of what the rule's conditions name are shown.
            if (std::any_of(m->when.begin(), m->when.end(), [&](const std::string& c) {
                    return c.find(normalize_name(name)) != std::string::npos;
                })) {
                CHECK(text.find(name + " " + version) != std::string::npos);
            }
        }
        SiteScan none;
        InstalledFacts without{&none, "3.11.9", {{"sys_platform", "linux"}}};
        const Rule* guess = match_failure(builtin_rules(), f, without);
        CHECK((guess == nullptr || guess->id != r.rule));
    }
    // Rules on system programs hold in any env.
    SiteScan none;
    InstalledFacts facts{&none, "3.11.9", {}};
    FailureInfo espeak{"FileNotFoundError",
                       "[!] No espeak backend found. Install espeak-ng or espeak to your system.",
                       "", 0};
    CHECK(match_failure(builtin_rules(), espeak, facts)->id == "espeak-missing");
    FailureInfo mkl{"RuntimeError",
                    "Error: mkl-service + Intel(R) MKL: MKL_THREADING_LAYER=INTEL is "
                    "incompatible with libgomp.so.1 library.",
                    "", 0};
    CHECK(match_failure(builtin_rules(), mkl, facts)->id == "mkl-libgomp");
    // The class-naming weights-only refusal still gets the allow-list rule.
    SiteScan t26 = scan_of({dist("torch", "2.6.0")});
    InstalledFacts with26{&t26, "3.11.9", {}};
    FailureInfo named{"UnpicklingError",
                      "Weights only load failed ... Unsupported global: GLOBAL "
                      "TTS.tts.configs.xtts_config.XttsConfig was not an allowed global",
                      "", 0};
    CHECK(match_failure(builtin_rules(), named, with26)->id == "torch-weights-only");
    // ctranslate2 >= 4.5 beside a cuDNN 9 torch: the general cuDNN 9 rule, not ctranslate2==4.4.0.
    SiteScan ct = scan_of({dist("ctranslate2", "4.5.0"), dist("torch", "2.5.1")});
    InstalledFacts withct{&ct, "3.11.9", {}};
    FailureInfo dll{"RuntimeError", "Could not locate cudnn_ops64_9.dll.", "", 0};
    CHECK(match_failure(builtin_rules(), dll, withct)->id == "cudnn9-missing-ctranslate2");
}

TEST_CASE("doctor: coqui-tts without torch or torchaudio is an error, quiet when both are there") {
    DoctorFacts f = facts_in_env("/r");
    f.scan = scan_of({dist("coqui-tts", "0.27.4")});
    DoctorReport r = diagnose(f, builtin_rules());
    REQUIRE(has_finding(r, "coqui-tts-no-torch"));
    CHECK(finding(r, "coqui-tts-no-torch")->severity == Severity::Error);
    CHECK_FALSE(has_finding(r, "coqui-tts-no-torchaudio"));  // one finding for both missing
    f.scan = scan_of({dist("coqui-tts", "0.27.4"), dist("torch", "2.8.0")});
    r = diagnose(f, builtin_rules());
    CHECK(has_finding(r, "coqui-tts-no-torchaudio"));
    CHECK_FALSE(has_finding(r, "coqui-tts-no-torch"));
    f.scan =
        scan_of({dist("coqui-tts", "0.27.4"), dist("torch", "2.8.0"), dist("torchaudio", "2.8.0")});
    r = diagnose(f, builtin_rules());
    CHECK_FALSE(has_finding(r, "coqui-tts-no-torch"));
    CHECK_FALSE(has_finding(r, "coqui-tts-no-torchaudio"));
    CHECK_FALSE(has_finding(r, "coqui-tts-no-torchcodec"));
    f.scan =
        scan_of({dist("coqui-tts", "0.27.4"), dist("torch", "2.9.0"), dist("torchaudio", "2.9.0")});
    CHECK(has_finding(diagnose(f, builtin_rules()), "coqui-tts-no-torchcodec"));
    f.scan = scan_of({dist("coqui-tts", "0.24.3")});  // before 0.27.4 TTS imports no torch at once
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "coqui-tts-no-torch"));
}

TEST_CASE("doctor: the original coqpit beside coqpit-config is an error") {
    DoctorFacts f = facts_in_env("/r");
    f.scan = scan_of({dist("coqpit", "0.0.17"), dist("coqpit-config", "0.2.1")});
    DoctorReport r = diagnose(f, builtin_rules());
    REQUIRE(has_finding(r, "coqpit-original-beside-fork"));
    CHECK(finding(r, "coqpit-original-beside-fork")->fix.find("pip uninstall -y coqpit") !=
          std::string::npos);
    f.scan = scan_of({dist("coqpit-config", "0.2.1")});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "coqpit-original-beside-fork"));
}

TEST_CASE("doctor: torch and its companions from different releases") {
    DoctorFacts f = facts_in_env("/r");
    // No torch requirement in the companions' metadata (a conda build): the release table, which
    // holds up to torch 2.8.
    f.scan = scan_of({dist("torch", "2.5.1+cu121"), dist("torchvision", "0.19.1+cu121"),
                      dist("torchaudio", "2.5.1+cu121")});
    DoctorReport r = diagnose(f, builtin_rules());
    const Finding* m = finding(r, "torch-release-mismatch");
    REQUIRE(m);
    CHECK(m->severity == Severity::Error);
    CHECK(m->message.find("torchvision 0.19.1+cu121") != std::string::npos);
    CHECK(m->message.find("torchaudio") == std::string::npos);
    // pip picks the torchvision that fits the installed torch: no companion version is derived.
    CHECK(m->fix ==
          "/r/env/bin/python -m pip install 'torchvision!=0.19.1+cu121' torch==2.5.1+cu121 "
          "--index-url https://download.pytorch.org/whl/cu121");
    f.scan = scan_of({dist("torch", "2.2.1"), dist("torchaudio", "2.1.0")});
    r = diagnose(f, builtin_rules());
    m = finding(r, "torch-release-mismatch");
    REQUIRE(m);
    CHECK(m->fix == "/r/env/bin/python -m pip install 'torchaudio!=2.1.0' torch==2.2.1");
    f.scan = scan_of({dist("torch", "2.5.1+cu121"), dist("torchvision", "0.20.1+cu121"),
                      dist("torchaudio", "2.5.1+cu121")});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torch-release-mismatch"));
    f.scan = scan_of({dist("torch", "2.5.1")});  // no companions: nothing to compare
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torch-release-mismatch"));
}

TEST_CASE("doctor: a companion's fit to torch comes from its metadata, not its number") {
    DoctorFacts f = facts_in_env("/r");
    // torchaudio's releases stopped following torch's: 2.11.1 (the newest) requires torch>=2.11
    // and is the right companion of torch 2.15.0 (the drifted AllTalk v2 env of issue 28).
    f.scan = scan_of({dist("torch", "2.15.0"), dist("torchaudio", "2.11.1", {"torch>=2.11"})});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torch-release-mismatch"));
    // Without metadata, torch past 2.8 has no table to judge by: nothing is guessed.
    f.scan = scan_of({dist("torch", "2.15.0"), dist("torchaudio", "2.11.1")});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torch-release-mismatch"));
    // A companion whose metadata pins another torch: the finding, and a fix that keeps torch and
    // asks pip for any other torchaudio (never torchaudio==2.15.*, which does not exist).
    f.scan = scan_of({dist("torch", "2.15.0"), dist("torchaudio", "2.9.0", {"torch==2.9.0"})});
    DoctorReport r = diagnose(f, builtin_rules());
    const Finding* m = finding(r, "torch-release-mismatch");
    REQUIRE(m);
    CHECK(m->message.find("torchaudio 2.9.0 (its metadata requires torch==2.9.0)") !=
          std::string::npos);
    CHECK(m->action.install == std::vector<std::string>{"torchaudio!=2.9.0", "torch==2.15.0"});
    CHECK(m->fix.find("2.15.*") == std::string::npos);
    // The metadata wins over the table too: torch 2.4.1 with a torchvision that declares it.
    f.scan = scan_of({dist("torch", "2.4.1"), dist("torchvision", "0.99.0", {"torch==2.4.1"})});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torch-release-mismatch"));
    // A requirement behind an extra does not count: the table judges torch 2.4's torchaudio.
    f.scan = scan_of(
        {dist("torch", "2.4.1"), dist("torchaudio", "2.9.0", {"torch==2.4.1; extra == \"old\""})});
    CHECK(has_finding(diagnose(f, builtin_rules()), "torch-release-mismatch"));
}

TEST_CASE("doctor: the drifts of an AllTalk v2 env installed from its requirements today") {
    DoctorFacts f = facts_in_env("/r");
    // What pip installs for AllTalk v2's requirements_standalone.txt in 2026 (issue 28).
    f.scan = scan_of({dist("coqui-tts", "0.24.3"), dist("transformers", "5.24.0"),
                      dist("gradio", "4.44.1"), dist("huggingface_hub", "2.4.0"),
                      dist("pydantic", "2.14.4")});
    DoctorReport r = diagnose(f, builtin_rules());
    const Finding* lw = finding(r, "coqui-tts-logitswarper");
    REQUIRE(lw);
    CHECK(lw->action.install == std::vector<std::string>{"transformers<4.49"});
    const Finding* hf = finding(r, "gradio-hfhub1-hffolder");
    REQUIRE(hf);
    CHECK(hf->action.install == std::vector<std::string>{"huggingface_hub<1.0"});
    CHECK(has_finding(r, "gradio4-pydantic211"));
    f.scan = scan_of({dist("coqui-tts", "0.24.3"), dist("torch", "2.15.0"),
                      dist("torchaudio", "2.11.1", {"torch>=2.11"})});
    r = diagnose(f, builtin_rules());
    REQUIRE(finding(r, "torchaudio29-no-torchcodec"));
    CHECK(finding(r, "torchaudio29-no-torchcodec")->action.install ==
          std::vector<std::string>{"torchcodec"});
    CHECK_FALSE(has_finding(r, "coqui-tts-no-torchcodec"));  // that one is for 0.27.4 and later
    f.scan.dists.push_back(dist("torchcodec", "0.11.0"));
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torchaudio29-no-torchcodec"));
    // The releases on the other side of each line.
    f.scan = scan_of({dist("coqui-tts", "0.24.3"), dist("transformers", "4.48.3"),
                      dist("gradio", "4.44.1"), dist("huggingface_hub", "0.36.2")});
    r = diagnose(f, builtin_rules());
    CHECK_FALSE(has_finding(r, "coqui-tts-logitswarper"));
    CHECK_FALSE(has_finding(r, "gradio-hfhub1-hffolder"));
    f.scan = scan_of({dist("coqui-tts", "0.26.0"), dist("transformers", "4.57.0"),
                      dist("gradio", "5.20.0"), dist("huggingface_hub", "1.1.0")});
    r = diagnose(f, builtin_rules());
    CHECK_FALSE(has_finding(r, "coqui-tts-logitswarper"));
    CHECK_FALSE(has_finding(r, "gradio-hfhub1-hffolder"));
}

TEST_CASE("doctor: finetune.py imports pynvml, which no requirements file names") {
    DoctorFacts f = facts_in_env("/r");
    f.finetune.checked = true;
    f.finetune.imports_pynvml = true;
    f.scan = scan_of({dist("torch", "2.14.1")});
    const DoctorReport r = diagnose(f, builtin_rules());
    const Finding* p = finding(r, "finetune-pynvml-missing");
    REQUIRE(p);
    CHECK(p->severity == Severity::Error);
    CHECK(p->action.install == std::vector<std::string>{"nvidia-ml-py"});
    f.scan = scan_of({dist("torch", "2.14.1"), dist("pynvml", "12.0.0")});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "finetune-pynvml-missing"));
    f.scan = scan_of({dist("nvidia-ml-py", "13.580.65")});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "finetune-pynvml-missing"));
    f.finetune.imports_pynvml = false;  // v1's finetune.py
    f.scan = scan_of({dist("torch", "2.14.1")});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "finetune-pynvml-missing"));
}

TEST_CASE("doctor: a CPU-only torch beside an NVIDIA GPU") {
    DoctorFacts f = facts_in_env("/r");
    GpuProbe probe;
    probe.driver_present = true;
    probe.devices.push_back({0, "NVIDIA GeForce RTX 3090", 8, 6, 24ull << 30});
    f.gpus = probe;
    f.scan = scan_of({dist("torch", "2.2.1+cpu")});
    DoctorReport r = diagnose(f, builtin_rules());
    REQUIRE(has_finding(r, "torch-cpu-build"));
    CHECK(finding(r, "torch-cpu-build")->fix.find("whl/cu128") != std::string::npos);
    f.scan = scan_of({dist("torch", "2.2.1+cu121")});
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torch-cpu-build"));
    f.scan = scan_of({dist("torch", "2.2.1+cpu")});
    f.gpus->devices.clear();  // no GPU: a CPU build is the right one
    CHECK_FALSE(has_finding(diagnose(f, builtin_rules()), "torch-cpu-build"));
}

TEST_CASE("doctor: the dash check is on the folder's own name; spaces and specials warn") {
    DoctorFacts f = facts_in_env("/home/u/my-stuff/alltalk_tts");
    DoctorReport r = diagnose(f, builtin_rules());
    CHECK_FALSE(has_finding(r, "root-path-dash"));  // a dash in a parent folder: no error
    CHECK_FALSE(has_finding(r, "root-path-chars"));
    f.root.root = "/home/u/alltalk_tts-main";
    r = diagnose(f, builtin_rules());
    REQUIRE(has_finding(r, "root-path-dash"));
    CHECK(finding(r, "root-path-dash")->severity == Severity::Error);
    f.root.root = "/home/u/my files (new)/alltalk_tts";
    r = diagnose(f, builtin_rules());
    const Finding* c = finding(r, "root-path-chars");
    REQUIRE(c);
    CHECK(c->severity == Severity::Warning);
    CHECK(c->message.find("a space, '(', ')'") != std::string::npos);
    CHECK_FALSE(has_finding(r, "root-path-dash"));
}

TEST_CASE("doctor: the ffmpeg fix fits the env's kind") {
    DoctorFacts f = facts_in_env("/r");
    f.ffmpeg_checked = true;
    f.env->kind = EnvKind::Venv;
    const DoctorReport venv = diagnose(f, builtin_rules());
    const Finding* x = finding(venv, "ffmpeg-missing");
    REQUIRE(x);
    CAPTURE(x->fix);
    CHECK(x->fix.find("conda") == std::string::npos);
    CHECK(x->fix.find("apt install ffmpeg") != std::string::npos);
    f.env->kind = EnvKind::Conda;
    DoctorReport r = diagnose(f, builtin_rules());
    x = finding(r, "ffmpeg-missing");
    REQUIRE(x);
    CHECK(x->fix.find("conda install -y -p /r/env -c conda-forge ffmpeg") == 0);
}

TEST_CASE("doctor: AllTalk's ports come from its confignew.json") {
    alltalk::test::TempDir dir;
    auto ports = alltalk_ports(dir.path());  // no file: the defaults
    REQUIRE(ports.size() == 3);
    CHECK(ports[0].port == 7851);
    CHECK(ports[1].port == 7852);
    CHECK(ports[0].source == "default");
    alltalk::test::write(dir.path() / "confignew.json",
                         R"({"gradio_port_number": 8852, "api_def": {"api_port_number": 8851}})");
    ports = alltalk_ports(dir.path());
    REQUIRE(ports.size() == 3);
    CHECK(ports[0].port == 8851);
    CHECK(ports[0].source == "confignew.json api_def.api_port_number");
    CHECK(ports[1].port == 8852);
    CHECK(ports[1].what == "web UI");
    CHECK(ports[2].port == 7052);
    alltalk::test::write(dir.path() / "confignew.json", R"({"port_number": "9851"})");  // v1
    ports = alltalk_ports(dir.path());
    REQUIRE(ports.size() == 2);
    CHECK(ports[0].port == 9851);
    CHECK(ports[1].port == 7052);
    alltalk::test::write(dir.path() / "confignew.json", "{not json");
    CHECK(alltalk_ports(dir.path())[0].port == 7851);

    DoctorFacts f = facts_in_env("/r");
    f.ports_in_use.push_back({8851, "API", "confignew.json api_def.api_port_number"});
    const DoctorReport r = diagnose(f, builtin_rules());
    const Finding* x = finding(r, "port-in-use");
    REQUIRE(x);
    CAPTURE(x->message);
    CHECK(x->message.find("Port 8851 (AllTalk's API port, from confignew.json") !=
          std::string::npos);
    CHECK(x->fix.find("change api_def.api_port_number in confignew.json") != std::string::npos);
}

TEST_CASE("doctor: DeepSpeed turned on in AllTalk's settings") {
    alltalk::test::TempDir dir;
    CHECK_FALSE(alltalk_settings(dir.path()).deepspeed);
    alltalk::test::write(dir.path() / "system/tts_engines/tts_engines.json",
                         R"({"engine_loaded": "xtts", "selected_model": "xtts - xttsv2_2.0.3"})");
    alltalk::test::write(dir.path() / "system/tts_engines/xtts/model_settings.json",
                         R"({"settings": {"deepspeed_enabled": true, "lowvram_enabled": false}})");
    AllTalkSettings s = alltalk_settings(dir.path());
    CHECK(s.engine == "xtts");
    CHECK(s.deepspeed);
    CHECK(s.deepspeed_where ==
          "system/tts_engines/xtts/model_settings.json settings.deepspeed_enabled");
    alltalk::test::write(dir.path() / "system/tts_engines/xtts/model_settings.json",
                         R"({"settings": {"deepspeed_enabled": false}})");
    CHECK_FALSE(alltalk_settings(dir.path()).deepspeed);
    alltalk::test::TempDir v1;
    alltalk::test::write(v1.path() / "confignew.json",
                         R"({"port_number": "7851", "deepspeed_activate": true})");
    CHECK(alltalk_settings(v1.path()).deepspeed_where == "confignew.json deepspeed_activate");

    DoctorFacts f = facts_in_env("/r");
    f.alltalk = s;
    f.scan = scan_of({dist("deepspeed", "0.14.0")});
    GpuProbe probe;
    probe.driver_present = true;
    probe.devices.push_back({0, "NVIDIA GeForce RTX 3090", 8, 6, 24ull << 30});
    f.gpus = probe;
    DoctorReport r = diagnose(f, builtin_rules());  // installed, GPU present: quiet
    CHECK_FALSE(has_finding(r, "deepspeed-enabled-no-gpu"));
    CHECK_FALSE(has_finding(r, "deepspeed-enabled-missing"));
    f.gpus->devices.clear();
    r = diagnose(f, builtin_rules());
    const Finding* x = finding(r, "deepspeed-enabled-no-gpu");
    REQUIRE(x);
    CHECK(x->severity == Severity::Error);
    CHECK(x->fix ==
          "set settings.deepspeed_enabled to false in "
          "system/tts_engines/xtts/model_settings.json");
    f.scan = scan_of({});
    r = diagnose(f, builtin_rules());
    CHECK(has_finding(r, "deepspeed-enabled-missing"));
    f.alltalk.deepspeed = false;
    r = diagnose(f, builtin_rules());
    CHECK_FALSE(has_finding(r, "deepspeed-enabled-missing"));
    CHECK_FALSE(has_finding(r, "deepspeed-enabled-no-gpu"));
}

TEST_CASE("environment conditions: a proxy without NO_PROXY explains gradio's localhost error") {
    SiteScan scan = scan_of({dist("gradio", "4.44.1"), dist("pydantic", "2.10.6")});
    const EnvMap proxy = {{"HTTPS_PROXY", "http://proxy:3128"}};
    const EnvMap exempt = {{"HTTPS_PROXY", "http://proxy:3128"}, {"no_proxy", "localhost"}};
    const EnvMap empty_value = {{"HTTP_PROXY", ""}};
    InstalledFacts facts{&scan, "3.11.9", {}, Platform::Posix, &proxy};
    CHECK(condition_holds("$HTTP_PROXY|HTTPS_PROXY", facts) == true);
    CHECK(condition_holds("!$NO_PROXY|no_proxy", facts) == true);
    CHECK_FALSE(condition_holds("$A||B", facts).has_value());
    FailureInfo f{"ValueError",
                  "When localhost is not accessible, a shareable link must be created. Please "
                  "set share=True or check your proxy settings to allow access to localhost.",
                  "", 0};
    const Rule* r = match_failure(builtin_rules(), f, facts);
    REQUIRE(r);
    CHECK(r->id == "gradio-localhost-proxy");
    facts.env_vars = &exempt;
    CHECK(match_failure(builtin_rules(), f, facts) == nullptr);
    facts.env_vars = &empty_value;
    CHECK(match_failure(builtin_rules(), f, facts) == nullptr);
    facts.env_vars = nullptr;
    CHECK(match_failure(builtin_rules(), f, facts) == nullptr);
    // pydantic 2.11 is the cause when both hold.
    SiteScan p211 = scan_of({dist("gradio", "4.44.1"), dist("pydantic", "2.11.3")});
    InstalledFacts both{&p211, "3.11.9", {}, Platform::Posix, &proxy};
    CHECK(match_failure(builtin_rules(), f, both)->id == "gradio4-pydantic211-share");
    const auto vars = condition_variables(builtin_rules());
    CHECK(std::find(vars.begin(), vars.end(), "no_proxy") != vars.end());
}

TEST_CASE("doctor: what finetune.py checks before training") {
    alltalk::test::TempDir dir;
    const auto model = dir.path() / "models/xtts/xttsv2_2.0.3";
    for (const char* name :
         {"config.json", "model.pth", "mel_stats.pth", "speakers_xtts.pth", "vocab.json"}) {
        alltalk::test::write(model / name, "x");
    }
    alltalk::test::write(dir.path() / "models/xtts/partial/model.pth", "x");
    CHECK(finetune_base_models(dir.path()).empty());  // dvae.pth is missing
    alltalk::test::write(model / "dvae.pth", "x");
    CHECK(finetune_base_models(dir.path()) == std::vector<std::string>{"xttsv2_2.0.3"});

    constexpr std::uint64_t GiB = 1ull << 30;
    DoctorFacts f = facts_in_env("/r");
    f.commands = {Command::Server, Command::Finetune};
    f.finetune.checked = true;
    f.finetune.v2 = true;
    f.finetune.base_models = {"xttsv2_2.0.3"};
    f.finetune.disk_free = 100 * GiB;
    f.finetune.ram_available = 16 * GiB;
    GpuProbe probe;
    probe.driver_present = true;
    probe.devices.push_back({0, "NVIDIA GeForce RTX 3090", 8, 6, 24 * GiB});
    f.gpus = probe;
    DoctorReport r = diagnose(f, builtin_rules());
    for (const auto& x : r.findings) {
        CHECK(x.id.rfind("finetune-", 0) != 0);  // enough of everything: quiet
    }
    f.finetune.disk_free = 10 * GiB;
    f.finetune.ram_available = 6 * GiB;
    f.finetune.base_models.clear();
    f.gpus->devices[0].memory_bytes = 8 * GiB;
    r = diagnose(f, builtin_rules());
    for (const char* id :
         {"finetune-disk", "finetune-ram", "finetune-gpu-memory", "finetune-no-base-model"}) {
        CAPTURE(id);
        const Finding* x = finding(r, id);
        REQUIRE(x);
        CHECK(x->commands == std::vector<Command>{Command::Finetune});
    }
    CHECK(finding(r, "finetune-disk")->message.find("10.0 GiB") != std::string::npos);
    f.gpus->devices[0].memory_bytes = 12 * GiB;  // between 11.5 and 13: finetune.py warns
    r = diagnose(f, builtin_rules());
    CHECK(finding(r, "finetune-gpu-memory")->severity == Severity::Info);
    f.finetune = {};  // the finetune command not checked
    r = diagnose(f, builtin_rules());
    CHECK_FALSE(has_finding(r, "finetune-disk"));
}

namespace {

// An env where every distribution that `when` requires installed is, at version 1.0 (enough to
// expand a rule's {name} placeholders).
SiteScan scan_for(const Rule& r) {
    std::vector<Distribution> ds;
    for (const auto& c : r.when) {
        if (c.empty() || c.front() == '!' || c.front() == '$') {
            continue;
        }
        if (auto req = pep508::parse_requirement(c); req && req->key != "python") {
            ds.push_back(dist(req->name, "1.0"));
        }
    }
    return scan_of(ds);
}

}  // namespace

TEST_CASE("fixes as data: every automatable builtin fix renders to a command of its own data") {
    int automatable = 0;
    for (const auto& r : builtin_rules().rules) {
        CAPTURE(r.id);
        SiteScan scan = scan_for(r);
        for (Platform platform : {Platform::Posix, Platform::Windows}) {
            InstalledFacts facts{&scan, "3.11.9", {}, platform};
            const std::string py = platform == Platform::Windows
                                       ? "\"C:\\AllTalk\\env\\python.exe\""
                                       : "/env/bin/python";
            const FixAction a = expand_action(r.action, facts, py);
            const std::string text = render_fix(a, py, platform);
            CAPTURE(text);
            CHECK(text.find("{") == std::string::npos);  // every placeholder expanded
            if (!a.automatable()) {
                CHECK(text == a.note);
                continue;
            }
            automatable += platform == Platform::Posix;
            for (const auto& req : a.install) {
                CAPTURE(req);
                std::string error;
                CHECK(pep508::parse_requirement(req, &error).has_value());
                CHECK(text.find(" " + text::quote_arg(req, platform)) != std::string::npos);
            }
            for (const auto& name : a.remove) {
                CHECK(text.find(py + " -m pip uninstall -y") == 0);
                CHECK(text.find(" " + text::quote_arg(name, platform)) != std::string::npos);
            }
            if (!a.install.empty()) {
                CHECK(text.find(py + " -m pip install") != std::string::npos);
            }
            for (const auto& o : a.options) {
                CHECK(text.find(" " + o + " ") != std::string::npos);
            }
            if (a.index_url) {
                CHECK(text.find(" --index-url " + text::quote_arg(*a.index_url, platform)) !=
                      std::string::npos);
            }
            if (!a.note.empty()) {
                CHECK(text.ends_with("   (" + a.note + ")"));
            }
        }
    }
    CHECK(automatable >= 20);
}

TEST_CASE("fixes as data: render_fix, two steps and Windows quoting") {
    FixAction a;
    a.remove = {"coqpit"};
    a.install = {"coqpit-config==0.2.1"};
    a.options = {"--force-reinstall", "--no-deps"};
    CHECK(render_fix(a, "/e/bin/python", Platform::Posix) ==
          "/e/bin/python -m pip uninstall -y coqpit   then   /e/bin/python -m pip install "
          "--force-reinstall --no-deps coqpit-config==0.2.1");
    CHECK(render_fix(a, "\"C:\\e\\python.exe\"", Platform::Windows) ==
          "\"C:\\e\\python.exe\" -m pip uninstall -y \"coqpit\"   then   \"C:\\e\\python.exe\" -m "
          "pip install --force-reinstall --no-deps \"coqpit-config==0.2.1\"");
    FixAction t;
    t.install = {"torch>=2.4", "torchaudio>=2.4"};
    t.index_url = "https://download.pytorch.org/whl/cu121";
    t.note = "one release for both";
    CHECK(render_fix(t, "py", Platform::Posix) ==
          "py -m pip install 'torch>=2.4' 'torchaudio>=2.4' --index-url "
          "https://download.pytorch.org/whl/cu121   (one release for both)");
    CHECK(render_fix(t, "py", Platform::Windows) ==
          "py -m pip install \"torch>=2.4\" \"torchaudio>=2.4\" --index-url "
          "\"https://download.pytorch.org/whl/cu121\"   (one release for both)");
    FixAction advice;
    advice.note = "export MKL_THREADING_LAYER=GNU";
    CHECK_FALSE(advice.automatable());
    CHECK(render_fix(advice, "py", Platform::Posix) == "export MKL_THREADING_LAYER=GNU");
    CHECK(render_fix(FixAction{}, "py", Platform::Posix).empty());

    // The builtin coqpit rule: its {coqpit-config} placeholder is the installed version.
    const Rule& coqpit =
        *std::find_if(builtin_rules().rules.begin(), builtin_rules().rules.end(),
                      [](const Rule& r) { return r.id == "coqpit-original-beside-fork"; });
    SiteScan scan = scan_of({dist("coqpit", "0.0.17"), dist("coqpit-config", "0.2.1")});
    InstalledFacts facts{&scan, "3.11.9", {}, Platform::Windows};
    CHECK(render_fix(expand_action(coqpit.action, facts, "\"C:\\e\\python.exe\""),
                     "\"C:\\e\\python.exe\"", Platform::Windows) ==
          render_fix(a, "\"C:\\e\\python.exe\"", Platform::Windows));
}

TEST_CASE("fixes as data: a malformed [rule.fix] is an error that names the rule") {
    auto parse = [](const std::string& fix) {
        return parse_rules("[[rule]]\nid = 'bad-fix'\nmessage = 'm'\nwhen = ['coqpit']\n" + fix,
                           "r.toml");
    };
    CHECK_NOTHROW(parse("[rule.fix]\ninstall = ['coqpit-config=={coqpit}']\nnote = 'n'\n"));
    for (const char* fix : {
             "[rule.fix]\ninstall = ['a']\nindex = 'https://x'\n",        // unknown key
             "[rule.fix]\ninstall = ['pydantic >>> 2']\n",                // not PEP 508
             "[rule.fix]\ninstall = ['x=={torch}']\n",                    // torch: not in `when`
             "[rule.fix]\ninstall = ['{python} -m pip']\n",               // no such placeholder
             "[rule.fix]\nremove = ['coqpit<1']\n",                       // not a name
             "[rule.fix]\ninstall = ['a']\noptions = ['--target=/x']\n",  // not a flag we allow
             "[rule.fix]\ninstall = ['a']\nindex_url = 'download.pytorch.org'\n",  // not a URL
             "[rule.fix]\noptions = ['--no-deps']\nnote = 'n'\n",  // options without install
             "[rule.fix]\n",                                       // empty
             "[rule.fix]\ninstall = 'a'\nnote = 3\n",              // note of another type
             "[rule.fix]\ninstall = ['a']\nnote = '(in parentheses)'\n",
             "fix = 'pip install a'\n",  // the old string form
         }) {
        CAPTURE(fix);
        CHECK_THROWS_WITH_AS(parse(fix), doctest::Contains("bad-fix"), LaunchError);
    }
}

TEST_CASE("fixes as data: the doctor's findings carry their actions, expanded for the env") {
    DoctorFacts f = facts_in_env("/r");
    f.scan = scan_of({dist("gradio", "3.50.2", {"pydantic<2.0; python_version >= '3.8'"}),
                      dist("pydantic", "2.6.4"), dist("coqpit", "0.0.17"),
                      dist("coqpit-config", "0.2.1"), dist("coqui-tts", "0.24.3"),
                      dist("torch", "2.5.1+cu121"), dist("torchvision", "0.19.1+cu121"),
                      dist("torchaudio", "2.5.1+cu121")});
    f.markers = {{"python_version", "3.11"}};
    const DoctorReport r = diagnose(f, builtin_rules());
    const std::string py = "/r/env/bin/python";
    for (const auto& x : r.findings) {
        CAPTURE(x.id);
        CHECK(x.fix == render_fix(x.action, py, Platform::Posix));  // never disagree
    }
    const Finding* c = finding(r, "requirement-conflict");
    REQUIRE(c);
    CHECK(c->action.install == std::vector<std::string>{"pydantic<2.0"});  // without its marker
    CHECK(c->action.automatable());
    const Finding* q = finding(r, "coqpit-original-beside-fork");
    REQUIRE(q);
    CHECK(q->action.remove == std::vector<std::string>{"coqpit"});
    CHECK(q->action.install == std::vector<std::string>{"coqpit-config==0.2.1"});
    CHECK(q->action.options == std::vector<std::string>{"--force-reinstall", "--no-deps"});
    const Finding* p = finding(r, "profile-alltalk-v2");
    REQUIRE(p);
    CHECK(p->action.install == std::vector<std::string>{"gradio==4.44.1", "pydantic==2.10.6"});
    const Finding* t = finding(r, "torch-release-mismatch");
    REQUIRE(t);
    CHECK(t->action.install ==
          std::vector<std::string>{"torchvision!=0.19.1+cu121", "torch==2.5.1+cu121"});
    CHECK(t->action.index_url == "https://download.pytorch.org/whl/cu121");
    const Finding* g = finding(r, "gradio3-pydantic2");
    REQUIRE(g);
    CHECK(g->action.install == std::vector<std::string>{"pydantic<2"});
    CHECK(g->fix == py + " -m pip install 'pydantic<2'");

    // Advice only: a note, nothing to apply.
    f.root.root = "/home/u/alltalk_tts-main";
    const DoctorReport renamed = diagnose(f, builtin_rules());
    const Finding* dash = finding(renamed, "root-path-dash");
    REQUIRE(dash);
    CHECK_FALSE(dash->action.automatable());
    CHECK(dash->action.note == dash->fix);
}

TEST_CASE("fixes as data: a failure's explanation carries the rule's action") {
    SiteScan scan = scan_of({dist("torch", "2.6.0")});
    InstalledFacts facts{&scan, "3.11.9", {}};
    FailureInfo named{"UnpicklingError",
                      "Weights only load failed ... Unsupported global: GLOBAL "
                      "mymod.Custom was not an allowed global",
                      "", 0};
    auto e = explain_known(builtin_rules(), named, facts, "py", {});
    REQUIRE(e);
    CHECK(e->id == "torch-weights-only");
    CHECK_FALSE(e->action.automatable());
    CHECK(e->fix.find("safe_globals = [\"mymod.Custom\"]") != std::string::npos);
    CHECK(e->message.find("mymod.Custom") != std::string::npos);

    SiteScan ct = scan_of({dist("ctranslate2", "4.4.0")});
    InstalledFacts withct{&ct, "3.11.9", {}};
    FailureInfo so8{"OSError", "libcudnn_ops_infer.so.8: cannot open shared object file", "", 0};
    e = explain_known(builtin_rules(), so8, withct, "py", {});
    REQUIRE(e);
    CHECK(e->id == "cudnn8-missing-ctranslate2");
    CHECK(e->action.install == std::vector<std::string>{"nvidia-cudnn-cu12==8.9.7.29"});
    CHECK(e->fix ==
          "py -m pip install nvidia-cudnn-cu12==8.9.7.29   (alltalk-launch serves it beside "
          "cuDNN 9; or move to cuDNN 9: py -m pip install 'ctranslate2>=4.5' "
          "'faster-whisper>=1.1')");
}

TEST_CASE("fixes as data: doctor --json has each finding's action") {
    DoctorFacts f = facts_in_env("/r");
    f.commands = {Command::Server};
    f.scan = scan_of({dist("coqpit", "0.0.17"), dist("coqpit-config", "0.2.1")});
    f.root.root = "/home/u/alltalk_tts-main";
    const std::string json = format_json(diagnose_all({f}, builtin_rules()));
    CAPTURE(json);
    CHECK(json.find(R"("action":{"automatable":true,"index_url":null,)"
                    R"("install":["coqpit-config==0.2.1"],"note":"",)"
                    R"("options":["--force-reinstall","--no-deps"],"remove":["coqpit"]})") !=
          std::string::npos);
    CHECK(json.find(
              R"("action":{"automatable":false,"index_url":null,"install":[],"note":"Rename)") !=
          std::string::npos);  // root-path-dash: advice only
}
