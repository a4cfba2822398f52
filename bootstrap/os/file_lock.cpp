// Platform-neutral parts of file_lock.hpp.
#include "os/file_lock.hpp"

#include <utility>

namespace alltalk::files {

FileLock::FileLock(FileLock&& other) noexcept : handle_(std::exchange(other.handle_, kNone)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        release();
        handle_ = std::exchange(other.handle_, kNone);
    }
    return *this;
}

FileLock::~FileLock() {
    release();
}

}  // namespace alltalk::files
