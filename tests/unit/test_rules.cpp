// The rule data (conditions, failure matching) and the doctor's pure diagnosis on hand-made facts.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>

#include "diagnose/doctor.hpp"
#include "base/error.hpp"
#include "diagnose/explain.hpp"
#include "diagnose/rules.hpp"

using namespace alltalk;

namespace {

Distribution dist(const std::string& name, const std::string& version,
                  std::vector<std::string> requires_dist = {}) {
    Distribution d;
    d.name = name;
    d.key = normalize_name(name);
    d.version_text = version;
    d.version = pep440::parse(version);
    d.requires_dist = std::move(requires_dist);
    return d;
}

SiteScan scan_of(std::vector<Distribution> dists) {
    SiteScan s;
    s.dists = std::move(dists);
    std::sort(s.dists.begin(), s.dists.end(),
              [](const Distribution& a, const Distribution& b) { return a.key < b.key; });
    return s;
}

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
fix = "{python} -m pip install 'pydantic<2'"
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
