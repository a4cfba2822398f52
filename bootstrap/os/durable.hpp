#pragma once
// Writes that survive a crash or a power loss: data flushed to the disk before a rename makes it
// visible, and the folder's entry flushed after. One implementation per platform
// (durable_posix.cpp: fsync; durable_win32.cpp: FlushFileBuffers, MoveFileEx's write-through).
// Errors are returned as std::error_code, so that a full disk (no_space_on_device,
// file_too_large) can be told from other failures.
#include <filesystem>
#include <string_view>
#include <system_error>

namespace alltalk::files {

// Flushes a file's data (and size) to the disk.
std::error_code sync_file(const std::filesystem::path& path);

// Flushes a folder's entries (POSIX; nothing to do on Windows).
std::error_code sync_dir(const std::filesystem::path& dir);

// Creates or truncates `path` and writes `data` into it, flushed.
std::error_code write_file_synced(const std::filesystem::path& path, std::string_view data);

// Copies `from` to `to` (created or truncated, with `from`'s permissions), flushed. Unlike
// std::filesystem::copy_file it reports the real error of a short write (libstdc++'s sendfile
// path turns EFBIG into EIO).
std::error_code copy_file_synced(const std::filesystem::path& from,
                                 const std::filesystem::path& to);

// Writes `data` to `path` atomically: a temporary name beside it, flushed, renamed over `path`,
// the folder flushed. On failure `path` is unchanged and the temporary file removed.
std::error_code replace_file_atomically(const std::filesystem::path& path, std::string_view data);

// Whether `ec` says the disk (or the process's file-size limit, or a quota) is full.
bool is_out_of_space(const std::error_code& ec);

}  // namespace alltalk::files
