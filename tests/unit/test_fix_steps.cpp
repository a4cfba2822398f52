// `alltalk-launch fix`'s steps, each alone (fix/workflow.hpp): the pipeline's order and its stop,
// and the steps that decide without pip or a child: plan with nothing to do, check (refused or
// forced), propose without changes, confirm, and the pure parts (attribution, unpredicted, the
// pip command lines). The steps that run pip are tested through the command (test_fix.py).
#include <doctest/doctest.h>

#include <algorithm>

#include "fix/workflow.hpp"
#include "pypa/pip_report.hpp"
#include "test_support.hpp"

using namespace alltalk;
using alltalk::test::dist;
using alltalk::test::facts_with;
using alltalk::test::scan_of;

namespace {

// A context whose report, progress and questions are kept for the test.
struct Recorded {
    std::string out, said;
    std::vector<std::string> asked;
    fix::Answer answer = fix::Answer::Yes;
    fix::FixContext context() {
        fix::FixContext c;
        c.out = [this](const std::string& s) { out += s; };
        c.say = [this](const std::string& s) { said += s + "\n"; };
        c.ask = [this](const std::string& q) {
            asked.push_back(q);
            return answer;
        };
        c.around_pip = [](const std::function<void()>& f) { f(); };
        return c;
    }
};

// gradio 3 with pydantic 2, and pydantic-settings that needs pydantic >= 2.7: pydantic 1 fixes
// the first and breaks the second.
fix::FixRun run_with_pydantic1() {
    const SiteScan before =
        scan_of({dist("gradio", "3.50.2", {"pydantic>=1.7.4,<3"}), dist("pydantic", "2.10.6"),
                 dist("pydantic-settings", "2.6.1", {"pydantic>=2.7.0"})});
    fix::FixRun r;
    r.facts = facts_with(before);
    r.before = diagnose(r.facts, builtin_rules());
    PipReport report;
    report.version = "1";
    ReportItem item;
    item.dist = dist("pydantic", "1.10.27");
    item.requested = true;
    report.install.push_back(item);
    r.prediction = fix::predict(before, {}, report);
    return r;
}

}  // namespace

TEST_CASE("the pipeline: the steps in their order, and the first status stops it") {
    std::vector<std::string> names;
    for (const auto& s : fix::fix_steps()) {
        names.push_back(s.name);
    }
    CHECK(names == std::vector<std::string>{"gather", "plan", "predict", "check", "propose",
                                            "confirm", "save undo point", "apply", "verify"});

    static std::vector<std::string> ran;
    ran.clear();
    const std::vector<fix::NamedStep> steps = {
        {"a",
         [](fix::FixRun&, const fix::FixSettings&, const fix::FixContext&) -> fix::StepResult {
             ran.push_back("a");
             return std::nullopt;
         }},
        {"b",
         [](fix::FixRun&, const fix::FixSettings&, const fix::FixContext&) -> fix::StepResult {
             ran.push_back("b");
             return 3;
         }},
        {"c",
         [](fix::FixRun&, const fix::FixSettings&, const fix::FixContext&) -> fix::StepResult {
             ran.push_back("c");
             return 0;
         }},
    };
    fix::FixRun r;
    Recorded rec;
    CHECK(fix::run_fix_steps(r, {}, rec.context(), steps) == 3);
    CHECK(ran == std::vector<std::string>{"a", "b"});
    ran.clear();
    CHECK(fix::run_fix_steps(r, {}, rec.context(), {steps[0]}) == 0);  // none stopped: done
}

TEST_CASE("plan: nothing to fix stops with 0 and says so") {
    fix::FixRun r;
    r.facts = facts_with(scan_of({dist("six", "1.17.0")}));
    r.pip = "26.3";
    Recorded rec;
    CHECK(fix::plan_step(r, {}, rec.context()) == 0);
    CHECK(rec.out.find("alltalk-launch fix: server, env /r/env (Python 3.11.9, pip 26.3)") !=
          std::string::npos);
    CHECK(rec.out.find("Nothing to fix automatically: the doctor finds nothing.") !=
          std::string::npos);
    CHECK(r.request.empty());
}

TEST_CASE("plan: the findings' requests with --install's own, which replaces a same-named one") {
    fix::FixRun r = run_with_pydantic1();
    r.pip = "26.3";
    fix::FixSettings s;
    s.install = {"pydantic==1.10.26"};
    Recorded rec;
    CHECK_FALSE(fix::plan_step(r, s, rec.context()));
    CHECK(std::count(r.request.install.begin(), r.request.install.end(), "pydantic==1.10.26") == 1);
    CHECK(std::none_of(r.request.install.begin(), r.request.install.end(), [](const auto& i) {
        return i != "pydantic==1.10.26" && fix::requirement_key(i) == "pydantic";
    }));
    CHECK(rec.out.find("Fixing: ") != std::string::npos);
    CHECK(rec.out.find("--install pydantic==1.10.26") != std::string::npos);
}

TEST_CASE("check: a prediction that creates an error is refused, or applied with --force") {
    fix::FixRun r = run_with_pydantic1();
    Recorded rec;
    CHECK(fix::check_step(r, {}, rec.context()) == 1);
    CHECK(r.refused);
    CHECK(r.refusal == "the change would create 1 new error (requirement-conflict)");
    CHECK(rec.out.find("Refused: the change would create 1 new error") != std::string::npos);
    CHECK(rec.out.find("This fixes:\n    [error] gradio3-pydantic2") != std::string::npos);

    fix::FixRun forced = run_with_pydantic1();
    fix::FixSettings s;
    s.force = true;
    Recorded rec2;
    CHECK_FALSE(fix::check_step(forced, s, rec2.context()));
    CHECK_FALSE(forced.refused);
    CHECK(rec2.out.find("--force: applying although the change would create") != std::string::npos);
}

TEST_CASE("propose: with nothing to change, or with --dry-run, the run ends with 0") {
    fix::FixRun r;
    r.facts = facts_with(scan_of({}));
    r.prediction.emplace();
    Recorded rec;
    CHECK(fix::propose_step(r, {}, rec.context()) == 0);
    CHECK(rec.out.empty());
    fix::FixSettings dry;
    dry.dry_run = true;
    CHECK(fix::propose_step(r, dry, rec.context()) == 0);
    CHECK(rec.out == "\n--dry-run: nothing was changed.\n");
}

TEST_CASE("confirm: --yes asks nothing; no terminal is status 3; a no is 1; the overlay's words") {
    fix::FixRun r;
    fix::FixSettings yes;
    yes.yes = true;
    Recorded rec;
    CHECK_FALSE(fix::confirm_step(r, yes, rec.context()));
    CHECK(rec.asked.empty());

    rec.answer = fix::Answer::NoTerminal;
    CHECK(fix::confirm_step(r, {}, rec.context()) == fix::kFixNeedsYesStatus);
    CHECK(rec.out.find("Run again with --yes to apply this plan.") != std::string::npos);
    rec.answer = fix::Answer::No;
    CHECK(fix::confirm_step(r, {}, rec.context()) == 1);
    CHECK(rec.out.find("Not applied.\n") != std::string::npos);
    rec.answer = fix::Answer::Yes;
    CHECK_FALSE(fix::confirm_step(r, {}, rec.context()));
    CHECK(rec.asked.back() == "\nApply this change? An undo point is saved first.");

    r.overlay = std::vector<std::string>{"gradio==3.50.2"};
    r.overlay_config = "/r/alltalk-launch.toml";
    CHECK_FALSE(fix::confirm_step(r, {}, rec.context()));
    CHECK(rec.asked.back() == "\nWrite this overlay to /r/alltalk-launch.toml and sync it?");
}

TEST_CASE("attribution: each change says which finding, profile, option, dependent or trial") {
    fix::FixRun r;
    Finding f{"gradio3-pydantic2", Severity::Error, "m", "f"};
    f.action.install = {"pydantic<2"};
    r.before.findings = {f};
    r.request.from = {"gradio3-pydantic2"};
    fix::TrialOutcome t;
    t.target.names = {"LogitsWarper"};
    t.version = "4.40.2";
    t.pins = {"transformers==4.40.2"};
    r.trials = {t};
    fix::Prediction p;
    auto change = [](const char* key, const char* why) {
        fix::Change c;
        c.key = key;
        c.name = key;
        c.after = "1";
        c.why = why;
        return c;
    };
    p.changes = {change("pydantic", "requested"), change("typer", "requested"),
                 change("spacy", "needed by x"), change("transformers", "requested")};
    fix::Plan plan;
    plan.joined.push_back({"spacy", "3.7.5", "typer<0.10", "typer", std::nullopt});
    fix::FixSettings s;
    s.profile = "alltalk-v2";
    s.install = {"typer==0.9.4"};
    fix::attribute_changes(p, plan, r, s);
    CHECK(p.changes[0].why == "requested by gradio3-pydantic2, profile alltalk-v2");
    CHECK(p.changes[1].why == "requested by profile alltalk-v2, --install");
    CHECK(p.changes[2].why == "kept working: spacy 3.7.5 requires typer<0.10");
    CHECK(p.changes[3].why == "found by trial: the imports that lack LogitsWarper work with it");
}

TEST_CASE("unpredicted: missing, other versions and extra distributions are named") {
    fix::Prediction p;
    p.after = scan_of({dist("a", "1.0"), dist("b", "2.0")});
    CHECK(fix::unpredicted(p, scan_of({dist("a", "1.0"), dist("b", "2.0")})).empty());
    const auto d = fix::unpredicted(p, scan_of({dist("b", "2.1"), dist("c", "3")}));
    CHECK(d == std::vector<std::string>{"a 1.0 was predicted, but is not installed",
                                        "b 2.1 is installed, but 2.0 was predicted",
                                        "c 3 is installed, but was not predicted"});
}

TEST_CASE("the pip steps: uninstall first, then install constrained, by pip or uv") {
    fix::FixRequest req;
    req.remove = {"coqpit"};
    req.install = {"coqpit-config==0.2.1"};
    const auto pip = fix::pip_steps("/e/bin/python", req, "/e/c.txt", std::nullopt);
    REQUIRE(pip.size() == 2);
    CHECK(pip[0].what == "pip uninstall coqpit");
    CHECK(pip[1].what == "pip install coqpit-config==0.2.1");
    CHECK(std::find(pip[1].argv.begin(), pip[1].argv.end(), "/e/c.txt") != pip[1].argv.end());
    const auto uv = fix::pip_steps("/e/bin/python", req, "/e/c.txt", std::string("/u/uv"));
    CHECK(uv[1].argv.front() == "/u/uv");
    CHECK(uv[1].what == "uv pip install coqpit-config==0.2.1");
    req.remove.clear();
    CHECK(fix::pip_steps("/e/bin/python", req, "/e/c.txt", std::nullopt).size() == 1);
}
