#include "base/error.hpp"

namespace alltalk {

const char* to_string(Stage stage) {
    switch (stage) {
        case Stage::Cli:
            return "cli";
        case Stage::Root:
            return "root";
        case Stage::Config:
            return "config";
        case Stage::Env:
            return "env";
        case Stage::Python:
            return "python";
        case Stage::Script:
            return "script";
        case Stage::Cwd:
            return "cwd";
        case Stage::Cudnn:
            return "cudnn";
        case Stage::Gpu:
            return "gpu";
        case Stage::Child:
            return "child";
        case Stage::Install:
            return "install";
        case Stage::Rules:
            return "rules";
        case Stage::Fix:
            return "fix";
        case Stage::Setup:
            return "setup";
    }
    return "?";
}

}  // namespace alltalk
