#pragma once
// One error type for every stage of a launch. Its text is a complete paragraph for the user:
// what was tried and what to do. It is turned into a message and an exit status at the edge
// (launcher/main.cpp); nothing below the edge prints errors itself.
#include <stdexcept>
#include <string>

namespace alltalk {

// Exit status for failures of the launcher itself (as opposed to the script's own status).
inline constexpr int kLaunchFailureStatus = 2;

class LaunchError : public std::runtime_error {
  public:
    LaunchError(std::string stage, const std::string& message,
                int exit_status = kLaunchFailureStatus)
        : std::runtime_error(message), stage_(std::move(stage)), exit_status_(exit_status) {}

    // Which step failed: "root", "env", "config", "python", "script", "cli", ...
    const std::string& stage() const { return stage_; }
    int exit_status() const { return exit_status_; }

  private:
    std::string stage_;
    int exit_status_;
};

}  // namespace alltalk
