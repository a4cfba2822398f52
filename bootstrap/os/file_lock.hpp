#pragma once
// An exclusive lock on a file that the operating system drops when its holder ends, however it
// ends (POSIX: flock(2) on an open file; Windows: LockFileEx on a byte range far past the end, so
// that the text inside stays readable). The holder writes what it is into the file; others read
// it while the lock is held.
#include <filesystem>
#include <optional>
#include <string>

namespace alltalk::files {

class FileLock {
  public:
    enum class Outcome { Acquired, Busy, Failed };

    FileLock() = default;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    ~FileLock();  // releases

    // Opens (creating) `path` and locks it without waiting. Acquired: the file now holds
    // `content` (flushed). Busy: someone else holds it. Failed: `why` says why.
    static Outcome try_acquire(const std::filesystem::path& path, const std::string& content,
                               FileLock& out, std::string& why);
    void release();
    bool held() const { return handle_ != kNone; }

  private:
    static constexpr long long kNone = -1;
    long long handle_ = kNone;  // fd (POSIX) or HANDLE (Windows)
};

// The text inside `path` while another open of it holds the lock; nullopt when the file does not
// exist (one failed open) or nobody holds it.
std::optional<std::string> locked_file_content(const std::filesystem::path& path);

}  // namespace alltalk::files
