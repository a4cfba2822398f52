#pragma once
// The one type for "which platform's rules apply": the launcher's own (kHostPlatform), or the
// target env's (PythonEnv::platform, read from its layout), which can differ: the Linux build
// reads Windows-shaped envs in its tests and its doctor.
namespace alltalk {

enum class Platform { Posix, Windows };

#ifdef _WIN32
inline constexpr Platform kHostPlatform = Platform::Windows;
#else
inline constexpr Platform kHostPlatform = Platform::Posix;
#endif

// The separator of PATH-like lists.
constexpr char path_list_separator(Platform p) {
    return p == Platform::Windows ? ';' : ':';
}

}  // namespace alltalk
