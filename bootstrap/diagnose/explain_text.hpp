#pragma once
// Explaining what pasted text holds (diagnose/pasted.hpp), and a traceback chain: the part of
// `alltalk-launch explain` and of the live hooks that decides what to say. Pure: the rules, the
// facts (an env's, or what the text states) and the text in, explanations out.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "diagnose/explain.hpp"
#include "diagnose/pasted.hpp"

namespace alltalk {

// A chain's explanation: which of its exceptions it explains (the cause, when that is not the
// last one).
struct ChainExplanation {
    Explanation explanation;
    std::size_t index = 0;  // into the chain; chain.size() - 1 = the exception that reached the top
};

// Rules first, for the exception that reached the top (with the whole chain's text, as the live
// hooks always matched), then for its causes, the first cause first; then the generic import
// explanation in the same order. `whole` is the last exception with the whole block as traceback.
std::optional<ChainExplanation> explain_chain(const RuleSet& rules,
                                              const std::vector<PastedException>& chain,
                                              const FailureInfo& whole, const InstalledFacts& facts,
                                              const std::string& python,
                                              const ModulesReader& modules);

// "The cause was the earlier ModuleNotFoundError: No module named 'TTS' (line 3); the NameError
// after it was raised while handling it." Empty when the last exception is the one explained.
std::string chain_cause_text(const std::vector<PastedException>& chain, std::size_t index);

// pip's "X 1.0 requires Y<2, but you have Y 2.1 which is incompatible.": the doctor's
// requirement-conflict explanation; nullopt for a line that is not one.
std::optional<Explanation> explain_pip_conflict(const std::string& line, const std::string& python,
                                                Platform platform);

struct TextItem {
    std::size_t line = 0, last_line = 0;
    std::string headline;
    std::optional<Explanation> explanation;  // nullopt: a failure nothing explains
    std::string cause;                       // chain_cause_text(), when it applies
    std::vector<std::size_t> also_at;        // later lines with the same explanation
};

struct TextReport {
    std::vector<TextItem> items;  // explained ones and the tracebacks nothing explains, in order
    std::size_t explained = 0;
};

// Every failure in `text`, explained where something knows it; one item per explanation (its
// later occurrences in also_at).
TextReport explain_text(const RuleSet& rules, const PastedText& text, const InstalledFacts& facts,
                        const std::string& python, const ModulesReader& modules);

// The facts to judge with when there is no env: what the text states, `partial` set; `scan`
// receives the distributions the text names (it must outlive the facts).
InstalledFacts facts_from_text(const PastedFacts& pasted, SiteScan& scan);

// `env`'s distributions with the versions the text states put over them.
SiteScan scan_with_text(const SiteScan& env, const PastedFacts& pasted);

// The explain command's outputs.
std::string format_text_report(const TextReport& report, const std::string& source);
std::string format_text_report_json(const TextReport& report, const PastedFacts& facts,
                                    const std::string& facts_from);

}  // namespace alltalk
