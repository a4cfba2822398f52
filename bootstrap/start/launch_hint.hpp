#pragma once
// The LD_LIBRARY_PATH a launch re-executed itself with (start/cudnn_apply.hpp), remembered under a
// key of everything that launch was started with: the launcher's file, its arguments, the current
// folder and the whole environment (the launcher's own ALLTALK_LAUNCH_* hand-over variables
// aside). A later launch with the same key re-executes itself with it at once, before it plans
// (launch/roles.cpp), and so saves the first process's planning; the re-executed launch plans as
// usual and starts over when its cached decision or its plan says otherwise, so a remembered value
// is only ever a guess. Kept in the launcher's private cache folder (start/native_cache.hpp),
// trusted only from there. POSIX only (launch_hint_posix.cpp); Windows never re-executes
// (launch_hint_win32.cpp: never a hint).
#include <optional>
#include <string>
#include <vector>

namespace alltalk {

struct LaunchHint {
    std::string file;                  // where it is kept for this launch (empty: nowhere)
    std::optional<std::string> value;  // the remembered LD_LIBRARY_PATH, if any
};

// The hint of this process's launch (`args`: after the program name), from the environment as it
// is now. Where there is none, this costs one failed open.
LaunchHint read_launch_hint(const std::vector<std::string>& args);

// Remembers `value` for this launch, under the key read_launch_hint() would use now.
bool store_launch_hint(const std::vector<std::string>& args, const std::string& value);

}  // namespace alltalk
