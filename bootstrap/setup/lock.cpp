#include "setup/lock.hpp"

#include <algorithm>
#include <charconv>

#include "base/text.hpp"
#include "pypa/site_packages.hpp"
#include "setup/locks_data.hpp"

namespace alltalk::setup {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

bool fail(std::string* error, std::string message) {
    if (error) {
        *error = std::move(message);
    }
    return false;
}

// One `# key: value` header line into `lock`.
bool read_header(LockInfo& lock, std::string_view key, std::string value, std::string* error) {
    if (key == "alltalk") {
        lock.alltalk = value;
    } else if (key == "alltalk-commit") {
        lock.alltalk_commit = value;
    } else if (key == "platform") {
        lock.platform = value;
    } else if (key == "python") {
        lock.python = value;
    } else if (key == "variant") {
        lock.variant = value;
    } else if (key == "cuda") {
        if (value != "none") {
            lock.cuda = parse_cuda_version(value);
            if (!lock.cuda) {
                return fail(error, "cuda: '" + value + "' is not a CUDA version such as 13.0");
            }
        }
    } else if (key == "torch") {
        lock.torch = value;
    } else if (key == "torch-archs") {
        lock.torch_archs = text::split_nonempty(value, ' ');
    } else if (key == "index") {
        lock.index = value;
    } else if (key == "requirements") {
        const auto sp = value.find(" sha256=");
        if (sp == std::string::npos) {
            return fail(error, "requirements: '" + value + "' lacks ' sha256=<hex>'");
        }
        lock.requirements = value.substr(0, sp);
        lock.requirements_sha256 = value.substr(sp + 8);
    } else if (key == "local") {
        lock.local.push_back(value);
    } else if (key == "pin") {
        const auto sp = value.find("  ");
        lock.pins.push_back(
            sp == std::string::npos
                ? LockPin{value, ""}
                : LockPin{value.substr(0, sp), std::string(text::trim(value.substr(sp + 2)))});
    } else if (key == "sdist-only" || key == "needs-compiler") {
        auto& list = key == "sdist-only" ? lock.sdist_only : lock.needs_compiler;
        list = text::split_nonempty(value, ' ');
        if (list == std::vector<std::string>{"none"}) {
            list.clear();
        }
    } else if (key == "download-bytes" || key == "installed-bytes") {
        const auto n = parse_u64(value);
        if (!n) {
            return fail(error, std::string(key) + ": '" + value + "' is not a number of bytes");
        }
        (key == "download-bytes" ? lock.download_bytes : lock.installed_bytes) = *n;
    } else if (key == "made") {
        lock.made = value;
    } else if (key == "proven") {
        lock.proven = value;
    }
    return true;  // other keys: for people, not for the launcher
}

}  // namespace

std::string lock_without(const std::string& text, const std::vector<std::string>& names) {
    std::vector<std::string> keys;
    for (const auto& n : names) {
        keys.push_back(normalize_name(n));
    }
    std::string out;
    bool dropping = false;
    const std::vector<std::string> lines = text::split(text, '\n');
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view t = text::trim(lines[i]);
        if (t.empty() || t[0] == '#') {
            dropping = false;
        } else if (t[0] != '-') {  // a requirement; "--hash" lines go with theirs
            dropping = std::find(keys.begin(), keys.end(),
                                 normalize_name(t.substr(0, t.find("==")))) != keys.end();
        }
        if (!dropping) {
            out += lines[i];
            if (i + 1 < lines.size()) {
                out += '\n';
            }
        }
    }
    return out;
}

std::optional<int> parse_cuda_version(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    const auto major = parse_u64(text.substr(0, dot));
    const auto minor = parse_u64(text.substr(dot + 1));
    if (!major || !minor || *major == 0 || *major > 99 || *minor > 9) {
        return std::nullopt;
    }
    return static_cast<int>(*major * 1000 + *minor * 10);
}

std::string cuda_version_str(int version) {
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::optional<LockInfo> parse_lock(std::string_view id, std::string_view text, std::string* error) {
    LockInfo lock;
    lock.id = std::string(id);
    lock.text = std::string(text);
    bool header = true;
    for (const std::string& raw : text::split(text, '\n')) {
        const std::string line(text::trim(raw));
        if (line.empty()) {
            continue;
        }
        if (line[0] == '#') {
            const auto colon = line.find(':');
            if (header && colon != std::string::npos) {
                const std::string key(text::trim(line.substr(1, colon - 1)));
                if (!read_header(lock, key, std::string(text::trim(line.substr(colon + 1))),
                                 error)) {
                    return std::nullopt;
                }
            }
            continue;
        }
        header = false;
        if (line.rfind("--hash=", 0) == 0) {
            continue;
        }
        // name==version [\]
        const std::string req(text::trim(line.substr(0, line.find_first_of(" \\;"))));
        const auto eq = req.find("==");
        if (eq == std::string::npos || eq == 0 || req.find_first_of("<>!~@") != std::string::npos) {
            fail(error, "'" + req + "' is not an exact pin (name==version)");
            return std::nullopt;
        }
        lock.packages.push_back(req);
    }
    for (const auto& [field, name] :
         {std::pair<const std::string*, const char*>{&lock.alltalk, "alltalk"},
          {&lock.platform, "platform"},
          {&lock.python, "python"},
          {&lock.variant, "variant"},
          {&lock.torch, "torch"},
          {&lock.index, "index"},
          {&lock.requirements, "requirements"}}) {
        if (field->empty()) {
            fail(error, std::string("the header has no '# ") + name + ": ...' line");
            return std::nullopt;
        }
    }
    if (lock.packages.empty()) {
        fail(error, "it locks no package");
        return std::nullopt;
    }
    return lock;
}

const std::vector<LockInfo>& shipped_locks() {
    static const std::vector<LockInfo> locks = [] {
        std::vector<LockInfo> out;
        for (const auto& [id, text] : kShippedLocks) {
            if (auto lock = parse_lock(id, text, nullptr)) {
                out.push_back(std::move(*lock));
            }
        }
        return out;
    }();
    return locks;
}

}  // namespace alltalk::setup
