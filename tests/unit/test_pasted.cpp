// Reading pasted text (diagnose/pasted.hpp) and explaining it (diagnose/explain_text.hpp): the
// shapes copying gives a console's text, traceback chains, the facts the text states, and the
// judgement of rules with partial facts.
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "diagnose/explain_text.hpp"
#include "diagnose/pasted.hpp"
#include "test_support.hpp"

using namespace alltalk;

namespace {

PastedText read(const std::string& text) {
    const RuleSet& rules = builtin_rules();
    return read_pasted(normalize_console_text(text), failure_patterns(rules),
                       condition_names(rules));
}

// AllTalk v1's script.py: the import of TTS fails, and the handler's logging then fails too.
const char* const kChain =
    "[AllTalk Startup] Loading\n"
    "Traceback (most recent call last):\n"
    "  File \"G:\\Ai\\alltalk_tts\\script.py\", line 47, in <module>\n"
    "    from TTS.api import TTS\n"
    "ModuleNotFoundError: No module named 'TTS'\n"
    "\n"
    "During handling of the above exception, another exception occurred:\n"
    "\n"
    "Traceback (most recent call last):\n"
    "  File \"G:\\Ai\\alltalk_tts\\script.py\", line 51, in <module>\n"
    "    logger.error(\"TTS not found\")\n"
    "NameError: name 'logger' is not defined\n"
    "Press any key to continue . . .\n";

}  // namespace

TEST_CASE("console text: ANSI colours go, CRLF and lone CR become LF") {
    CHECK(normalize_console_text("\x1b[91mError\x1b[0m: x\r\ny\rz") == "Error: x\ny\nz");
    CHECK(normalize_console_text("\x1b]0;title\x07ok") == "ok");
    CHECK(normalize_console_text("cut\x1b[") == "cut");  // an escape cut off at the end
    CHECK(normalize_console_text("a\x1b") == "a");
}

TEST_CASE("a traceback chain is read with its cause first and the whole block as its text") {
    const PastedText p = read(kChain);
    REQUIRE(p.failures.size() == 1);
    const PastedFailure& f = p.failures[0];
    CHECK(f.line == 2);
    CHECK(f.last_line >= 12);  // a message may go on over lines: what follows is taken along
    REQUIRE(f.chain.size() == 2);
    CHECK(f.chain[0].failure.exception_type == "ModuleNotFoundError");
    CHECK(f.chain[0].failure.message == "No module named 'TTS'");
    CHECK(f.chain[0].line == 2);
    CHECK(f.chain[1].line == 9);
    CHECK(f.failure.exception_type == "NameError");
    CHECK(f.failure.traceback.find("No module named 'TTS'") != std::string::npos);
    CHECK(f.headline == "NameError: name 'logger' is not defined");
}

TEST_CASE("the chain's cause is explained and said to be the cause") {
    const PastedText p = read(kChain);
    SiteScan scan;
    const InstalledFacts facts = facts_from_text(p.facts, scan);
    const TextReport r =
        explain_text(builtin_rules(), p, facts, "python", [] { return InstalledModules{}; });
    REQUIRE(r.items.size() == 1);
    REQUIRE(r.items[0].explanation);
    CHECK(r.items[0].explanation->id == "import-missing");
    CHECK(r.items[0].cause.find("earlier ModuleNotFoundError: No module named 'TTS' (line 2)") !=
          std::string::npos);
    CHECK(r.items[0].cause.find("the NameError after it") != std::string::npos);
}

TEST_CASE("a prefix before every line (docker compose, a logger) is taken off") {
    const PastedText p = read(
        "app-1  | Traceback (most recent call last):\n"
        "app-1  |   File \"/app/x.py\", line 3, in <module>\n"
        "app-1  |     import torch\n"
        "app-1  | AttributeError: module 'torch' has no attribute 'uint64'\n"
        "app-1  | exited\n");
    REQUIRE(p.failures.size() == 1);
    CHECK(p.failures[0].failure.exception_type == "AttributeError");
    CHECK(p.failures[0].failure.message.rfind("module 'torch' has no attribute 'uint64'\n", 0) ==
          0);
}

TEST_CASE("a frame line the terminal cut goes on unindented and is not the exception") {
    const PastedText p = read(
        "Traceback (most recent call last):\n"
        "  File \"C:\\Users\\me\\alltalk_tts\\alltalk_environment\\env\\Lib\\site-packages\\tr\n"
        "ansformers\\generation\\utils.py\", line 1, in <module>\n"
        "ImportError: cannot import name 'LogitsWarper' from 'transformers'\n");
    REQUIRE(p.failures.size() == 1);
    CHECK(p.failures[0].failure.exception_type == "ImportError");
    CHECK(p.failures[0].failure.traceback.find("ansformers\\generation") != std::string::npos);
}

TEST_CASE("a multi-line message ends at a log record or a blank line") {
    const PastedText p = read(
        "Traceback (most recent call last):\n"
        "  File \"x.py\", line 1, in <module>\n"
        "_pickle.UnpicklingError: Weights only load failed. This file can still be loaded\n"
        "\t(1) In PyTorch 2.6, we changed the default value\n"
        "WeightsUnpickler error: Unsupported global: GLOBAL a.B was not an allowed global\n"
        "[AllTalk TTS] next\n");
    REQUIRE(p.failures.size() == 1);
    const std::string& m = p.failures[0].failure.message;
    CHECK(m.find("(1) In PyTorch 2.6") != std::string::npos);
    CHECK(m.find("GLOBAL a.B") != std::string::npos);
    CHECK(m.find("[AllTalk TTS]") == std::string::npos);
}

TEST_CASE("lines outside tracebacks that hold a failure pattern are failures of their own") {
    const PastedText p = read(
        "ERROR | root | Error loading embedding model: module 'torch.serialization' has no "
        "attribute 'add_safe_globals'\n"
        "all fine here\n"
        "[AllTalk ENG] Could not locate cudnn_ops_infer64_8.dll. Please make sure it is in your "
        "library path!\n");
    REQUIRE(p.failures.size() == 2);
    CHECK(p.failures[0].line == 1);
    CHECK(p.failures[0].failure.line_only);
    CHECK(p.failures[1].line == 3);
}

TEST_CASE("the text's own versions, Python and OS are facts; a name given twice is not") {
    const PastedText p = read(
        "coqui-tts 0.24.1 requires transformers<4.41, but you have transformers 4.43.3 which is "
        "incompatible.\n"
        "Successfully installed gradio-4.44.1 pydantic_core-2.27.2\n"
        "torch==2.2.1+cu121 is what I have, safetensors 0.6.1\n"
        "deepspeed 0.14.0 and later deepspeed 0.16.1\n"
        "  File \"C:\\a\\Lib\\site-packages\\x.py\", line 1\n"
        "Python 3.11.9\n");
    CHECK(p.facts.versions.at("transformers") == "4.43.3");
    CHECK(p.facts.versions.at("gradio") == "4.44.1");
    CHECK(p.facts.versions.at("pydantic-core") == "2.27.2");
    CHECK(p.facts.versions.at("torch") == "2.2.1+cu121");
    CHECK(p.facts.versions.at("safetensors") == "0.6.1");
    CHECK(p.facts.versions.count("deepspeed") == 0);
    CHECK(p.facts.python_version == "3.11.9");
    CHECK(p.facts.os == PastedFacts::Os::Windows);
}

TEST_CASE("with partial facts an unknown condition is assumed and said; a known one decides") {
    SiteScan scan;
    PastedFacts pf;
    InstalledFacts facts = facts_from_text(pf, scan);
    CHECK(judge("transformers>=4.52", facts) == Judgement::Unknown);
    CHECK(judge("python<3.12", facts) == Judgement::Unknown);
    FailureInfo f;
    f.line_only = true;
    f.message = f.traceback =
        "'GPT2InferenceModel' object has no attribute '_validate_model_class'";
    auto e = explain_known(builtin_rules(), f, facts, "python", {});
    REQUIRE(e);
    CHECK(e->id == "xtts-transformers452-validate");
    CHECK(e->message.rfind("If transformers is at least 4.52: ", 0) == 0);
    CHECK(e->involved.empty());

    pf.versions["transformers"] = "4.51.3";  // the text says otherwise: no match
    facts = facts_from_text(pf, scan);
    CHECK(judge("transformers>=4.52", facts) == Judgement::Fails);
    CHECK_FALSE(explain_known(builtin_rules(), f, facts, "python", {}));

    // Complete facts (an env) never give Unknown: a distribution not there is not installed.
    const SiteScan none;
    const InstalledFacts env{&none, "3.11.9", {}, Platform::Posix};
    CHECK(judge("transformers>=4.52", env) == Judgement::Fails);
    CHECK(judge("!transformers", env) == Judgement::Holds);
}

TEST_CASE("an unknown version leaves no broken requirement or stray words behind") {
    SiteScan scan;
    const InstalledFacts facts = facts_from_text(PastedFacts{}, scan);
    CHECK(expand("pillow=={pillow}", facts, "py") == "pillow");
    CHECK(expand("torch {torch} has", facts, "py") == "torch has");
    CHECK(expand("TTS {tts}'s code", facts, "py") == "TTS's code");
    CHECK(expand("the original TTS package ({tts}, old)", facts, "py") ==
          "the original TTS package (, old)");
    CHECK(expand("the original TTS package ({tts}) imports", facts, "py") ==
          "the original TTS package imports");
}

TEST_CASE("conditions in words") {
    CHECK(condition_in_words("transformers>=4.52") == "transformers is at least 4.52");
    CHECK(condition_in_words("coqui-tts<0.27.5") == "coqui-tts is older than 0.27.5");
    CHECK(condition_in_words("gradio>=4.40,<5.20") ==
          "gradio is at least 4.40 and older than 5.20");
    CHECK(condition_in_words("!torchcodec") == "torchcodec is not installed");
    CHECK(condition_in_words("torch") == "");
    CHECK(condition_in_words("python<3.12") == "Python is older than 3.12");
    CHECK(condition_in_words("!$NO_PROXY|no_proxy") == "none of NO_PROXY or no_proxy is set");
}

TEST_CASE("pip's conflict line gets the doctor's requirement-conflict explanation") {
    auto e = explain_pip_conflict(
        "coqui-tts 0.24.1 requires transformers<4.41, but you have transformers 4.43.3 which is "
        "incompatible.",
        "python", Platform::Posix);
    REQUIRE(e);
    CHECK(e->id == "requirement-conflict");
    CHECK(e->message.rfind("coqui-tts 0.24.1 requires transformers<4.41, but transformers "
                           "4.43.3 is installed.",
                           0) == 0);
    CHECK(e->fix == "python -m pip install 'transformers<4.41'");
    CHECK_FALSE(explain_pip_conflict("no conflict here", "python", Platform::Posix));
    CHECK_FALSE(explain_pip_conflict(", but you have x", "python", Platform::Posix));
}

TEST_CASE("pip's long-path hint on Windows is explained with the registry setting and undo") {
    // As pip prints it (commands/install.py create_os_error_message) for a file past MAX_PATH.
    const PastedText p = read(
        "ERROR: Could not install packages due to an OSError: [Errno 2] No such file or "
        "directory: 'C:\\Users\\me\\Documents\\AI\\alltalk_tts\\alltalk_environment\\env\\"
        "Lib\\site-packages\\jsonschema\\tests\\typing\\test_all_concrete_validators_match_"
        "protocol.py'\n"
        "HINT: This error might have occurred since this system does not have Windows Long Path "
        "support enabled. You can find information on how to enable this at "
        "https://pip.pypa.io/warnings/enable-long-paths\n");
    SiteScan scan;
    const TextReport r =
        explain_text(builtin_rules(), p, facts_from_text(p.facts, scan), "python", {});
    REQUIRE(r.explained == 1);
    REQUIRE(r.items[0].explanation);
    CHECK(r.items[0].explanation->id == "windows-long-paths");
    CHECK(r.items[0].explanation->fix.find("LongPathsEnabled") != std::string::npos);
    CHECK(r.items[0].explanation->fix.find("fix --undo") != std::string::npos);
}

TEST_CASE("the same explanation twice is one item with the later lines") {
    const PastedText p = read(
        "TypeError: argument of type 'bool' is not iterable\n"
        "x\n"
        "TypeError: argument of type 'bool' is not iterable\n");
    SiteScan scan;
    const InstalledFacts facts = facts_from_text(p.facts, scan);
    const TextReport r = explain_text(builtin_rules(), p, facts, "python", {});
    REQUIRE(r.items.size() == 1);
    CHECK(r.explained == 1);
    CHECK(r.items[0].also_at == std::vector<std::size_t>{3});
}

TEST_CASE("a native crash matches the pattern rules against what was printed before it") {
    const SiteScan none;
    const InstalledFacts env{&none, "3.11.9", {}, Platform::Posix};
    FailureInfo crash;
    crash.signal = SIGABRT;
    crash.stderr_tail =
        "Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: cannot "
        "open shared object file: No such file or directory\n";
    auto e = explain_known(builtin_rules(), crash, env, "python", {});
    REQUIRE(e);
    CHECK(e->id == "cudnn8-missing");
    crash.stderr_tail = "nothing known\n";
    e = explain_known(builtin_rules(), crash, env, "python", {});
    CHECK((!e || e->id != "cudnn8-missing"));
}

TEST_CASE("Windows' fast-fail status is named and counts as an abort") {
    CHECK(signal_of_exception(0xC0000409u) == SIGABRT);
    CHECK(exception_description(0xC0000409u).find("fast fail") != std::string::npos);
    CHECK(exit_is_windows_exception(static_cast<int>(0xC00000FDu), Platform::Windows));
    CHECK_FALSE(exit_is_windows_exception(static_cast<int>(0xC00000FDu), Platform::Posix));
    CHECK_FALSE(exit_is_windows_exception(3, Platform::Windows));
}

TEST_CASE("text with no traceback marker gives no chain; a cut-off traceback gives no crash") {
    CHECK(traceback_chain("nothing here").empty());
    const PastedText p = read("Traceback (most recent call last):\n  File \"x\", line 1\n");
    REQUIRE(p.failures.size() == 1);
    CHECK(p.failures[0].chain.size() == 1);
    CHECK(read("Traceback (most recent call last):").failures.empty());
}
