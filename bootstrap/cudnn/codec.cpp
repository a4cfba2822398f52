#include "cudnn/codec.hpp"

#include <nlohmann/json.hpp>

namespace alltalk {

namespace {

// JSON (nlohmann): the decision is read in every launch that re-executes itself, and from the
// decision cache; it parses in about half the time toml++ takes for the same data.
constexpr int kCodecVersion = 2;

using json = nlohmann::json;

json need_json(const CudnnNeed& n) {
    return {{"major", n.major},
            {"who", n.who},
            {"why", n.why},
            {"requirement", n.requirement},
            {"alternative", n.alternative},
            {"gpu_only", n.gpu_only}};
}

template <typename T>
T field(const json& j, const char* key, T fallback) {
    const auto it = j.find(key);
    return it != j.end() && !it->is_null() ? it->get<T>() : fallback;
}

CudnnNeed need_of(const json& j) {
    CudnnNeed n;
    n.major = field(j, "major", 0);
    n.who = field(j, "who", std::string());
    n.why = field(j, "why", std::string());
    n.requirement = field(j, "requirement", std::string());
    n.alternative = field(j, "alternative", std::string());
    n.gpu_only = field(j, "gpu_only", false);
    return n;
}

json candidate_json(const CudnnCandidate& c) {
    return {{"dir", c.dir.string()}, {"major", c.major},
            {"version", c.version},  {"version_source", c.version_source},
            {"origin", c.origin},    {"rank", c.rank},
            {"env_own", c.env_own},  {"libraries", c.libraries},
            {"complete", c.complete}};
}

CudnnCandidate candidate_of(const json& j) {
    CudnnCandidate c;
    c.dir = field(j, "dir", std::string());
    c.major = field(j, "major", 0);
    c.version = field(j, "version", std::string());
    c.version_source = field(j, "version_source", std::string());
    c.origin = field(j, "origin", std::string());
    c.rank = field(j, "rank", 0);
    c.env_own = field(j, "env_own", false);
    c.complete = field(j, "complete", false);
    c.libraries = field(j, "libraries", std::vector<std::string>());
    return c;
}

template <typename F>
void each(const json& j, const char* key, F&& f) {
    const auto it = j.find(key);
    if (it != j.end() && it->is_array()) {
        for (const auto& item : *it) {
            if (item.is_object()) {
                f(item);
            }
        }
    }
}

}  // namespace

std::string encode_native_decision(const NativeDecision& d) {
    json needs = json::array(), candidates = json::array(), choices = json::array(),
         missing = json::array();
    for (const auto& n : d.needs) {
        needs.push_back(need_json(n));
    }
    for (const auto& c : d.candidates) {
        candidates.push_back(candidate_json(c));
    }
    for (const auto& c : d.choices) {
        choices.push_back(
            {{"major", c.major}, {"why", c.why}, {"candidate", candidate_json(c.candidate)}});
    }
    for (const auto& m : d.missing) {
        json who = json::array();
        for (const auto& n : m.needed_by) {
            who.push_back(need_json(n));
        }
        missing.push_back({{"major", m.major}, {"fix", m.fix}, {"needed_by", std::move(who)}});
    }
    const json j = {{"codec", kCodecVersion},
                    {"override_problem", d.override_problem},
                    {"elapsed_ms", d.elapsed_ms},
                    {"needs", std::move(needs)},
                    {"candidates", std::move(candidates)},
                    {"choices", std::move(choices)},
                    {"missing", std::move(missing)}};
    try {
        return j.dump();
    } catch (const json::exception&) {
        // A path that is not UTF-8 (bytes on Linux): no text, which decodes to no decision, so
        // the reader selects again rather than use a path changed on the way.
        return "";
    }
}

std::optional<NativeDecision> decode_native_decision(std::string_view text) {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || field(j, "codec", 0) != kCodecVersion) {
        return std::nullopt;
    }
    try {
        NativeDecision d;
        d.override_problem = field(j, "override_problem", std::string());
        d.elapsed_ms = field(j, "elapsed_ms", 0.0);
        each(j, "needs", [&](const json& n) { d.needs.push_back(need_of(n)); });
        each(j, "candidates", [&](const json& c) { d.candidates.push_back(candidate_of(c)); });
        each(j, "choices", [&](const json& c) {
            CudnnChoice ch;
            ch.major = field(c, "major", 0);
            ch.why = field(c, "why", std::string());
            if (const auto it = c.find("candidate"); it != c.end() && it->is_object()) {
                ch.candidate = candidate_of(*it);
            }
            d.choices.push_back(std::move(ch));
        });
        each(j, "missing", [&](const json& m) {
            MissingCudnn mc;
            mc.major = field(m, "major", 0);
            mc.fix = field(m, "fix", std::string());
            each(m, "needed_by", [&](const json& n) { mc.needed_by.push_back(need_of(n)); });
            d.missing.push_back(std::move(mc));
        });
        return d;
    } catch (const json::exception&) {  // a field of another type: not a decision we wrote
        return std::nullopt;
    }
}

}  // namespace alltalk
