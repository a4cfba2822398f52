#include "cudnn/decision_cache.hpp"

#include <charconv>

namespace alltalk {

namespace {

constexpr std::string_view kMagic = "alltalk-launch cache 1\n";

// One field: its length, a space, the bytes, a newline (any byte may occur in a path).
void field(std::string& out, std::string_view value) {
    out += std::to_string(value.size());
    out += ' ';
    out += value;
    out += '\n';
}

class Reader {
  public:
    explicit Reader(std::string_view text) : text_(text) {}
    bool literal(std::string_view s) {
        if (text_.substr(0, s.size()) != s) {
            return false;
        }
        text_.remove_prefix(s.size());
        return true;
    }
    std::optional<std::string> field() {
        std::size_t n = 0;
        auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), n);
        const auto digits = static_cast<std::size_t>(end - text_.data());
        if (ec != std::errc() || digits == 0 || n > text_.size() || digits + 2 + n > text_.size() ||
            text_[digits] != ' ' || text_[digits + 1 + n] != '\n') {
            return std::nullopt;
        }
        std::string value(text_.substr(digits + 1, n));
        text_.remove_prefix(digits + 2 + n);
        return value;
    }
    bool done() const { return text_.empty(); }

  private:
    std::string_view text_;
};

}  // namespace

std::string native_cache_key(const NativeFacts& facts, const std::string& launcher) {
    std::string k;
    field(k, "cudnn selection");
    field(k, launcher);
    field(k, facts.platform == Platform::Windows ? "windows" : "linux");
    const PythonEnv& e = facts.env;
    for (const auto& p :
         {e.dir, e.python, e.home, e.base_prefix, e.libpython, e.site_packages, e.bin_dir}) {
        field(k, p.string());
    }
    field(k, to_string(e.kind));
    field(k, e.version.text);
    field(k, facts.override_dir ? "override " + facts.override_dir->string() : "no override");
    field(k, facts.override_source);
    field(k, facts.overlay_dir ? "overlay " + facts.overlay_dir->string() : "no overlay");
    std::string majors;
    for (int m : facts.configured_majors) {
        majors += std::to_string(m) + ",";
    }
    field(k, majors);
    field(k, facts.configured_source);
    field(k, facts.search_without_needs ? "search always" : "search for needs");
    if (facts.system_dirs) {
        field(k, "system dirs " + std::to_string(facts.system_dirs->size()));
        for (const auto& [dir, origin] : *facts.system_dirs) {
            field(k, dir.string());
            field(k, origin);
        }
    } else {
        field(k, "system dirs of the host");
    }
    const EnvMap vars = cudnn_env_inputs(facts.env_vars, facts.platform);
    field(k, "variables " + std::to_string(vars.size()));
    for (const auto& [name, value] : vars) {
        field(k, name);
        field(k, value);
    }
    return k;
}

std::string encode_cache_entry(const CacheEntry& entry) {
    std::string out(kMagic);
    field(out, entry.key);
    field(out, std::to_string(entry.inputs.size()));
    for (const auto& o : entry.inputs) {
        field(out, std::string(1, o.kind));
        field(out, o.path);
        field(out, o.seen);
    }
    field(out, entry.payload);
    return out;
}

std::optional<CacheEntry> decode_cache_entry(std::string_view text) {
    Reader r(text);
    if (!r.literal(kMagic)) {
        return std::nullopt;
    }
    CacheEntry e;
    auto key = r.field();
    auto count = r.field();
    if (!key || !count) {
        return std::nullopt;
    }
    e.key = std::move(*key);
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(count->data(), count->data() + count->size(), n);
    if (ec != std::errc() || end != count->data() + count->size()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < n; ++i) {
        auto kind = r.field();
        auto path = r.field();
        auto seen = r.field();
        if (!kind || !path || !seen || kind->size() != 1 || (*kind != "s" && *kind != "c")) {
            return std::nullopt;
        }
        e.inputs.push_back({(*kind)[0], std::move(*path), std::move(*seen), 0});
    }
    auto payload = r.field();
    if (!payload || !r.done()) {
        return std::nullopt;
    }
    e.payload = std::move(*payload);
    return e;
}

std::string cache_entry_mismatch(const CacheEntry& entry, const std::string& key,
                                 const std::function<bool(const inputs::Observation&)>& holds) {
    if (entry.key != key) {
        return "made for other facts (another launcher, env, --cudnn, config or variables)";
    }
    for (const auto& o : entry.inputs) {
        if (!holds(o)) {
            return o.path + " changed";
        }
    }
    return {};
}

}  // namespace alltalk
