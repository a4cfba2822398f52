// Windows implementation of dynlib.hpp.
//
// A DLL is loaded with LOAD_WITH_ALTERED_SEARCH_PATH: its own dependencies are then looked for in
// its folder first (python311.dll's vcruntime140.dll beside it, an extension's DLLs beside the
// .pyd), then in the classic order, which includes PATH (set to conda's activation order by the
// plan: Library\bin and friends). SetDefaultDllDirectories is never called: it would drop PATH from
// the search for every later LoadLibrary in the process, which conda packages rely on.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "os/dynlib.hpp"
#include "os/process.hpp"

namespace alltalk::dynlib {

namespace {

std::string error_text(DWORD code) {
    wchar_t* buf = nullptr;
    DWORD n = ::FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
    std::string out = "Windows error " + std::to_string(code);
    if (n) {
        std::wstring w(buf, n);
        while (!w.empty() && (w.back() == L'\n' || w.back() == L'\r')) {
            w.pop_back();
        }
        out += ": " + process::to_utf8(std::filesystem::path(w));
    }
    ::LocalFree(buf);
    if (code == ERROR_MOD_NOT_FOUND) {
        out += " (the DLL or one of the DLLs it needs is missing)";
    } else if (code == ERROR_BAD_EXE_FORMAT) {
        out += " (a 32-bit DLL, or not a DLL: a 64-bit Python is needed)";
    }
    return out;
}

}  // namespace

// `global` has no meaning on Windows: every DLL's exports are found through its own handle, and
// extension modules link python3XY.dll by name, which resolves to the already loaded module.
// Nor has `bind`: the loader binds a DLL's imports when it loads it.
Library load(const std::filesystem::path& path, bool /*global*/, std::string& error,
             Bind /*bind*/) {
    Library lib;
    // The DLL's folder is added too, so that DLLs loaded later by name (LoadLibraryEx with
    // LOAD_LIBRARY_SEARCH_USER_DIRS, as CPython's extension loader uses) find its neighbours.
    ::AddDllDirectory(path.parent_path().c_str());
    HMODULE h = ::LoadLibraryExW(path.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (!h) {
        error = error_text(::GetLastError());
    }
    lib.handle = reinterpret_cast<void*>(h);
    return lib;
}

void* symbol(const Library& lib, const char* name) {
    return reinterpret_cast<void*>(::GetProcAddress(reinterpret_cast<HMODULE>(lib.handle), name));
}

void add_search_dirs(const std::vector<std::filesystem::path>& dirs) {
    for (const auto& dir : dirs) {
        if (::GetFileAttributesW(dir.c_str()) != INVALID_FILE_ATTRIBUTES) {
            ::AddDllDirectory(dir.c_str());  // missing folders are skipped: it would fail anyway
        }
    }
}

}  // namespace alltalk::dynlib
