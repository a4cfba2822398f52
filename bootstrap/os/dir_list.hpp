#pragma once
// The names in a folder, one file per platform (readdir / FindFirstFileExW). On the start path
// every listing counts: std::filesystem::directory_iterator builds a path object per entry (about
// 5,000 instructions each with libstdc++ 12, 0.6 M for one site-packages), where this is a string.
#include <filesystem>
#include <string>
#include <vector>

namespace alltalk::dir_list {

// The entries' names (UTF-8, without "." and ".."), in the order the file system gives them;
// empty when the folder cannot be read (missing, not a folder, no permission).
std::vector<std::string> names(const std::filesystem::path& dir);

}  // namespace alltalk::dir_list
