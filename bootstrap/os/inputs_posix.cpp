// POSIX implementation of inputs.hpp: the stat signature, and the check of a list of inputs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <unordered_map>

#include "os/inputs.hpp"

namespace alltalk::inputs {

bool supported() {
    return true;
}

namespace {

// A signature of `path` (relative to `dir`, or absolute with AT_FDCWD) into `buf` (see below).
std::size_t write_signature_at(int dir, const char* path, char (&buf)[160],
                               std::int64_t& changed_ns);

// "dev:ino:size:mtime:ctime:mode" of `path` into `buf`, or "absent" / "error N"; the newest of
// mtime and ctime in `changed_ns`. Returns the text's length (the buffer is always large enough).
std::size_t write_signature(const char* path, char (&buf)[160], std::int64_t& changed_ns) {
    return write_signature_at(AT_FDCWD, path, buf, changed_ns);
}

std::size_t write_signature_at(int dir, const char* path, char (&buf)[160],
                               std::int64_t& changed_ns) {
    struct stat st {};
    changed_ns = 0;
    char* const end = buf + sizeof buf;
    if (::fstatat(dir, path, &st, 0) != 0) {
        // Absent (ENOENT, ENOTDIR) is a state like any other; another error is one too.
        if (errno == ENOENT || errno == ENOTDIR) {
            std::memcpy(buf, "absent", 6);
            return 6;
        }
        std::memcpy(buf, "error ", 6);
        return static_cast<std::size_t>(std::to_chars(buf + 6, end, errno).ptr - buf);
    }
    auto ns = [](const struct timespec& t) {
        return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
    };
    const std::int64_t m = ns(st.st_mtim), c = ns(st.st_ctim);
    changed_ns = m > c ? m : c;
    char* out = buf;
    auto field = [&](auto value, bool last = false) {
        out = std::to_chars(out, end, value).ptr;
        if (!last) {
            *out++ = ':';
        }
    };
    field(st.st_dev);
    field(st.st_ino);
    field(st.st_size);
    field(m);
    field(c);
    field(st.st_mode, true);
    return static_cast<std::size_t>(out - buf);
}

}  // namespace

bool read_small(const std::string& path, std::string& out, std::size_t limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    // A page at a time, appended: a file of a few lines touches a few lines of memory, where a
    // buffer of `limit` bytes made ready first (zero-filled) cost 30 us of a start.
    out.clear();
    char buf[4096];
    ssize_t n = 0;
    while (out.size() <= limit && (n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return n >= 0 && out.size() <= limit;
}

std::filesystem::path canonical(const std::filesystem::path& p) {
    const int fd = ::open(p.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    char proc[32];
    char target[4096];
    const int len = std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    const ssize_t n = len > 0 ? ::readlink(proc, target, sizeof target) : -1;
    ::close(fd);
    if (n > 0 && n < static_cast<ssize_t>(sizeof target) && target[0] == '/') {
        return std::filesystem::path(std::string(target, static_cast<std::size_t>(n)));
    }
    std::error_code ec;
    std::filesystem::path c = std::filesystem::canonical(p, ec);
    return ec ? std::filesystem::path() : c;
}

std::string signature(const std::filesystem::path& p, std::int64_t* changed_ns) {
    char buf[160];
    std::int64_t changed = 0;
    const std::size_t n = write_signature(p.c_str(), buf, changed);
    if (changed_ns) {
        *changed_ns = changed;
    }
    return std::string(buf, n);
}

bool signature_is(const std::string& path, std::string_view seen) {
    char buf[160];
    std::int64_t changed = 0;
    const std::size_t n = write_signature(path.c_str(), buf, changed);
    return std::string_view(buf, n) == seen;
}

bool is_folder_signature(std::string_view seen) {
    const std::size_t colon = seen.rfind(':');
    if (colon == std::string_view::npos || seen.rfind("error", 0) == 0) {
        return false;
    }
    unsigned long mode = 0;
    const auto r = std::from_chars(seen.data() + colon + 1, seen.data() + seen.size(), mode);
    return r.ec == std::errc() && r.ptr == seen.data() + seen.size() && S_ISDIR(mode);
}

std::string first_changed(const std::vector<Observation>& seen) {
    // The folders among the inputs: whether each still holds (checked at most once), and, once it
    // does and an input inside it is looked up, an O_PATH descriptor of it, so that those inputs
    // are looked up from there (a stat by a path of ten components costs twice one of one or
    // two). A folder that no longer holds gets no descriptor: nothing is ever compared inside a
    // folder that was replaced.
    struct Folder {
        const Observation* obs = nullptr;
        int state = 0;  // 0 unchecked, 1 holds, -1 changed
        int fd = -1;    // opened at the first look-up inside it
    };
    std::unordered_map<std::string_view, Folder> folders;
    for (const auto& o : seen) {
        if (o.kind == 's' && is_folder_signature(o.seen)) {
            folders.emplace(o.path, Folder{&o});
        }
    }
    auto holds = [](Folder& f) {
        if (f.state == 0) {
            f.state = signature_is(f.obs->path, f.obs->seen) ? 1 : -1;
        }
        return f.state == 1;
    };
    // The nearest recorded folder above each parent directory (most inputs share a few).
    struct Near {
        Folder* folder = nullptr;
        std::size_t length = 0;  // of the folder's path
    };
    std::unordered_map<std::string_view, Near> near_of;
    auto nearest = [&](std::string_view dir) {
        auto [it, fresh] = near_of.try_emplace(dir);
        for (std::string_view up = dir; fresh;) {
            if (auto f = folders.find(up); f != folders.end()) {
                it->second = {&f->second, up.size()};
                break;
            }
            const std::size_t slash = up.find_last_of('/');
            if (slash == std::string_view::npos || slash == 0) {
                break;
            }
            up = up.substr(0, slash);
        }
        return it->second;
    };
    std::string changed;
    std::string relative;
    for (const auto& o : seen) {
        if (o.kind != 's') {
            if (!still_holds(o)) {
                changed = o.path;
                break;
            }
            continue;
        }
        if (auto it = folders.find(o.path); it != folders.end()) {
            if (!holds(it->second)) {
                changed = o.path;
                break;
            }
            continue;
        }
        const std::size_t slash = o.path.find_last_of('/');
        const Near near = slash == std::string::npos || slash == 0
                              ? Near{}
                              : nearest(std::string_view(o.path).substr(0, slash));
        if (near.folder && !holds(*near.folder)) {
            changed = near.folder->obs->path;  // the folder itself changed: that is what to say
            break;
        }
        if (near.folder && near.length == slash && o.seen == "absent") {
            continue;  // an unchanged folder has no new entry: the name is still absent
        }
        char buf[160];
        std::int64_t ns = 0;
        std::size_t n = 0;
        if (near.folder && near.folder->fd < 0) {
            near.folder->fd =
                ::open(near.folder->obs->path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (near.folder && near.folder->fd >= 0) {
            relative.assign(o.path, near.length + 1);
            n = write_signature_at(near.folder->fd, relative.c_str(), buf, ns);
        } else {
            n = write_signature(o.path.c_str(), buf, ns);
        }
        if (std::string_view(buf, n) != o.seen) {
            changed = o.path;
            break;
        }
    }
    for (auto& [path, f] : folders) {
        if (f.fd >= 0) {
            ::close(f.fd);
        }
    }
    return changed;
}

}  // namespace alltalk::inputs
