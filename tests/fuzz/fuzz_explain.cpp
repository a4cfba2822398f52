// libFuzzer target: `alltalk-launch explain`'s reading of pasted text and the matching of every
// failure it finds against the built-in rules, with no env (partial facts: the text's own), on any
// bytes (built and run with clang by tests/integration/test_explain_corpus.py). Also the live
// hooks' reading of one traceback text (traceback_chain, explain_chain).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "diagnose/explain_text.hpp"
#include "diagnose/pasted.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace alltalk;
    static const RuleSet& rules = builtin_rules();
    static const std::vector<std::string> patterns = failure_patterns(rules);
    static const std::vector<std::string> names = condition_names(rules);
    const std::string text =
        normalize_console_text(std::string_view(reinterpret_cast<const char*>(data), size));
    const PastedText pasted = read_pasted(text, patterns, names);
    for (const auto& f : pasted.failures) {
        if (f.line == 0 || f.line > pasted.lines || f.last_line < f.line) {
            __builtin_trap();  // a failure outside the text
        }
    }
    SiteScan scan;
    const InstalledFacts facts = facts_from_text(pasted.facts, scan);
    const TextReport report = explain_text(rules, pasted, facts, "python", {});
    (void)format_text_report(report, "fuzz");
    (void)format_text_report_json(report, pasted.facts, "text");
    FailureInfo whole;
    whole.traceback = text;
    (void)explain_chain(rules, traceback_chain(text), complete_failure(whole), facts, "python", {});
    return 0;
}
