#pragma once
// What a computation read from the file system, so that its result can be reused for as long as
// none of that changed (start/native_cache.hpp). Readers call note() just before they read a file,
// list a folder or test whether a path exists; while a Recording is alive on the thread, each path
// is recorded once with its stat signature at that moment. A later check compares the signatures
// again: any change of a recorded path (created, removed, replaced, written, renamed into a
// listed folder, a link re-pointed) makes the check fail.
//
// The signature is stat() following links: device, inode, size, mtime and ctime in nanoseconds,
// file type and mode; or "absent". A folder's mtime and ctime change whenever an entry is added,
// removed or renamed in it, so a listing is covered by its folder's signature. POSIX only:
// supported() is false on Windows, where nothing is recorded and nothing is reused.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace alltalk::inputs {

struct Observation {
    char kind = 's';              // 's': stat signature of `path`; 'c': canonical form of `path`
    std::string path;             // as the reader named it
    std::string seen;             // the signature, or the canonical path
    std::int64_t changed_ns = 0;  // newest of mtime and ctime (ns since the epoch); 0 when absent
};

bool supported();

// The stat signature of a path now (see above); sets changed_ns when given.
std::string signature(const std::filesystem::path& p, std::int64_t* changed_ns = nullptr);

// Collects the observations made on this thread while it lives (one at a time per thread).
class Recording {
  public:
    Recording();
    ~Recording();
    Recording(const Recording&) = delete;
    Recording& operator=(const Recording&) = delete;
    // In the order first noted; each (kind, path) once, with what was seen first.
    std::vector<Observation> take();

  private:
    Recording* previous_;
    std::vector<Observation> seen_;
    std::unordered_set<std::string> keys_;
    friend void note(const std::filesystem::path&);
    friend void note_canonical(const std::filesystem::path&, const std::filesystem::path&);
};

// Before reading `p` (a file, a folder's listing, or whether it exists). Free when nothing records.
// An absent `p` in an absent folder is recorded as the highest absent folder above it.
void note(const std::filesystem::path& p);
// The canonical form of `p` (absolute, every link resolved; empty when it does not exist), as
// fs::canonical gives it. POSIX: the name the kernel gives the opened path (/proc/self/fd), three
// system calls instead of a readlink per component (fs::canonical where /proc is not mounted).
std::filesystem::path canonical(const std::filesystem::path& p);
// After canonical(p) gave `result` (a result that depends on every link along the path).
void note_canonical(const std::filesystem::path& p, const std::filesystem::path& result);

// A small file's whole text into `out` (false when it cannot be read or holds more than `limit`
// bytes), with plain system calls and no path object (`path` in UTF-8): what a launch reads before
// anything else (start/launch_hint_posix.cpp says why).
bool read_small(const std::string& path, std::string& out, std::size_t limit);

// Whether the observation still holds now.
bool still_holds(const Observation& o);

// The path of the first observation of `seen` that no longer holds ("" when all do): what a
// cached answer's check runs before the answer is used. An "absent" path whose folder is itself
// one of `seen`, recorded as a folder, is not looked at again while that folder holds: no name
// can appear in a folder without changing the folder's mtime (a site-packages listing covers the
// absence of each <package>.libs folder the cuDNN scan looked for).
std::string first_changed(const std::vector<Observation>& seen);

// Whether `seen` (a signature) is one of a folder. False where signatures are not supported.
bool is_folder_signature(std::string_view seen);

// Whether `path`'s signature now equals `seen`, without building a string (the check's hot path).
bool signature_is(const std::string& path, std::string_view seen);

}  // namespace alltalk::inputs
