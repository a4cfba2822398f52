// POSIX implementation of inputs.hpp: the stat signature.
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "os/inputs.hpp"

namespace alltalk::inputs {

bool supported() {
    return true;
}

std::string signature(const std::filesystem::path& p, std::int64_t* changed_ns) {
    struct stat st {};
    if (changed_ns) {
        *changed_ns = 0;
    }
    if (::stat(p.c_str(), &st) != 0) {
        // Absent (ENOENT, ENOTDIR) is a state like any other; another error is one too.
        return errno == ENOENT || errno == ENOTDIR ? "absent" : "error " + std::to_string(errno);
    }
    auto ns = [](const struct timespec& t) {
        return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
    };
    const std::int64_t m = ns(st.st_mtim), c = ns(st.st_ctim);
    if (changed_ns) {
        *changed_ns = m > c ? m : c;
    }
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
           std::to_string(st.st_size) + ":" + std::to_string(m) + ":" + std::to_string(c) + ":" +
           std::to_string(st.st_mode);
}

}  // namespace alltalk::inputs
