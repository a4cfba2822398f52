// `alltalk-launch fix`'s pure parts: pip's report, the prediction, the comparison of findings and
// the pip command lines.
#include <doctest/doctest.h>

#include <algorithm>

#include "base/error.hpp"
#include "diagnose/doctor.hpp"
#include "fix/overlay.hpp"
#include "fix/plan.hpp"
#include "fix/predict.hpp"
#include "fix/trial.hpp"
#include "pypa/pip_report.hpp"
#include "test_support.hpp"

using namespace alltalk;
using alltalk::test::dist;
using alltalk::test::facts_with;
using alltalk::test::scan_of;

namespace {

// A report as pip 26.3 writes it (trimmed to the fields that are read, plus some that are not).
const char* kReport = R"({
  "version": "1",
  "pip_version": "26.3",
  "install": [
    {"download_info": {"url": "https://files.pythonhosted.org/p/pydantic-1.10.27-py3-none-any.whl",
                       "archive_info": {"hash": "sha256=00"}},
     "is_direct": false, "is_yanked": false, "requested": true,
     "metadata": {"metadata_version": "2.1", "name": "pydantic", "version": "1.10.27",
                  "requires_dist": ["typing-extensions>=4.2.0",
                                    "python-dotenv>=0.10.4; extra == \"dotenv\""],
                  "requires_python": ">=3.7", "provides_extra": ["dotenv", "email"]}},
    {"download_info": {"url": "https://files.pythonhosted.org/p/typing_extensions-4.16.0.whl"},
     "is_direct": false, "requested": false,
     "metadata": {"name": "typing_extensions", "version": "4.16.0"}}
  ],
  "environment": {"python_version": "3.11"}
})";

bool has(const std::vector<Finding>& findings, const std::string& id) {
    return std::any_of(findings.begin(), findings.end(),
                       [&](const Finding& f) { return f.id == id; });
}

}  // namespace

TEST_CASE("pip's report: every item with its metadata; what is not a report is a clear error") {
    const PipReport r = parse_pip_report(kReport);
    CHECK(r.version == "1");
    CHECK(r.pip_version == "26.3");
    REQUIRE(r.install.size() == 2);
    CHECK(r.install[0].dist.name == "pydantic");
    CHECK(r.install[0].dist.version_text == "1.10.27");
    CHECK(r.install[0].requested);
    CHECK(r.install[0].dist.requires_dist.size() == 2);
    CHECK(r.install[0].dist.requires_python == ">=3.7");
    CHECK(r.install[0].url.find("pydantic-1.10.27") != std::string::npos);
    CHECK(r.install[1].dist.key == "typing-extensions");
    CHECK_FALSE(r.install[1].requested);

    for (const char* bad :
         {"", "[]", "{\"version\": \"7\", \"install\": []}", "{\"version\": \"1\"}",
          "{\"version\": \"1\", \"install\": [{\"metadata\": {\"name\": \"x\"}}]}",
          "{\"version\": \"1\", \"install\": [{\"metadata\": {}}]}"}) {
        CAPTURE(bad);
        try {
            parse_pip_report(bad);
            FAIL("accepted");
        } catch (const LaunchError& e) {
            CHECK(std::string(e.what()).find("pip's installation report") != std::string::npos);
        }
    }
}

TEST_CASE("the prediction: installed minus removed and replaced, plus what pip installs") {
    const SiteScan before = scan_of(
        {dist("gradio", "3.50.2", {"pydantic>=1.7.4,<3"}),
         dist("pydantic", "2.10.6", {"pydantic-core==2.27.2"}), dist("pydantic_core", "2.27.2"),
         dist("typing-extensions", "4.12.2"), dist("coqpit", "0.0.17")});
    const fix::Prediction p = fix::predict(before, {"Coqpit"}, parse_pip_report(kReport));
    std::vector<std::string> after;
    for (const auto& d : p.after.dists) {
        after.push_back(d.key + "==" + d.version_text);
    }
    CHECK(after == std::vector<std::string>{"gradio==3.50.2", "pydantic==1.10.27",
                                            "pydantic-core==2.27.2", "typing-extensions==4.16.0"});
    CHECK(p.replaced ==
          std::vector<std::string>{"coqpit", "pydantic", "typing-extensions"});  // scan order
    CHECK(p.installs == std::vector<std::string>{"pydantic==1.10.27", "typing_extensions==4.16.0"});
    REQUIRE(p.changes.size() == 3);
    CHECK(p.changes[0].key == "coqpit");
    CHECK(p.changes[0].before == "0.0.17");
    CHECK_FALSE(p.changes[0].after);
    CHECK(p.changes[0].why == "removed by the fix");
    CHECK(p.changes[1].key == "pydantic");
    CHECK(p.changes[1].after == "1.10.27");
    CHECK(p.changes[1].why == "requested");
    CHECK(p.changes[2].why == "needed by pydantic 1.10.27");
    // The predicted distributions carry their metadata's requirements, which the checks read.
    CHECK(p.after.find("pydantic")->requires_dist.size() == 2);
}

TEST_CASE("findings before and after: fixed, left and created; a new error refuses the plan") {
    const SiteScan before =
        scan_of({dist("gradio", "3.50.2", {"pydantic>=1.7.4,<3"}), dist("pydantic", "2.10.6"),
                 dist("pydantic-settings", "2.6.1", {"pydantic>=2.7.0"})});
    const DoctorFacts facts = facts_with(before);
    const auto was = diagnose(fix::before_facts(facts), builtin_rules()).findings;
    CHECK(has(was, "gradio3-pydantic2"));

    PipReport r;
    r.version = "1";
    ReportItem item;
    item.dist = dist("pydantic", "1.10.27");
    item.requested = true;
    r.install.push_back(item);
    const fix::Prediction p = fix::predict(before, {}, r);
    const auto is = diagnose(fix::predicted_facts(facts, p.after), builtin_rules()).findings;
    const fix::FindingDelta d = fix::compare_findings(was, is);
    CHECK(has(d.fixed, "gradio3-pydantic2"));
    CHECK_FALSE(has(d.left, "gradio3-pydantic2"));
    REQUIRE(has(d.created, "requirement-conflict"));  // pydantic-settings needs pydantic >= 2.7
    CHECK(d.creates_error());

    // A conflict with other versions is a new finding, not the old one left.
    Finding a{"requirement-conflict", Severity::Error, "x 1 requires y<2, but y 2 is installed.",
              ""};
    Finding b{"requirement-conflict", Severity::Error, "x 1 requires y<2, but y 3 is installed.",
              ""};
    const fix::FindingDelta e = fix::compare_findings({a}, {b});
    CHECK(e.fixed.size() == 1);
    CHECK(e.created.size() == 1);
    CHECK(e.left.empty());
    // A warning created does not refuse the plan.
    Finding w{"profile-alltalk-v2", Severity::Warning, "differs", ""};
    CHECK_FALSE(fix::compare_findings({}, {w}).creates_error());
}

TEST_CASE("collect: the automatable fixes of the findings, --only, --profile, and bad ids") {
    Finding conflict{"requirement-conflict", Severity::Error, "m", "f"};
    conflict.action.install = {"typer<0.10,>=0.3.0"};
    Finding rule{"gradio3-pydantic2", Severity::Error, "m", "f"};
    rule.action.install = {"pydantic<2"};
    Finding torch{"coqui-tts-no-torch", Severity::Error, "m", "f"};
    torch.action.install = {"torch", "torchaudio"};
    torch.action.index_url = "https://download.pytorch.org/whl/cu128";
    Finding manual{"ffmpeg-missing", Severity::Warning, "m", "sudo apt install ffmpeg"};
    Finding info{"ctranslate2-cudnn8", Severity::Info, "m", "f"};
    info.action.install = {"ctranslate2>=4.5"};
    const std::vector<Finding> all = {conflict, rule, manual, info};

    fix::FixRequest r = fix::collect(all, {}, std::nullopt, builtin_rules());
    CHECK(r.install == std::vector<std::string>{"typer<0.10,>=0.3.0", "pydantic<2"});
    CHECK(r.from == std::vector<std::string>{"requirement-conflict", "gradio3-pydantic2"});
    REQUIRE(r.manual.size() == 1);  // info findings are fixed only when named
    CHECK(r.manual[0].id == "ffmpeg-missing");

    r = fix::collect(all, {"ctranslate2-cudnn8"}, std::nullopt, builtin_rules());
    CHECK(r.install == std::vector<std::string>{"ctranslate2>=4.5"});

    r = fix::collect({rule, torch}, {}, std::nullopt, builtin_rules());
    CHECK(r.index_url == "https://download.pytorch.org/whl/cu128");
    const auto argv = fix::dry_run_argv("/e/bin/python", r, "/tmp/r.json");
    CHECK(std::find(argv.begin(), argv.end(), "--dry-run") != argv.end());
    CHECK(std::find(argv.begin(), argv.end(), "/tmp/r.json") != argv.end());
    CHECK(argv.back() == "torchaudio");
    const auto install = fix::install_argv("/e/bin/python", r, "/e/c.txt");
    CHECK(std::find(install.begin(), install.end(), "--dry-run") == install.end());
    CHECK(std::find(install.begin(), install.end(), "-c") != install.end());
    const auto uv = fix::install_argv("/e/bin/python", r, "/e/c.txt", std::string("/u/uv"));
    CHECK(uv[0] == "/u/uv");
    CHECK(uv[3] == "--python");
    CHECK_FALSE(fix::uninstall_argv("/e/bin/python", r));

    r = fix::collect(all, {}, std::string("alltalk-v2"), builtin_rules());
    CHECK(r.from == std::vector<std::string>{"profile-alltalk-v2"});
    CHECK(std::find(r.install.begin(), r.install.end(), "gradio==4.44.1") != r.install.end());

    auto message = [&](const std::vector<std::string>& only, std::optional<std::string> profile) {
        try {
            fix::collect(all, only, profile, builtin_rules());
        } catch (const LaunchError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(message({"no-such-rule"}, std::nullopt).find("not the id of a finding or a rule") !=
          std::string::npos);
    CHECK(message({"spacy-typer"}, std::nullopt).find("finds no \"spacy-typer\"") !=
          std::string::npos);
    CHECK(message({}, std::string("alltalk-v9")).find("alltalk-v1") != std::string::npos);

    Finding other_index = torch;
    other_index.id = "torch-cpu";
    other_index.action.index_url = "https://download.pytorch.org/whl/cpu";
    try {
        fix::collect({torch, other_index}, {}, std::nullopt, builtin_rules());
        FAIL("two indexes accepted");
    } catch (const LaunchError& e) {
        CHECK(std::string(e.what()).find("two package indexes") != std::string::npos);
    }
}

TEST_CASE("trial search: pip index's versions, the releases below, and a bisection of few trials") {
    const std::string output =
        "packaging (26.0)\nAvailable versions: 26.0, 25.0, 24.2, 24.1, 22.0, 21.3, 21.0rc1, 21.0, "
        "20.9\n  INSTALLED: 26.0\n  LATEST:    26.0\n";
    const auto versions = fix::parse_index_versions(output);
    CHECK(versions.size() == 9);
    CHECK(versions.front() == "26.0");
    CHECK(fix::parse_index_versions("ERROR: No matching distribution found for x\n").empty());
    CHECK(fix::parse_index_versions(
              "{\"name\": \"packaging\", \"versions\": [\"26.0\", \"25.0\"], \"latest\": "
              "\"26.0\", \"installed_version\": \"26.0\"}\n") ==
          std::vector<std::string>{"26.0", "25.0"});
    CHECK(fix::releases_below(versions, "26.0") ==
          std::vector<std::string>{"20.9", "21.0", "21.3", "22.0", "24.1", "24.2", "25.0"});

    // Every place the passing prefix can end, for several lengths: the answer is exact, and the
    // trials stay logarithmic.
    for (std::size_t n : {1u, 2u, 3u, 7u, 46u, 100u}) {
        for (std::size_t passing = 0; passing <= n; ++passing) {
            int calls = 0;
            auto r = fix::newest_passing(n, [&](std::size_t i) -> std::optional<bool> {
                ++calls;
                return i < passing;
            });
            CAPTURE(n);
            CAPTURE(passing);
            if (passing == 0) {
                CHECK_FALSE(r.found);
            } else {
                REQUIRE(r.found);
                CHECK(*r.found == passing - 1);
            }
            int bound = 2;
            for (std::size_t k = 1; k < n; k *= 2) {
                ++bound;
            }
            CHECK(calls <= bound);
            CHECK(r.tried.size() == static_cast<std::size_t>(calls));
        }
    }
    // Out of time: stops at once, nothing found.
    auto r = fix::newest_passing(10, [](std::size_t) -> std::optional<bool> { return {}; });
    CHECK(r.stopped);
    CHECK_FALSE(r.found);
}

TEST_CASE("broken dependents: installed distributions the change breaks join the request") {
    const SiteScan before = scan_of({dist("fastapi", "0.165.0", {"pydantic>=2.9.0"}),
                                     dist("gradio", "3.50.2", {"pydantic>=1.7.4,<3", "fastapi"}),
                                     dist("pydantic", "2.10.6"),
                                     dist("old-tool", "1.0", {"pydantic<1"})});  // broken already
    PipReport r;
    r.version = "1";
    ReportItem item;
    item.dist = dist("pydantic", "1.10.27");
    item.requested = true;
    r.install.push_back(item);
    const fix::Prediction p = fix::predict(before, {}, r);
    const auto broken = fix::broken_dependents(before, p, {}, {"pydantic"});
    REQUIRE(broken.size() == 1);
    CHECK(broken[0].package == "fastapi");
    CHECK(broken[0].requirement == "pydantic>=2.9.0");
    // Already in the request: not joined again.
    CHECK(fix::broken_dependents(before, p, {}, {"pydantic", "fastapi"}).empty());
}

TEST_CASE("an overlay fix proposes: the current requirements, a same-named one replaced") {
    using fix::merged_overlay;
    CHECK(merged_overlay({}, {"gradio==3.50.2", "pydantic<2"}) ==
          std::vector<std::string>{"gradio==3.50.2", "pydantic<2"});
    CHECK(merged_overlay({"gradio==3.50.2", "Pydantic<2", "typer<0.10"}, {"pydantic==1.10.26"}) ==
          std::vector<std::string>{"gradio==3.50.2", "typer<0.10", "pydantic==1.10.26"});
    // Names compare as PEP 503 names, whatever follows them.
    CHECK(merged_overlay({"gradio_client[x]>=0.6; python_version >= '3.8'"},
                         {"Gradio-Client==0.6.1"}) ==
          std::vector<std::string>{"Gradio-Client==0.6.1"});
}
