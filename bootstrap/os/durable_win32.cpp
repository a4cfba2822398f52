// Windows implementation of durable.hpp.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "os/durable.hpp"

namespace fs = std::filesystem;

namespace alltalk::files {

namespace {

std::error_code last_error() {
    return {static_cast<int>(::GetLastError()), std::system_category()};
}

}  // namespace

std::error_code sync_file(const fs::path& path) {
    HANDLE f = ::CreateFileW(path.c_str(), GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (f == INVALID_HANDLE_VALUE) {
        return last_error();
    }
    std::error_code ec;
    if (!::FlushFileBuffers(f)) {
        ec = last_error();
    }
    ::CloseHandle(f);
    return ec;
}

std::error_code sync_dir(const fs::path&) {
    return {};  // NTFS journals its folder entries; there is no handle to flush them through
}

std::error_code copy_file_synced(const fs::path& from, const fs::path& to) {
    if (!::CopyFileW(from.c_str(), to.c_str(), FALSE)) {
        return last_error();
    }
    return sync_file(to);
}

std::error_code write_file_synced(const fs::path& path, std::string_view data) {
    HANDLE f = ::CreateFileW(path.c_str(), GENERIC_WRITE, FILE_SHARE_READ, nullptr, CREATE_ALWAYS,
                             FILE_ATTRIBUTE_NORMAL, nullptr);
    if (f == INVALID_HANDLE_VALUE) {
        return last_error();
    }
    std::error_code ec;
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0 && !ec) {
        const DWORD chunk = left > (1u << 30) ? (1u << 30) : static_cast<DWORD>(left);
        DWORD n = 0;
        if (!::WriteFile(f, p, chunk, &n, nullptr) || n == 0) {
            ec = last_error();
            break;
        }
        p += n;
        left -= n;
    }
    if (!ec && !::FlushFileBuffers(f)) {
        ec = last_error();
    }
    ::CloseHandle(f);
    return ec;
}

bool is_out_of_space(const std::error_code& ec) {
    if (ec == std::errc::no_space_on_device || ec == std::errc::file_too_large) {
        return true;
    }
    const int v = ec.value();
    return ec.category() == std::system_category() &&
           (v == ERROR_DISK_FULL || v == ERROR_HANDLE_DISK_FULL ||
            v == 1295 /* ERROR_DISK_QUOTA_EXCEEDED */);
}

}  // namespace alltalk::files
