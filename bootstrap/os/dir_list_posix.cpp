// POSIX implementation of dir_list.hpp.
#include <dirent.h>

#include <cstring>

#include "os/dir_list.hpp"

namespace alltalk::dir_list {

std::vector<std::string> names(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        return out;
    }
    while (const dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
            out.emplace_back(e->d_name);
        }
    }
    ::closedir(d);
    return out;
}

}  // namespace alltalk::dir_list
