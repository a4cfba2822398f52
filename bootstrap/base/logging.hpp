#pragma once
// Logging with spdlog: short console messages on stderr (each decision with -v), and a
// size-bounded rotating log in <root>/logs/alltalk-launch.log.
#include <filesystem>

namespace alltalk::logging {

// Console only; called first, before anything can go wrong. `quiet`: warnings and errors only
// (with `verbose`, every decision still).
void init_console(bool verbose, bool quiet = false);

// Adds the rotating file log; a read-only root gets one warning and no file log.
void add_file(const std::filesystem::path& file);

// Flushes and closes every sink, so that no log file stays open in the app or leaks into its
// children.
void close();

}  // namespace alltalk::logging
