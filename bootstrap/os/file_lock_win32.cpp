// Windows implementation of file_lock.hpp: LockFileEx on one byte far past the end of the file
// (a locked range cannot be read by others, and the holder's text stays readable before it).
// Windows drops the lock when the handle closes, which happens when the process ends.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "os/file_lock.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk::files {

namespace {

constexpr DWORD kLockOffsetHigh = 0x40000000;  // 2^62: never part of the text

bool lock_range(HANDLE f, DWORD flags) {
    OVERLAPPED at{};
    at.OffsetHigh = kLockOffsetHigh;
    return ::LockFileEx(f, flags | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at) != 0;
}

void unlock_range(HANDLE f) {
    OVERLAPPED at{};
    at.OffsetHigh = kLockOffsetHigh;
    ::UnlockFileEx(f, 0, 1, 0, &at);
}

std::string error_text(DWORD code) {
    return "error " + std::to_string(code);
}

}  // namespace

FileLock::Outcome FileLock::try_acquire(const fs::path& path, const std::string& content,
                                        FileLock& out, std::string& why) {
    HANDLE f = ::CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (f == INVALID_HANDLE_VALUE) {
        why = "cannot open " + process::to_utf8(path) + ": " + error_text(::GetLastError());
        return Outcome::Failed;
    }
    if (!lock_range(f, LOCKFILE_EXCLUSIVE_LOCK)) {
        const DWORD err = ::GetLastError();
        ::CloseHandle(f);
        if (err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING) {
            return Outcome::Busy;
        }
        why = "cannot lock " + process::to_utf8(path) + ": " + error_text(err);
        return Outcome::Failed;
    }
    DWORD written = 0;
    LARGE_INTEGER zero{};
    const bool ok =
        ::SetFilePointerEx(f, zero, nullptr, FILE_BEGIN) && ::SetEndOfFile(f) &&
        ::WriteFile(f, content.data(), static_cast<DWORD>(content.size()), &written, nullptr) &&
        written == content.size() && ::FlushFileBuffers(f);
    if (!ok) {
        why = "cannot write " + process::to_utf8(path) + ": " + error_text(::GetLastError());
        ::CloseHandle(f);
        return Outcome::Failed;
    }
    out.release();
    out.handle_ = reinterpret_cast<long long>(f);
    return Outcome::Acquired;
}

void FileLock::release() {
    if (handle_ != kNone) {
        HANDLE f = reinterpret_cast<HANDLE>(handle_);
        unlock_range(f);
        ::CloseHandle(f);
        handle_ = kNone;
    }
}

std::optional<std::string> locked_file_content(const fs::path& path) {
    HANDLE f = ::CreateFileW(path.c_str(), GENERIC_READ,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (f == INVALID_HANDLE_VALUE) {
        return std::nullopt;
    }
    if (lock_range(f, 0)) {
        unlock_range(f);
        ::CloseHandle(f);
        return std::nullopt;
    }
    std::string text;
    char buf[4096];
    DWORD n = 0;
    while (::ReadFile(f, buf, sizeof buf, &n, nullptr) && n > 0) {
        text.append(buf, n);
    }
    ::CloseHandle(f);
    return text;
}

}  // namespace alltalk::files
