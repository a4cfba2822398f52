#pragma once
// The AllTalk checkout that `setup` makes an env for: which AllTalk it is (v1 `main`, v2
// `alltalkbeta`, told apart by their files), its requirements file for this platform and that
// file's lines. Reads files; decides nothing about the env.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace alltalk::setup {

struct Checkout {
    std::filesystem::path root;
    std::string version;                         // "v1", "v2"; "" when the files say neither
    std::string why;                             // which files told
    std::filesystem::path requirements;          // absolute; empty when the version has none here
    std::string requirements_rel;                // as the lock names it: system/requirements/...
    std::string requirements_sha256;             // hex of its bytes
    std::vector<std::string> requirement_lines;  // PEP 508 lines for pip (no local files)
    std::vector<std::string> local_lines;        // lines naming the checkout's own files
};

// Reads the checkout at `root` (which must exist). Never throws: what is missing is left empty.
Checkout inspect_checkout(const std::filesystem::path& root);

// Why setup refuses this checkout before anything is made (not AllTalk, an unknown version, no
// requirements file, a folder name AllTalk cannot start from), as a whole paragraph; "" when
// it can go on.
std::string checkout_problem(const Checkout& c);

// Lowercase hex of a SHA-256 digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace alltalk::setup
