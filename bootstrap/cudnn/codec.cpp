#include "cudnn/codec.hpp"

#include <toml++/toml.h>

#include <sstream>

namespace alltalk {

namespace {

constexpr int kCodecVersion = 1;

toml::table need_table(const CudnnNeed& n) {
    return toml::table{{"major", n.major},
                       {"who", n.who},
                       {"why", n.why},
                       {"requirement", n.requirement},
                       {"alternative", n.alternative},
                       {"gpu_only", n.gpu_only}};
}

CudnnNeed need_of(const toml::table& t) {
    CudnnNeed n;
    n.major = static_cast<int>(t["major"].value_or(std::int64_t{0}));
    n.who = t["who"].value_or(std::string());
    n.why = t["why"].value_or(std::string());
    n.requirement = t["requirement"].value_or(std::string());
    n.alternative = t["alternative"].value_or(std::string());
    n.gpu_only = t["gpu_only"].value_or(false);
    return n;
}

toml::table candidate_table(const CudnnCandidate& c) {
    toml::array libs;
    for (const auto& l : c.libraries) {
        libs.push_back(l);
    }
    return toml::table{{"dir", c.dir.string()}, {"major", c.major},
                       {"version", c.version},  {"version_source", c.version_source},
                       {"origin", c.origin},    {"rank", c.rank},
                       {"env_own", c.env_own},  {"libraries", std::move(libs)},
                       {"complete", c.complete}};
}

CudnnCandidate candidate_of(const toml::table& t) {
    CudnnCandidate c;
    c.dir = t["dir"].value_or(std::string());
    c.major = static_cast<int>(t["major"].value_or(std::int64_t{0}));
    c.version = t["version"].value_or(std::string());
    c.version_source = t["version_source"].value_or(std::string());
    c.origin = t["origin"].value_or(std::string());
    c.rank = static_cast<int>(t["rank"].value_or(std::int64_t{0}));
    c.env_own = t["env_own"].value_or(false);
    c.complete = t["complete"].value_or(false);
    if (const toml::array* libs = t["libraries"].as_array()) {
        for (const auto& l : *libs) {
            c.libraries.push_back(l.value_or(std::string()));
        }
    }
    return c;
}

template <typename F>
void each_table(const toml::table& t, const char* key, F&& f) {
    if (const toml::array* arr = t[key].as_array()) {
        for (const auto& item : *arr) {
            if (const toml::table* tt = item.as_table()) {
                f(*tt);
            }
        }
    }
}

}  // namespace

std::string encode_native_decision(const NativeDecision& d) {
    toml::array needs, candidates, choices, missing;
    for (const auto& n : d.needs) {
        needs.push_back(need_table(n));
    }
    for (const auto& c : d.candidates) {
        candidates.push_back(candidate_table(c));
    }
    for (const auto& c : d.choices) {
        choices.push_back(toml::table{
            {"major", c.major}, {"why", c.why}, {"candidate", candidate_table(c.candidate)}});
    }
    for (const auto& m : d.missing) {
        toml::array who;
        for (const auto& n : m.needed_by) {
            who.push_back(need_table(n));
        }
        missing.push_back(
            toml::table{{"major", m.major}, {"fix", m.fix}, {"needed_by", std::move(who)}});
    }
    toml::table t{{"codec", kCodecVersion},
                  {"override_problem", d.override_problem},
                  {"elapsed_ms", d.elapsed_ms},
                  {"needs", std::move(needs)},
                  {"candidates", std::move(candidates)},
                  {"choices", std::move(choices)},
                  {"missing", std::move(missing)}};
    std::ostringstream os;
    os << t;
    return os.str();
}

std::optional<NativeDecision> decode_native_decision(std::string_view text) {
    toml::table t;
    try {
        t = toml::parse(text, std::string_view{"native decision"});
    } catch (const toml::parse_error&) {
        return std::nullopt;
    }
    if (t["codec"].value_or(std::int64_t{0}) != kCodecVersion) {
        return std::nullopt;
    }
    NativeDecision d;
    d.override_problem = t["override_problem"].value_or(std::string());
    d.elapsed_ms = t["elapsed_ms"].value_or(0.0);
    each_table(t, "needs", [&](const toml::table& n) { d.needs.push_back(need_of(n)); });
    each_table(t, "candidates",
               [&](const toml::table& c) { d.candidates.push_back(candidate_of(c)); });
    each_table(t, "choices", [&](const toml::table& c) {
        CudnnChoice ch;
        ch.major = static_cast<int>(c["major"].value_or(std::int64_t{0}));
        ch.why = c["why"].value_or(std::string());
        if (const toml::table* cand = c["candidate"].as_table()) {
            ch.candidate = candidate_of(*cand);
        }
        d.choices.push_back(std::move(ch));
    });
    each_table(t, "missing", [&](const toml::table& m) {
        MissingCudnn mc;
        mc.major = static_cast<int>(m["major"].value_or(std::int64_t{0}));
        mc.fix = m["fix"].value_or(std::string());
        each_table(m, "needed_by",
                   [&](const toml::table& n) { mc.needed_by.push_back(need_of(n)); });
        d.missing.push_back(std::move(mc));
    });
    return d;
}

}  // namespace alltalk
