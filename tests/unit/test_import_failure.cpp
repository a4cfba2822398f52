// The generic explanation of a failed import (diagnose/import_failure.hpp) on hand-made facts, the
// RECORD / top_level.txt reading it is given (pypa/site_packages.hpp) on a real folder, and the
// pure part of doctor --deep (diagnose/deep.hpp: the probe's records, findings, output).
#include <doctest/doctest.h>

#include <algorithm>

#include "diagnose/deep.hpp"
#include "diagnose/doctor.hpp"
#include "diagnose/explain.hpp"
#include "diagnose/import_failure.hpp"
#include "test_support.hpp"

using namespace alltalk;

namespace {

using test::dist;

const char* kSite = "/env/lib/python3.11/site-packages";

std::string tb(const std::string& file, int line, const std::string& last) {
    return "Traceback (most recent call last):\n  File \"/root/alltalk/finetune.py\", line 3, in "
           "<module>\n    import TTS\n  File \"" +
           file + "\", line " + std::to_string(line) + ", in <module>\n    import x\n" + last +
           "\n";
}

struct Env {
    SiteScan scan;
    InstalledModules modules;
    InstalledFacts facts;
    Env(std::vector<Distribution> dists, std::vector<std::vector<std::string>> files) {
        scan.dists = std::move(dists);
        modules.site_packages = kSite;
        for (std::size_t i = 0; i < scan.dists.size(); ++i) {
            modules.dists.push_back({&scan.dists[i], files[i], {}});
        }
        facts.scan = &scan;
        facts.python_version = "3.11.9";
        facts.markers = {{"python_version", "3.11"}, {"sys_platform", "linux"}};
    }
};

}  // namespace

TEST_CASE("import failures are read from the exception and its traceback") {
    FailureInfo f{"builtins.ModuleNotFoundError", "No module named 'yaml'",
                  tb("/env/lib/python3.11/site-packages/TTS/utils/io.py", 7,
                     "ModuleNotFoundError: No module named 'yaml'"),
                  0};
    auto imp = parse_import_failure(f);
    REQUIRE(imp);
    CHECK(imp->kind == ImportFailure::Kind::NoModule);
    CHECK(imp->module == "yaml");
    CHECK(imp->importer == "/env/lib/python3.11/site-packages/TTS/utils/io.py");
    CHECK(imp->importer_line == 7);

    FailureInfo n{"ImportError",
                  "cannot import name 'SampleOutput' from 'transformers.generation.utils' "
                  "(/env/lib/python3.11/site-packages/transformers/generation/utils.py)",
                  "", 0};
    imp = parse_import_failure(n);
    REQUIRE(imp);
    CHECK(imp->kind == ImportFailure::Kind::NoName);
    CHECK(imp->name == "SampleOutput");
    CHECK(imp->module == "transformers.generation.utils");
    CHECK(imp->module_file == "/env/lib/python3.11/site-packages/transformers/generation/utils.py");

    // importlib's own frames are not the importer.
    FailureInfo via{"ModuleNotFoundError", "No module named 'foo'",
                    "Traceback (most recent call last):\n  File \"/app/main.py\", line 9, in "
                    "<module>\n    importlib.import_module('foo')\n  File "
                    "\"/usr/lib/python3.11/importlib/__init__.py\", line 126, in import_module\n"
                    "  File \"<frozen importlib._bootstrap>\", line 1204, in _gcd_import\n"
                    "ModuleNotFoundError: No module named 'foo'\n",
                    0};
    CHECK(parse_import_failure(via)->importer == "/app/main.py");

    CHECK_FALSE(parse_import_failure({"ImportError",
                                      "cannot import name 'a' from partially initialized module "
                                      "'m' (most likely due to a circular import) (/m.py)",
                                      "", 0}));
    CHECK_FALSE(parse_import_failure({"ValueError", "No module named 'x'", "", 0}));
}

TEST_CASE("a traceback logged as text gives its exception type and message") {
    FailureInfo f;
    f.traceback =
        "Traceback (most recent call last):\n  File \"/app/x.py\", line 2, in startup\n"
        "    raise RuntimeError('a')\nValueError: first\n\nDuring handling of the above "
        "exception, another exception occurred:\n\nTraceback (most recent call last):\n  File "
        "\"/app/y.py\", line 4, in <module>\n    import yaml\nModuleNotFoundError: No module "
        "named 'yaml'\n";
    const FailureInfo c = complete_failure(f);
    CHECK(c.exception_type == "ModuleNotFoundError");
    CHECK(c.message == "No module named 'yaml'");
    CHECK(parse_import_failure(c)->importer == "/app/y.py");
    FailureInfo none;
    none.traceback = "just a message";
    CHECK(complete_failure(none).exception_type.empty());
}

TEST_CASE("a module nothing provides: the usual PyPI name, the importing distribution") {
    Env env({dist("coqui-tts", "0.28.0", {"pyyaml>=6.0", "torchaudio; extra == 'cpu'"}, {"cpu"})},
            {{"TTS/__init__.py", "TTS/utils/io.py"}});
    ImportFailure f;
    f.module = "yaml";
    f.importer = std::string(kSite) + "/TTS/utils/io.py";
    f.importer_line = 7;
    auto e = explain_import_failure(f, env.modules, env.facts, "/env/bin/python");
    REQUIRE(e);
    CHECK(e->key == "import-missing:yaml");
    CHECK(e->message.find("part of coqui-tts 0.28.0") != std::string::npos);
    CHECK(e->message.find("PyPI package") == std::string::npos);  // the requirement says it
    CHECK(e->message.find("requires pyyaml>=6.0") != std::string::npos);
    CHECK(e->fix == "/env/bin/python -m pip install 'pyyaml>=6.0'");
    CHECK(e->action.install == std::vector<std::string>{"pyyaml>=6.0"});  // what `fix` applies

    f.module = "torchaudio";  // declared in an extra only
    e = explain_import_failure(f, env.modules, env.facts, "/env/bin/python");
    CHECK(e->message.find("only in its extra(s) [cpu]") != std::string::npos);
    CHECK(e->fix == "/env/bin/python -m pip install torchaudio");

    f.module = "nothing_like_it";  // no table entry: the module's own name
    f.importer = "/root/alltalk/finetune.py";
    e = explain_import_failure(f, env.modules, env.facts, "/env/bin/python");
    CHECK(e->message.find("imported by /root/alltalk/finetune.py line 7)") != std::string::npos);
    CHECK(e->message.find("part of") == std::string::npos);
    CHECK(e->fix == "/env/bin/python -m pip install nothing_like_it");
    f.module = "winreg";  // the standard library's, on another platform: nothing to install
    e = explain_import_failure(f, env.modules, env.facts, "/env/bin/python");
    CHECK(e->message.find("standard library on Windows only") != std::string::npos);
    CHECK(e->fix.find("pip") == std::string::npos);
    CHECK_FALSE(e->action.automatable());
    CHECK(e->action.note == e->fix);
    f.module = "_tkinter";
    e = explain_import_failure(f, env.modules, env.facts, "/env/bin/python");
    CHECK(e->message.find("built without the C library") != std::string::npos);
    CHECK(e->fix.find("python3-tk") != std::string::npos);
    CHECK(usual_project_for("PIL") == "pillow");
    CHECK(usual_project_for("cv2") == "opencv-python");
    CHECK(usual_project_for("numpy").empty());
}

TEST_CASE("a module an installed distribution lists, and a missing submodule") {
    Env env({dist("pyyaml", "6.0.1"), dist("transformers", "4.46.3"),
             dist("TTS", "0.22.0", {"transformers>=4.33.0"})},
            {{"yaml/__init__.py", "_yaml/__init__.py"},
             {"transformers/__init__.py", "transformers/generation/utils.py"},
             {"TTS/tts/layers/xtts/gpt.py"}});
    ImportFailure f;
    f.module = "yaml";
    auto e = explain_import_failure(f, env.modules, env.facts, "py");
    CHECK(e->message.find("although pyyaml 6.0.1 lists its files") != std::string::npos);
    CHECK(e->fix == "py -m pip install --force-reinstall --no-deps pyyaml==6.0.1");
    CHECK(e->action.install == std::vector<std::string>{"pyyaml==6.0.1"});
    CHECK(e->action.options == std::vector<std::string>{"--force-reinstall", "--no-deps"});

    f.module = "transformers.generation.streamers";
    f.importer = std::string(kSite) + "/TTS/tts/layers/xtts/gpt.py";
    e = explain_import_failure(f, env.modules, env.facts, "py");
    CHECK(e->message.find("transformers 4.46.3 provides 'transformers' but has no module") !=
          std::string::npos);
    CHECK(e->message.find("TTS 0.22.0 requires transformers>=4.33.0") != std::string::npos);

    ImportFailure n;
    n.kind = ImportFailure::Kind::NoName;
    n.name = "SampleOutput";
    n.module = "transformers.generation.utils";
    n.module_file = std::string(kSite) + "/transformers/generation/utils.py";
    n.importer = f.importer;
    e = explain_import_failure(n, env.modules, env.facts, "py");
    REQUIRE(e);
    CHECK(e->id == "import-name");
    CHECK(e->message.find("the installed transformers 4.46.3 does not have it") !=
          std::string::npos);
    CHECK(e->message.find("TTS 0.22.0 requires transformers>=4.33.0") != std::string::npos);
    CHECK(e->message.find("still has SampleOutput") != std::string::npos);
    CHECK(e->fix.find("within transformers>=4.33.0") != std::string::npos);

    n.module = "mylocal";  // nothing installed owns it: nothing to say
    n.module_file = "/root/alltalk/mylocal.py";
    CHECK_FALSE(explain_import_failure(n, env.modules, env.facts, "py"));
}

TEST_CASE("rules come before the generic explanation; the modules are read only when needed") {
    RuleSet rules = parse_rules(R"(
[[rule]]
id = "yaml-rule"
message = "known"
[rule.failure]
patterns = ["No module named 'yaml'"]
)",
                                "t.toml");
    SiteScan scan;
    InstalledFacts facts{&scan, "3.11.9", {}};
    int reads = 0;
    ModulesReader modules = [&] {
        ++reads;
        return InstalledModules{};
    };
    FailureInfo f{"ModuleNotFoundError", "No module named 'yaml'", "", 0};
    CHECK(explain_known(rules, f, facts, "py", modules)->key == "yaml-rule");
    CHECK(reads == 0);
    f.message = "No module named 'cv2'";
    auto e = explain_known(rules, f, facts, "py", modules);
    CHECK(reads == 1);
    CHECK(e->key == "import-missing:cv2");
    CHECK(format_explanation(*e).find("fix:\n    py -m pip install opencv-python") !=
          std::string::npos);
    f.exception_type = "ValueError";
    CHECK_FALSE(explain_known(rules, f, facts, "py", modules));
    CHECK(explain_failure(rules, f, facts, "py", modules).find("doctor --report") !=
          std::string::npos);
}

TEST_CASE("RECORD, installed-files.txt and top_level.txt are read from site-packages") {
    test::TempDir tmp;
    const auto site = tmp.path() / "site-packages";
    test::write(site / "PyYAML-6.0.1.dist-info" / "METADATA",
                "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\n");
    test::write(site / "PyYAML-6.0.1.dist-info" / "RECORD",
                "yaml/__init__.py,sha256=abc,100\n\"odd,name.py\",,\n_yaml/__init__.py,,\n");
    test::write(site / "PyYAML-6.0.1.dist-info" / "top_level.txt", "_yaml\nyaml\n");
    test::write(site / "old-1.0-py3.11.egg-info" / "PKG-INFO",
                "Metadata-Version: 1.1\nName: old\nVersion: 1.0\n");
    test::write(site / "old-1.0-py3.11.egg-info" / "installed-files.txt",
                "../old/__init__.py\nPKG-INFO\n");
    const SiteScan scan = scan_site_packages(site);
    const InstalledModules m = read_installed_modules(scan, site);
    REQUIRE(m.dists.size() == 2);
    const auto& old = m.dists[0].dist->key == "old" ? m.dists[0] : m.dists[1];
    const auto& yaml = m.dists[0].dist->key == "old" ? m.dists[1] : m.dists[0];
    CHECK(yaml.files ==
          std::vector<std::string>{"yaml/__init__.py", "odd,name.py", "_yaml/__init__.py"});
    CHECK(yaml.top_level == std::vector<std::string>{"_yaml", "yaml"});
    CHECK(std::find(old.files.begin(), old.files.end(), "old/__init__.py") != old.files.end());
    CHECK(record_path("\"a\"\"b,c\",x,1") == "a\"b,c");
}

TEST_CASE("doctor --deep: the probe's records, and the findings and output they make") {
    auto begin = parse_probe_record(
        R"({"event": "begin", "i": 2, "kind": "import", "name": "import yaml", "module": "yaml",)"
        R"( "file": "/r/script.py", "line": 4, "optional": true, "conditional": false})");
    REQUIRE(begin);
    CHECK(begin->event == "begin");
    CHECK(begin->index == 2);
    CHECK(begin->step.name == "import yaml");
    CHECK(begin->step.optional);
    auto end = parse_probe_record(
        R"({"event": "end", "i": 3, "kind": "import", "name": "import nope", "module": "nope",)"
        R"( "file": "/r/script.py", "line": 5, "status": "failed", "seconds": 0.25,)"
        R"( "type": "builtins.ModuleNotFoundError", "message": "No module named 'nope'",)"
        R"( "traceback": "Traceback (most recent call last):\n  File \"/r/script.py\", line 5,)"
        R"( in <module>\nModuleNotFoundError: No module named 'nope'\n"})");
    REQUIRE(end);
    CHECK(end->step.status == StepStatus::Failed);
    CHECK(end->step.seconds == 0.25);
    CHECK_FALSE(parse_probe_record("not json"));
    CHECK_FALSE(parse_probe_record(R"({"no": "event"})"));

    DeepCheck d;
    d.timeout_s = 5;
    d.steps.push_back(end->step);
    DeepStep hung = begin->step;
    hung.name = "import slow";
    hung.optional = false;
    hung.status = StepStatus::TimedOut;
    d.steps.push_back(hung);
    DeepStep ok;
    ok.name = "import json";
    d.steps.push_back(ok);
    SiteScan scan;
    InstalledFacts facts{&scan, "3.11.9", {}};
    explain_steps(d, parse_rules("", "empty.toml"), facts, "py", [] { return InstalledModules{}; });
    REQUIRE(d.steps[0].explanation);
    CHECK(d.steps[0].explanation->fix == "py -m pip install nope");
    CHECK_FALSE(d.steps[1].explanation);

    DoctorFacts f;
    f.root.root = "/r";
    f.root.is_alltalk = true;
    f.commands = {Command::Server};
    f.deep = d;
    DoctorResult r = diagnose_all({f}, parse_rules("", "empty.toml"));
    auto has = [&](const std::string& id, Severity s) {
        return std::any_of(r.findings.begin(), r.findings.end(),
                           [&](const Finding& x) { return x.id == id && x.severity == s; });
    };
    CHECK(has("deep-import", Severity::Error));
    CHECK(has("deep-timeout", Severity::Warning));
    CHECK(r.has_errors());
    const std::string text = format_text(r);
    CHECK(text.find("FAILED       0.25 s  import nope  (script.py:5)") != std::string::npos);
    CHECK(text.find("TIMED OUT") != std::string::npos);
    CHECK(text.find("ok           0.00 s  import json") != std::string::npos);
    const std::string json = format_json(r);
    CHECK(json.find(R"("deep":{"also":[],"imports":[)") != std::string::npos);
    CHECK(json.find(R"("status":"timed out")") != std::string::npos);
}
