#include "fix/undo_manifest.hpp"

#include <nlohmann/json.hpp>

#include "base/error.hpp"

using nlohmann::json;

namespace alltalk::fix {

namespace {

constexpr std::pair<UndoState, const char*> kStates[] = {
    {UndoState::Recording, "recording"}, {UndoState::Ready, "ready"},
    {UndoState::Applying, "applying"},   {UndoState::Applied, "applied"},
    {UndoState::Failed, "failed"},       {UndoState::Restored, "restored"},
};

// Reading one manifest: each problem names its key.
class Reader {
  public:
    explicit Reader(std::string where) : where_(std::move(where)) {}

    [[noreturn]] void fail(const std::string& problem) const {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"The undo point " + where_ + " is damaged: " + problem + ".", "",
                      "Nothing was changed. It cannot be used to undo; remove it with "
                      "`alltalk-launch fix --forget ID` (its id is the folder's name)."});
    }

    const json& key(const json& obj, const char* name, const std::string& in) const {
        if (!obj.is_object()) {
            fail(in + " is not an object");
        }
        const auto it = obj.find(name);
        if (it == obj.end()) {
            fail(in + " has no \"" + name + "\"");
        }
        return *it;
    }
    std::string str(const json& obj, const char* name, const std::string& in) const {
        const json& v = key(obj, name, in);
        if (!v.is_string()) {
            fail(in + "\"" + name + "\" is not a string");
        }
        return v.get<std::string>();
    }
    std::string opt_str(const json& obj, const char* name, const std::string& in) const {
        return obj.contains(name) ? str(obj, name, in) : std::string();
    }
    std::vector<std::string> strings(const json& obj, const char* name,
                                     const std::string& in) const {
        const json& v = key(obj, name, in);
        if (!v.is_array()) {
            fail(in + "\"" + name + "\" is not a list");
        }
        std::vector<std::string> out;
        for (const auto& e : v) {
            if (!e.is_string()) {
                fail(in + "\"" + name + "\" holds something that is not a string");
            }
            out.push_back(e.get<std::string>());
        }
        return out;
    }
    const json& array(const json& obj, const char* name, const std::string& in) const {
        const json& v = key(obj, name, in);
        if (!v.is_array()) {
            fail(in + "\"" + name + "\" is not a list");
        }
        return v;
    }

  private:
    std::string where_;
};

// A path inside the point's folder: relative, '/'-separated, without "..".
bool inside_point(const std::string& p) {
    if (p.empty() || p.front() == '/' || p.find('\\') != std::string::npos ||
        p.find(':') != std::string::npos) {
        return false;
    }
    std::size_t start = 0;
    while (start <= p.size()) {
        const auto end = std::min(p.find('/', start), p.size());
        const std::string_view part(p.data() + start, end - start);
        if (part.empty() || part == ".." || part == ".") {
            return false;
        }
        start = end + 1;
    }
    return true;
}

}  // namespace

const char* to_string(UndoState s) {
    for (const auto& [state, name] : kStates) {
        if (state == s) {
            return name;
        }
    }
    return "?";
}

std::optional<UndoState> parse_undo_state(std::string_view s) {
    for (const auto& [state, name] : kStates) {
        if (s == name) {
            return state;
        }
    }
    return std::nullopt;
}

bool can_move(UndoState from, UndoState to) {
    switch (from) {
        case UndoState::Recording:
            return to == UndoState::Ready;
        case UndoState::Ready:
            return to == UndoState::Applying;
        case UndoState::Applying:
            return to == UndoState::Applied || to == UndoState::Failed || to == UndoState::Restored;
        case UndoState::Applied:
        case UndoState::Failed:
            return to == UndoState::Restored;
        case UndoState::Restored:
            return false;
    }
    return false;
}

void move_state(UndoManifest& m, UndoState to) {
    if (!can_move(m.state, to)) {
        throw LaunchError(Stage::Fix, std::string("The undo point ") + m.id + " is " +
                                          to_string(m.state) + " and cannot become " +
                                          to_string(to) + ".");
    }
    m.state = to;
}

std::string to_json(const UndoManifest& m) {
    json dists = json::array();
    for (const auto& d : m.dists) {
        json files = json::array();
        for (const auto& f : d.files) {
            files.push_back(
                {{"path", f.path}, {"hash", f.hash}, {"size", f.size}, {"saved", f.saved}});
        }
        dists.push_back({{"name", d.name},
                         {"version", d.version},
                         {"installer", d.installer},
                         {"metadata_dir", d.metadata_dir},
                         {"files", std::move(files)},
                         {"folders", d.folders}});
    }
    json changes = json::array();
    for (const auto& c : m.changes) {
        changes.push_back({{"name", c.name}, {"before", c.before}, {"after", c.after}});
    }
    json entries = json::object();
    for (const auto& [folder, list] : m.folder_entries) {
        entries[folder] = list;
    }
    const json out = {{"format", UndoManifest::kFormat},
                      {"id", m.id},
                      {"created", m.created},
                      {"state", to_string(m.state)},
                      {"summary", m.summary},
                      {"site_packages", m.site_packages},
                      {"installs", m.installs},
                      {"top_level_before", m.top_level_before},
                      {"dists", std::move(dists)},
                      {"folder_entries", std::move(entries)},
                      {"changes", std::move(changes)},
                      {"failed_step", m.failed_step},
                      {"ended", m.ended}};
    // Invalid UTF-8 in a file name (POSIX allows any bytes) is replaced rather than thrown.
    return out.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

SavedFile saved_file_from(const Reader& r, const json& f, const std::string& fin) {
    SavedFile sf;
    sf.path = r.str(f, "path", fin);
    sf.hash = r.str(f, "hash", fin);
    sf.saved = r.str(f, "saved", fin);
    const json& size = r.key(f, "size", fin);
    if (!size.is_number_unsigned() && !(size.is_number_integer() && size.get<long long>() >= 0)) {
        r.fail(fin + "\"size\" is not a size");
    }
    sf.size = size.get<std::uint64_t>();
    if (sf.path.empty()) {
        r.fail(fin + "has an empty path");
    }
    if (!inside_point(sf.saved)) {
        r.fail(fin + "\"saved\" (" + sf.saved + ") is not a path inside the point");
    }
    if (sf.hash.rfind("sha256=", 0) != 0) {
        r.fail(fin + "\"hash\" is not a sha256 hash");
    }
    return sf;
}

SavedDist saved_dist_from(const Reader& r, const json& d, const std::string& in) {
    SavedDist sd;
    sd.name = r.str(d, "name", in);
    sd.version = r.str(d, "version", in);
    sd.installer = r.opt_str(d, "installer", in);
    sd.metadata_dir = r.str(d, "metadata_dir", in);
    sd.folders = r.strings(d, "folders", in);
    std::size_t k = 0;
    for (const auto& f : r.array(d, "files", in)) {
        sd.files.push_back(saved_file_from(r, f, in + "files[" + std::to_string(k++) + "] "));
    }
    return sd;
}

}  // namespace

UndoManifest manifest_from_json(std::string_view text, const std::string& where) {
    const Reader r(where);
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        r.fail(std::string("manifest.json is not valid JSON (") + e.what() + ")");
    }
    if (!j.is_object()) {
        r.fail("manifest.json is not a JSON object");
    }
    const json& format = r.key(j, "format", "manifest.json");
    if (!format.is_number_integer() || format.get<int>() != UndoManifest::kFormat) {
        r.fail("manifest.json has format " + format.dump() + ", not " +
               std::to_string(UndoManifest::kFormat));
    }
    UndoManifest m;
    const std::string top = "manifest.json ";
    m.id = r.str(j, "id", top);
    m.created = r.str(j, "created", top);
    const std::string state = r.str(j, "state", top);
    const auto parsed = parse_undo_state(state);
    if (!parsed) {
        r.fail("its state \"" + state + "\" is none of the known states");
    }
    m.state = *parsed;
    m.summary = r.opt_str(j, "summary", top);
    m.site_packages = r.str(j, "site_packages", top);
    m.failed_step = r.opt_str(j, "failed_step", top);
    m.ended = r.opt_str(j, "ended", top);
    if (m.state == UndoState::Recording) {
        return m;  // written first, with nothing saved yet: the rest follows with "ready"
    }
    m.installs = r.strings(j, "installs", top);
    m.top_level_before = r.strings(j, "top_level_before", top);
    std::size_t i = 0;
    for (const auto& d : r.array(j, "dists", top)) {
        m.dists.push_back(saved_dist_from(r, d, "dists[" + std::to_string(i++) + "] "));
    }
    const json& entries = r.key(j, "folder_entries", top);
    if (!entries.is_object()) {
        r.fail("manifest.json \"folder_entries\" is not an object");
    }
    for (const auto& [folder, list] : entries.items()) {
        m.folder_entries[folder] = r.strings(entries, folder.c_str(), "folder_entries ");
    }
    if (j.contains("changes")) {
        std::size_t c = 0;
        for (const auto& ch : r.array(j, "changes", top)) {
            const std::string in = "changes[" + std::to_string(c++) + "] ";
            m.changes.push_back(
                {r.str(ch, "name", in), r.str(ch, "before", in), r.str(ch, "after", in)});
        }
    }
    return m;
}

std::string utc_text(std::time_t now) {
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return buf;
}

std::string make_undo_id(std::time_t now, long long pid) {
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&now));
    return std::string(buf) + "-" + std::to_string(pid);
}

}  // namespace alltalk::fix
