#include "discover/overlay.hpp"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/files.hpp"
#include "os/dir_list.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace alltalk::overlay {

fs::path overlays_root(const PythonEnv& env) {
    return env.dir / ".alltalk-launch" / "overlays";  // fix::state_dir(env) / "overlays"
}

fs::path overlay_dir(const PythonEnv& env, const std::string& command) {
    return overlays_root(env) / command;
}

std::string encode_manifest(const Manifest& m) {
    json dists = json::array();
    for (const auto& [name, version] : m.distributions) {
        dists.push_back({{"name", name}, {"version", version}});
    }
    json j = {{"overlay", kManifestVersion},
              {"requirements", m.requirements},
              {"distributions", dists},
              {"inputs_hash", m.inputs_hash}};
    return j.dump(2) + "\n";
}

std::optional<Manifest> decode_manifest(std::string_view text, std::string* error) {
    auto fail = [&](const std::string& why) -> std::optional<Manifest> {
        if (error) {
            *error = why;
        }
        return std::nullopt;
    };
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
        return fail("it is not JSON");
    }
    if (!j.contains("overlay") || !j["overlay"].is_number_integer() ||
        j["overlay"].get<int>() != kManifestVersion) {
        return fail("it was not written by this version of alltalk-launch");
    }
    Manifest m;
    const json& reqs = j.value("requirements", json());
    const json& dists = j.value("distributions", json());
    const json& hash = j.value("inputs_hash", json());
    if (!reqs.is_array() || !dists.is_array() || !hash.is_string()) {
        return fail("an entry (requirements, distributions, inputs_hash) is missing");
    }
    for (const auto& r : reqs) {
        if (!r.is_string()) {
            return fail("a requirement is not a string");
        }
        m.requirements.push_back(r.get<std::string>());
    }
    for (const auto& d : dists) {
        if (!d.is_object() || !d.contains("name") || !d["name"].is_string() ||
            !d.contains("version") || !d["version"].is_string()) {
            return fail("a distribution has no name or version");
        }
        m.distributions.emplace_back(d["name"].get<std::string>(), d["version"].get<std::string>());
    }
    m.inputs_hash = hash.get<std::string>();
    return m;
}

std::vector<std::string> dist_info_names(const fs::path& site_packages) {
    std::vector<std::string> out;
    for (std::string& name : dir_list::names(site_packages)) {
        constexpr std::string_view suffix = ".dist-info";
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            out.push_back(std::move(name));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string inputs_hash(const std::vector<std::string>& requirements,
                        std::vector<std::string> dist_info_names) {
    std::sort(dist_info_names.begin(), dist_info_names.end());
    std::string text = "overlay inputs 1\nrequirements\n";
    for (const auto& r : requirements) {
        text += r + "\n";
    }
    text += "base\n";
    for (const auto& d : dist_info_names) {
        text += d + "\n";
    }
    // FNV-1a, 64 bits: this detects a change, it guards against no one, and it runs at every
    // start of a command with an overlay, where OpenSSL's first digest (its initialisation) would
    // cost milliseconds (bench/overlay.py).
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : text) {
        h = (h ^ c) * 1099511628211ULL;
    }
    static const char* hex = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) {
        out[static_cast<std::size_t>(i)] = hex[h & 15];
    }
    return out;
}

const char* to_string(State s) {
    switch (s) {
        case State::Current:
            return "current";
        case State::Stale:
            return "stale";
        case State::Missing:
            return "missing";
        case State::Corrupt:
            return "corrupt";
    }
    return "?";
}

Status check(const PythonEnv& env, const std::string& command,
             const std::vector<std::string>& requirements) {
    Status s;
    s.command = command;
    s.dir = overlay_dir(env, command);
    std::string text;
    if (!files::read_text(s.dir / kManifestFile, text)) {
        std::error_code ec;
        if (fs::exists(s.dir, ec)) {
            s.state = State::Corrupt;
            s.problem = std::string(kManifestFile) + " is missing or unreadable";
        } else {
            s.state = State::Missing;
        }
        return s;
    }
    std::string why;
    s.manifest = decode_manifest(text, &why);
    if (!s.manifest) {
        s.state = State::Corrupt;
        s.problem = std::string(kManifestFile) + " cannot be read: " + why;
        return s;
    }
    s.state =
        s.manifest->inputs_hash == inputs_hash(requirements, dist_info_names(env.site_packages))
            ? State::Current
            : State::Stale;
    return s;
}

std::string describe(const Status& s) {
    std::string out = s.command + ": " + to_string(s.state);
    if (s.manifest) {
        const auto& d = s.manifest->distributions;
        out +=
            ", " + std::to_string(d.size()) + (d.size() == 1 ? " distribution" : " distributions");
        std::string list;
        for (const auto& [name, version] : d) {
            list += (list.empty() ? "" : ", ") + name + " " + version;
        }
        if (!list.empty()) {
            out += " (" + list + ")";
        }
    }
    out += " in " + s.dir.string();
    switch (s.state) {
        case State::Current:
            break;
        case State::Stale:
            out +=
                "; the requirements or the env changed since it was made: run "
                "`alltalk-launch overlay sync " +
                s.command + "`";
            break;
        case State::Missing:
            out += "; not made yet: run `alltalk-launch overlay sync " + s.command + "`";
            break;
        case State::Corrupt:
            out += "; " + s.problem + ": run `alltalk-launch overlay sync " + s.command +
                   "` to make it again";
            break;
    }
    return out;
}

}  // namespace alltalk::overlay
