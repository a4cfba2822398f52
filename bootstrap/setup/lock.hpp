#pragma once
// The proven locks that `alltalk-launch setup` installs from (pure): a pip requirements file of
// exact versions with hashes (`pip install --no-deps --require-hashes -r LOCK`), made by
// packaging/locks/make_lock.py from one AllTalk commit's requirements plus the pins that the
// doctor's rules know, and proven by installing it into a fresh env and importing what AllTalk
// imports. Its header, `# key: value` comment lines before the first requirement, says what it
// was made from and for whom; the shipped locks are compiled in (packaging/locks/*.txt).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alltalk::setup {

struct LockPin {
    std::string requirement;  // "pydantic<2.11"
    std::string reason;       // why the lock adds it
};

struct LockInfo {
    std::string id;              // the file's stem: "alltalk-v2-linux_x86_64-cu130"
    std::string alltalk;         // "v1", "v2"
    std::string alltalk_commit;  // "<sha> <date> <branch>"
    std::string platform;        // "linux_x86_64", "win_amd64"
    std::string python;          // "3.11"
    std::string variant;         // "cu130", "cu128", "cpu"
    std::optional<int> cuda;     // the CUDA version of its torch build, as 13000; none for cpu
    std::string torch;           // its torch version
    std::vector<std::string> torch_archs;  // "sm_75" ... of its torch build
    std::string index;                     // the package index its torch comes from
    std::string requirements;  // the checkout's requirements file it was made from (relative)
    std::string requirements_sha256;
    std::vector<std::string> local;  // requirement lines naming the checkout's own files
    std::vector<LockPin> pins;
    std::vector<std::string> sdist_only;      // locked packages with no wheel (pure-Python sdists)
    std::vector<std::string> needs_compiler;  // locked sdists that need a compiler: left out
    std::uint64_t download_bytes = 0;
    std::uint64_t installed_bytes = 0;
    std::string made;
    std::string proven;
    std::vector<std::string> packages;  // "name==version" of every locked distribution
    std::string text;                   // the whole file, as shipped
};

// Reads a lock's text. nullopt with `error` when a header key the launcher needs is missing or
// malformed, or a requirement line is not `name==version` followed by its hashes.
std::optional<LockInfo> parse_lock(std::string_view id, std::string_view text, std::string* error);

// The lock's text without the requirements (and their hash lines) of `names` (PEP 503 names).
std::string lock_without(const std::string& text, const std::vector<std::string>& names);

// "13.0" -> 13000 (the form of cudaDriverGetVersion); nullopt when it is not "M.m".
std::optional<int> parse_cuda_version(std::string_view text);
// 13000 -> "13.0".
std::string cuda_version_str(int version);

// The locks compiled into the launcher, parsed once (a malformed one is a build error caught by
// the unit tests, and skipped here).
const std::vector<LockInfo>& shipped_locks();

}  // namespace alltalk::setup
