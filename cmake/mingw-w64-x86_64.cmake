# Cross-compiling alltalk-launch.exe for 64-bit Windows with Debian's mingw-w64 (posix threads
# flavour, for std::thread/std::mutex used by spdlog): see the `windows-cross` preset.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_triplet x86_64-w64-mingw32)
find_program(CMAKE_CXX_COMPILER NAMES ${_triplet}-g++-posix ${_triplet}-g++ REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${_triplet}-windres REQUIRED)
set(CMAKE_FIND_ROOT_PATH /usr/${_triplet})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# The host's header-only libraries (spdlog, fmt, toml++, CLI11) are used from a staging folder of
# their own (see the top CMakeLists.txt): -isystem /usr/include would put glibc's headers first.
set(ALLTALK_HOST_HEADER_ROOT /usr/include CACHE PATH "Where the host's header-only libraries are")
