#include "fix/trial.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/text.hpp"
#include "pypa/pep440.hpp"

namespace alltalk::fix {

std::vector<TrialTarget> trial_targets(const DeepCheck& check, const InstalledModules& modules) {
    std::vector<TrialTarget> out;
    for (const auto& step : check.steps) {
        if (step.status != StepStatus::Failed || step.kind != "import") {
            continue;
        }
        auto failure = parse_import_failure(step.failure);
        if (!failure || failure->kind != ImportFailure::Kind::NoName) {
            continue;
        }
        const Distribution* owner = module_owner(*failure, modules);
        if (!owner) {
            continue;
        }
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const TrialTarget& t) { return t.dist == owner->name; });
        if (it == out.end()) {
            out.push_back({owner->name, owner->version_text, failure->module, {}, {}});
            it = out.end() - 1;
        }
        if (std::find(it->names.begin(), it->names.end(), failure->name) == it->names.end()) {
            it->names.push_back(failure->name);
        }
        if (std::find(it->imports.begin(), it->imports.end(), step.name) == it->imports.end()) {
            it->imports.push_back(step.name);
        }
    }
    return out;
}

std::vector<std::string> parse_index_versions(std::string_view output) {
    // pip --json prints one object; pip's warnings (if any) go to stderr, which shares the log.
    for (const auto& line : text::split_nonempty(output, '\n')) {
        const std::string_view l = text::trim(line);
        if (l.empty() || l.front() != '{') {
            continue;
        }
        auto doc = nlohmann::json::parse(l.begin(), l.end(), nullptr, false);
        if (doc.is_object() && doc.contains("versions") && doc["versions"].is_array()) {
            std::vector<std::string> out;
            for (const auto& v : doc["versions"]) {
                if (v.is_string()) {
                    out.push_back(v.get<std::string>());
                }
            }
            return out;
        }
    }
    for (const auto& line : text::split_nonempty(output, '\n')) {
        const std::string_view l = text::trim(line);
        constexpr std::string_view kLead = "Available versions:";
        if (l.substr(0, kLead.size()) == kLead) {
            std::vector<std::string> out;
            for (const auto& v : text::split(std::string(l.substr(kLead.size())), ',')) {
                std::string t(text::trim(v));
                if (!t.empty()) {
                    out.push_back(t);
                }
            }
            return out;
        }
    }
    return {};
}

std::vector<std::string> releases_below(const std::vector<std::string>& versions,
                                        const std::string& installed) {
    const auto top = pep440::parse(installed);
    std::vector<std::pair<pep440::Version, std::string>> keep;
    for (const auto& v : versions) {
        auto p = pep440::parse(v);
        if (!p || p->is_prerelease() || (top && pep440::compare(*p, *top) >= 0)) {
            continue;
        }
        keep.emplace_back(*p, v);
    }
    std::sort(keep.begin(), keep.end(),
              [](const auto& a, const auto& b) { return pep440::compare(a.first, b.first) < 0; });
    std::vector<std::string> out;
    for (auto& [p, v] : keep) {
        if (out.empty() || out.back() != v) {
            out.push_back(v);
        }
    }
    return out;
}

SearchResult newest_passing(std::size_t n,
                            const std::function<std::optional<bool>(std::size_t)>& passes) {
    SearchResult r;
    if (n == 0) {
        return r;
    }
    auto trial = [&](std::size_t i) -> std::optional<bool> {
        auto ok = passes(i);
        if (!ok) {
            r.stopped = true;
        } else {
            r.tried.emplace_back(i, *ok);
        }
        return ok;
    };
    auto newest = trial(n - 1);
    if (!newest) {
        return r;
    }
    if (*newest) {
        r.found = n - 1;
        return r;
    }
    // Passing ones form a prefix of 0..n-2: find its end.
    std::size_t lo = 0, hi = n - 1;  // the answer is below hi; lo..hi-1 undecided
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        auto ok = trial(mid);
        if (!ok) {
            return r;
        }
        if (*ok) {
            r.found = mid;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return r;
}

}  // namespace alltalk::fix
