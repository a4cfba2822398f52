#pragma once
// One error type for every stage of a launch. Its text is a complete paragraph for the user:
// what happened, what was tried and what to do, each also kept on its own (so that a launch
// error can become a doctor finding, and --json can carry the fix by itself). It is turned into a
// message and an exit status at the edge (launcher/main.cpp); nothing below the edge prints
// errors itself.
#include <stdexcept>
#include <string>

namespace alltalk {

// Exit status for failures of the launcher itself (as opposed to the script's own status).
inline constexpr int kLaunchFailureStatus = 2;

// Which step failed.
enum class Stage {
    Cli,      // the command line
    Root,     // finding the AllTalk folder
    Config,   // alltalk-launch.toml
    Env,      // finding the Python environment
    Python,   // reading the environment's Python (version, libpython)
    Script,   // the script to run
    Cwd,      // entering the working directory
    Cudnn,    // a cuDNN that is needed and not there
    Gpu,      // a GPU that the installed torch cannot run on
    Child,    // a process started by the app through the launcher
    Install,  // the launcher's own files and data (compiled-in lists, its probe folder)
    Rules,    // the rules data
    Fix,      // `alltalk-launch fix`: its plan, pip, the lock, undo points
    Setup,    // `alltalk-launch setup`: the checkout, the base Python, the lock, the install
};
const char* to_string(Stage stage);

struct ErrorText {
    std::string what;   // what happened: "No AllTalk folder found (...)"
    std::string tried;  // the places and choices looked at, "; "-separated (may be empty)
    std::string fix;    // what to do (may be empty)
};

class LaunchError : public std::runtime_error {
  public:
    LaunchError(Stage stage, ErrorText text, int exit_status = kLaunchFailureStatus)
        : std::runtime_error(paragraph(text)),
          stage_(stage),
          text_(std::move(text)),
          exit_status_(exit_status) {}
    // A paragraph that says everything in one: kept as `what`.
    LaunchError(Stage stage, const std::string& message, int exit_status = kLaunchFailureStatus)
        : LaunchError(stage, ErrorText{message, "", ""}, exit_status) {}

    Stage stage() const { return stage_; }
    const ErrorText& text() const { return text_; }
    int exit_status() const { return exit_status_; }

    static std::string paragraph(const ErrorText& t) {
        std::string out = t.what;
        if (!t.tried.empty()) {
            out += " Tried: " + t.tried + ".";
        }
        if (!t.fix.empty()) {
            out += " " + t.fix;
        }
        return out;
    }

  private:
    Stage stage_;
    ErrorText text_;
    int exit_status_;
};

}  // namespace alltalk
