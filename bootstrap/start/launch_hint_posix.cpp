// POSIX implementation of launch_hint.hpp.
//
// Written with plain buffers and system calls rather than std::filesystem: every launch looks its
// hint up first thing, before most of the launcher's code has ever run in the process, and a
// repeated launch in the torch venv does nothing else before it re-executes. There the lookup
// through std::filesystem took 100-115 us (most of it the first run of that code), this one 35 us.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "os/inputs.hpp"
#include "os/process.hpp"
#include "start/launch_hint.hpp"
#include "start/native_cache.hpp"

namespace alltalk {

namespace {

constexpr std::string_view kHintHeader = "alltalk-launch launch hint 1\n";

// Where this launch's hint is kept: `runtime` (process::runtime_dir_candidate's folder), its
// `cache` folder (cache_dir_of), and the file in it, named by a digest of
// the launcher's file, the arguments, the current folder and the environment without the
// launcher's hand-over variables. False where one of those cannot be read.
struct HintPlace {
    std::string runtime, cache, file;
};

bool hint_place(const std::vector<std::string>& args, HintPlace& place) {
    std::uint64_t h = process::environment_digest("ALLTALK_LAUNCH_");
    const auto mix = [&h](std::string_view part) {
        h = (h ^ process::environment_entry_digest(part)) * 0x100000001b3ULL;
    };
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
    if (n <= 0 || n >= static_cast<ssize_t>(sizeof buf)) {
        return false;
    }
    mix(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!::getcwd(buf, sizeof buf)) {
        return false;
    }
    mix(buf);
    for (const auto& a : args) {
        mix(a);
    }
    const auto absolute = [](const char* var) {
        const char* v = std::getenv(var);
        std::string_view dir = v && v[0] == '/' ? v : "";
        while (dir.size() > 1 && dir.back() == '/') {
            dir.remove_suffix(1);
        }
        return dir;
    };
    if (const std::string_view xdg = absolute("XDG_RUNTIME_DIR"); !xdg.empty()) {
        place.runtime.assign(xdg).append(xdg == "/" ? "" : "/").append("alltalk-launch");
    } else {
        const std::string_view tmp = absolute("TMPDIR");
        place.runtime.assign(tmp.empty() ? "/tmp" : tmp)
            .append(tmp == "/" ? "" : "/")
            .append("alltalk-launch-")
            .append(std::to_string(::getuid()));
    }
    place.cache = place.runtime + "/cache";
    char hex[16];
    const auto end = std::to_chars(hex, hex + sizeof hex, h, 16).ptr;
    place.file = place.cache + "/launch-" + std::string(hex, end);
    return true;
}

// A folder of this user's that no one else may write to: process::ensure_private_dir's test,
// without its mkdir and its path object (a read has nothing to make).
bool private_dir(const std::string& dir) {
    struct stat st {};
    return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid() &&
           (st.st_mode & 0022) == 0;
}

}  // namespace

LaunchHint read_launch_hint(const std::vector<std::string>& args) {
    LaunchHint hint;
    HintPlace place;
    if (!hint_place(args, place)) {
        return hint;
    }
    hint.file = place.file;
    std::string read;
    if (!inputs::read_small(place.file, read, 64 * 1024)) {
        return hint;  // none (the usual case)
    }
    const std::string_view text(read);
    // Trusted only from the user's own private folders, as every cache entry, and only in its
    // exact form: the header, one line of value, nothing after.
    if (!private_dir(place.runtime) || !private_dir(place.cache) ||
        text.substr(0, kHintHeader.size()) != kHintHeader || text.back() != '\n') {
        return hint;
    }
    const std::string_view value =
        text.substr(kHintHeader.size(), text.size() - kHintHeader.size() - 1);
    if (!value.empty() && value.find_first_of(std::string_view("\n\0", 2)) == value.npos) {
        hint.value = std::string(value);
    }
    return hint;
}

bool store_launch_hint(const std::vector<std::string>& args, const std::string& value) {
    HintPlace place;
    std::string why;
    std::filesystem::path dir;
    return !value.empty() && value.find_first_of(std::string_view("\n\0", 2)) == value.npos &&
           hint_place(args, place) && open_cache_dir(place.runtime, dir, why) &&
           write_atomically(place.file, std::string(kHintHeader) + value + "\n", why);
}

}  // namespace alltalk
