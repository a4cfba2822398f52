// Windows implementation of dir_list.hpp.
#include <windows.h>

#include "os/dir_list.hpp"
#include "os/process.hpp"

namespace alltalk::dir_list {

std::vector<std::string> names(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    WIN32_FIND_DATAW data;
    const std::wstring pattern = (dir / L"*").wstring();
    HANDLE h = ::FindFirstFileExW(pattern.c_str(), FindExInfoBasic, &data, FindExSearchNameMatch,
                                  nullptr, FIND_FIRST_EX_LARGE_FETCH);
    if (h == INVALID_HANDLE_VALUE) {
        return out;
    }
    do {
        const std::wstring name = data.cFileName;
        if (name != L"." && name != L"..") {
            out.push_back(process::to_utf8(std::filesystem::path(name)));
        }
    } while (::FindNextFileW(h, &data));
    ::FindClose(h);
    return out;
}

}  // namespace alltalk::dir_list
