#include "diagnose/explain_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/text.hpp"
#include "pypa/pep508.hpp"

namespace alltalk {

std::optional<ChainExplanation> explain_chain(const RuleSet& rules,
                                              const std::vector<PastedException>& chain,
                                              const FailureInfo& whole, const InstalledFacts& facts,
                                              const std::string& python,
                                              const ModulesReader& modules) {
    const std::size_t top = chain.empty() ? 0 : chain.size() - 1;
    // Rules alone first (no import explanation), the top with the whole text, then each cause.
    if (auto e = explain_known(rules, whole, facts, python, {})) {
        return ChainExplanation{std::move(*e), top};
    }
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        if (auto e = explain_known(rules, chain[i].failure, facts, python, {})) {
            return ChainExplanation{std::move(*e), i};
        }
    }
    if (!modules) {
        return std::nullopt;
    }
    if (auto e = explain_known(RuleSet{}, whole, facts, python, modules)) {
        return ChainExplanation{std::move(*e), top};
    }
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        if (auto e = explain_known(RuleSet{}, chain[i].failure, facts, python, modules)) {
            return ChainExplanation{std::move(*e), i};
        }
    }
    return std::nullopt;
}

std::string chain_cause_text(const std::vector<PastedException>& chain, std::size_t index) {
    if (chain.size() < 2 || index + 1 >= chain.size()) {
        return {};
    }
    const FailureInfo& cause = chain[index].failure;
    const FailureInfo& top = chain.back().failure;
    std::string what = cause.exception_type;
    if (!cause.message.empty()) {
        what += ": " + text::first_line(cause.message);
    }
    return "The cause was the earlier " + what + " (line " + std::to_string(chain[index].line) +
           "); the " + text::last_dotted_part(top.exception_type) +
           " after it was raised while handling it.";
}

std::optional<Explanation> explain_pip_conflict(const std::string& line, const std::string& python,
                                                Platform platform) {
    const std::size_t but = line.find(", but you have ");
    const std::size_t req_at = line.rfind(" requires ", but);
    if (but == std::string::npos || req_at == std::string::npos) {
        return std::nullopt;
    }
    // "<package> <version> requires <requirement>, but you have <dependency> <version> ..."
    const auto words = text::split_nonempty(line.substr(0, req_at), ' ');
    const auto have = text::split_nonempty(line.substr(but + 15), ' ');
    const std::string requirement = line.substr(req_at + 10, but - req_at - 10);
    auto req = pep508::parse_requirement(requirement);
    if (words.size() < 2 || have.size() < 2 || !req) {
        return std::nullopt;
    }
    const std::string& package = words[words.size() - 2];
    const std::string& version = words.back();
    Explanation e;
    e.id = "requirement-conflict";
    e.key = e.id + ":" + package + ":" + req->key;
    e.message = package + " " + version + " requires " + requirement + ", but " + have[0] + " " +
                have[1] + " is installed. pip installed it anyway (its warning says so); " +
                package + " may fail where it uses " + have[0] +
                ". `alltalk-launch doctor` lists every such conflict of the env, and " +
                "`alltalk-launch fix` plans one install that resolves them together.";
    std::string bare = requirement.substr(0, requirement.find(';'));
    while (!bare.empty() && bare.back() == ' ') {
        bare.pop_back();
    }
    e.action.install = {bare};
    e.fix = render_fix(e.action, python, platform);
    return e;
}

TextReport explain_text(const RuleSet& rules, const PastedText& text, const InstalledFacts& facts,
                        const std::string& python, const ModulesReader& modules) {
    TextReport report;
    std::vector<std::pair<std::string, std::size_t>> seen;  // explanation key -> item index
    for (const auto& f : text.failures) {
        TextItem item;
        item.line = f.line;
        item.last_line = f.last_line;
        item.headline = f.headline;
        if (!f.chain.empty()) {
            if (auto c = explain_chain(rules, f.chain, f.failure, facts, python, modules)) {
                item.cause = chain_cause_text(f.chain, c->index);
                item.explanation = std::move(c->explanation);
            }
        } else if (f.failure.traceback.find(", but you have ") != std::string::npos) {
            item.explanation = explain_pip_conflict(f.failure.traceback, python, facts.platform);
        }
        if (!item.explanation && f.chain.empty()) {
            if (auto e = explain_known(rules, f.failure, facts, python, modules)) {
                item.explanation = std::move(*e);
            }
        }
        if (!item.explanation && f.chain.empty()) {
            continue;  // a line that only looked like a failure
        }
        if (item.explanation) {
            const std::string& key = item.explanation->key;
            auto it = std::find_if(seen.begin(), seen.end(),
                                   [&](const auto& s) { return s.first == key; });
            if (it != seen.end()) {
                report.items[it->second].also_at.push_back(item.line);
                continue;
            }
            seen.emplace_back(key, report.items.size());
            ++report.explained;
        }
        report.items.push_back(std::move(item));
    }
    return report;
}

InstalledFacts facts_from_text(const PastedFacts& pasted, SiteScan& scan) {
    scan = scan_with_text(SiteScan{}, pasted);
    InstalledFacts facts;
    facts.scan = &scan;
    facts.partial = true;
    facts.python_version = pasted.python_version;
    facts.platform = pasted.os == PastedFacts::Os::Windows ? Platform::Windows : Platform::Posix;
    if (pasted.os != PastedFacts::Os::Unknown) {
        const bool win = pasted.os == PastedFacts::Os::Windows;
        const bool mac = pasted.os == PastedFacts::Os::MacOS;
        facts.markers = {
            {"os_name", win ? "nt" : "posix"},
            {"sys_platform", win   ? "win32"
                             : mac ? "darwin"
                                   : "linux"},
            {"platform_system", win   ? "Windows"
                                : mac ? "Darwin"
                                      : "Linux"},
            {"platform_python_implementation", "CPython"},
            {"implementation_name", "cpython"},
        };
        if (!pasted.python_version.empty()) {
            facts.markers["python_version"] = pasted.python_version.substr(
                0, pasted.python_version.find('.', pasted.python_version.find('.') + 1));
            facts.markers["python_full_version"] = pasted.python_version;
        }
    }
    return facts;
}

SiteScan scan_with_text(const SiteScan& env, const PastedFacts& pasted) {
    SiteScan out = env;
    for (const auto& [key, version] : pasted.versions) {
        if (!pep440::parse(version)) {
            continue;  // "1.0.x": says less than it seems
        }
        Distribution d;
        d.name = d.key = key;
        d.version_text = version;
        d.version = pep440::parse(version);
        auto it =
            std::lower_bound(out.dists.begin(), out.dists.end(), key,
                             [](const Distribution& x, const std::string& k) { return x.key < k; });
        if (it != out.dists.end() && it->key == key) {
            d.name = it->name;
            d.requires_dist = it->requires_dist;
            d.metadata_dir = it->metadata_dir;
            *it = std::move(d);
        } else {
            out.dists.insert(it, std::move(d));
        }
    }
    return out;
}

std::string format_text_report(const TextReport& report, const std::string& source) {
    std::string out;
    for (const auto& item : report.items) {
        out += source + ":" + std::to_string(item.line) + ": " + item.headline + "\n";
        if (!item.explanation) {
            out += "    not recognised: no rule or known import failure explains it\n\n";
            continue;
        }
        const Explanation& e = *item.explanation;
        if (!item.cause.empty()) {
            out += "    " + item.cause + "\n";
        }
        out += "    what happened [" + e.id + "]: " + e.message + "\n";
        if (!e.involved.empty() && e.assumed.empty()) {
            out += "    versions: " + e.involved + "\n";
        }
        if (!e.fix.empty()) {
            out += "    fix:\n        " + e.fix + "\n";
        }
        if (!item.also_at.empty()) {
            out += "    also at line";
            out += item.also_at.size() > 1 ? "s" : "";
            for (std::size_t i = 0; i < item.also_at.size() && i < 20; ++i) {
                out += (i == 0 ? " " : ", ") + std::to_string(item.also_at[i]);
            }
            out += item.also_at.size() > 20 ? ", ...\n" : "\n";
        }
        out += "\n";
    }
    return out;
}

std::string format_text_report_json(const TextReport& report, const PastedFacts& facts,
                                    const std::string& facts_from) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& item : report.items) {
        nlohmann::json j = {{"line", item.line},
                            {"last_line", item.last_line},
                            {"headline", item.headline},
                            {"explained", item.explanation.has_value()},
                            {"also_at", item.also_at}};
        if (!item.cause.empty()) {
            j["cause"] = item.cause;
        }
        if (item.explanation) {
            const Explanation& e = *item.explanation;
            j["id"] = e.id;
            j["message"] = e.message;
            j["assumes"] = e.assumed;
            j["involved"] = e.involved;
            j["fix"] = e.fix;
            j["action"] = {{"install", e.action.install},
                           {"remove", e.action.remove},
                           {"options", e.action.options},
                           {"index_url", e.action.index_url ? nlohmann::json(*e.action.index_url)
                                                            : nlohmann::json(nullptr)},
                           {"note", e.action.note}};
        }
        items.push_back(std::move(j));
    }
    const char* os = facts.os == PastedFacts::Os::Windows ? "windows"
                     : facts.os == PastedFacts::Os::Linux ? "linux"
                     : facts.os == PastedFacts::Os::MacOS ? "macos"
                                                          : "unknown";
    nlohmann::json out = {
        {"explained", report.explained},
        {"failures", items},
        {"facts",
         {{"from", facts_from},
          {"text_versions", facts.versions},
          {"python", facts.python_version},
          {"os", os}}},
    };
    return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace alltalk
