#include "discover/root.hpp"

#include <system_error>

#include "base/error.hpp"

namespace fs = std::filesystem;

namespace alltalk {

std::filesystem::path absolute_from(const fs::path& p, const fs::path& base) {
    fs::path out = p.is_absolute() ? p : base / p;
    out = out.lexically_normal();
    // "dir/" normalises to "dir/" with an empty filename: drop it so that names compare well.
    if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) {
        out = out.parent_path();
    }
    return out;
}

bool looks_like_alltalk_root(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "script.py", ec) &&
           fs::is_regular_file(dir / "finetune.py", ec);
}

namespace {

RootChoice explicit_root(const fs::path& given, const std::string& source, const fs::path& cwd) {
    RootChoice choice;
    choice.root = absolute_from(given, cwd);
    choice.source = source;
    choice.tried.push_back(source + ": " + choice.root.string());
    std::error_code ec;
    if (!fs::is_directory(choice.root, ec)) {
        throw LaunchError(Stage::Root,
                          "The AllTalk folder given by " + source + " (" + choice.root.string() +
                              ") does not exist or is not a folder. Give the folder that "
                              "holds AllTalk's script.py and finetune.py, for example "
                              "--root \"/path/to/alltalk_tts\".");
    }
    choice.is_alltalk = looks_like_alltalk_root(choice.root);
    return choice;
}

}  // namespace

RootChoice find_root(const DiscoveryInputs& in) {
    if (in.root_option) {
        return explicit_root(*in.root_option, "--root", in.cwd);
    }
    if (auto env_root = lookup(in.env_vars, "ALLTALK_ROOT")) {
        return explicit_root(*env_root, "ALLTALK_ROOT", in.cwd);
    }
    RootChoice choice;
    if (!in.exe.empty()) {
        for (fs::path dir = in.exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
            choice.tried.push_back("launcher folder or parent: " + dir.string());
            if (looks_like_alltalk_root(dir)) {
                choice.root = dir;
                choice.source = "launcher folder";
                choice.is_alltalk = true;
                return choice;
            }
            if (dir == dir.root_path()) {
                break;
            }
        }
    }
    choice.tried.push_back("current directory: " + in.cwd.string());
    choice.root = in.cwd;
    choice.source = "current directory";
    choice.is_alltalk = looks_like_alltalk_root(in.cwd);
    return choice;
}

}  // namespace alltalk
