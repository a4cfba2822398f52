// POSIX implementation of file_lock.hpp: flock(2), which belongs to the open file and ends with
// the last descriptor of it, so with the process (fcntl locks would also end when this process
// closes any other descriptor of the same file).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/file_lock.hpp"

namespace fs = std::filesystem;

namespace alltalk::files {

FileLock::Outcome FileLock::try_acquire(const fs::path& path, const std::string& content,
                                        FileLock& out, std::string& why) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        why = "cannot open " + path.string() + ": " + std::strerror(errno);
        return Outcome::Failed;
    }
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) {
            continue;
        }
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) {
            return Outcome::Busy;
        }
        why = "cannot lock " + path.string() + ": " + std::strerror(err);
        return Outcome::Failed;
    }
    bool ok = ::ftruncate(fd, 0) == 0;
    std::size_t done = 0;
    while (ok && done < content.size()) {
        const ssize_t n =
            ::pwrite(fd, content.data() + done, content.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    if (!ok || ::fsync(fd) != 0) {
        why = "cannot write " + path.string() + ": " + std::strerror(errno);
        ::close(fd);
        return Outcome::Failed;
    }
    out.release();
    out.handle_ = fd;
    return Outcome::Acquired;
}

void FileLock::release() {
    if (handle_ != kNone) {
        ::close(static_cast<int>(handle_));  // the lock goes with the last descriptor
        handle_ = kNone;
    }
}

std::optional<std::string> locked_file_content(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
        ::close(fd);  // nobody holds it: a file left behind by a holder that ended
        return std::nullopt;
    }
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

}  // namespace alltalk::files
