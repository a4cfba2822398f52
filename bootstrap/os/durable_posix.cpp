// POSIX implementation of durable.hpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "os/durable.hpp"

namespace fs = std::filesystem;

namespace alltalk::files {

namespace {

std::error_code last_error() {
    return {errno, std::generic_category()};
}

std::error_code sync_fd_and_close(int fd) {
    std::error_code ec;
    if (::fsync(fd) != 0) {
        ec = last_error();
    }
    if (::close(fd) != 0 && !ec) {
        ec = last_error();
    }
    return ec;
}

}  // namespace

std::error_code sync_file(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return last_error();
    }
    return sync_fd_and_close(fd);
}

std::error_code sync_dir(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return last_error();
    }
    return sync_fd_and_close(fd);
}

std::error_code copy_file_synced(const fs::path& from, const fs::path& to) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return last_error();
    }
    struct stat st {};
    ::fstat(in, &st);
    const int out =
        ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) {
        const std::error_code ec = last_error();
        ::close(in);
        return ec;
    }
    std::error_code ec;
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            ec = last_error();
        }
        if (n <= 0) {
            break;
        }
        for (ssize_t done = 0; done < n && !ec;) {
            const ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                ec = w < 0 ? last_error() : std::make_error_code(std::errc::no_space_on_device);
            } else {
                done += w;
            }
        }
        if (ec) {
            break;
        }
    }
    ::close(in);
    if (!ec) {
        ::fchmod(out, st.st_mode & 07777);
        return sync_fd_and_close(out);
    }
    ::close(out);
    return ec;
}

std::error_code write_file_synced(const fs::path& path, std::string_view data) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return last_error();
    }
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const std::error_code ec =
                n < 0 ? last_error() : std::make_error_code(std::errc::io_error);
            ::close(fd);
            return ec;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return sync_fd_and_close(fd);
}

bool is_out_of_space(const std::error_code& ec) {
    return ec == std::errc::no_space_on_device || ec == std::errc::file_too_large ||
           (ec.category() == std::generic_category() && ec.value() == EDQUOT) ||
           (ec.category() == std::system_category() && ec.value() == EDQUOT);
}

}  // namespace alltalk::files
