#include "setup/base_python.hpp"

#include <algorithm>

#include "base/files.hpp"
#include "base/text.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk::setup {

namespace {

// What the interpreter says of itself: version, sys.executable, and whether venv can make a venv
// with pip in it (ensurepip).
constexpr const char* kAsk =
    "import sys\n"
    "print('%d.%d.%d' % sys.version_info[:3])\n"
    "print(sys.executable)\n"
    "try:\n"
    "    import venv, ensurepip\n"
    "    print('venv')\n"
    "except Exception as e:\n"
    "    print('no venv: %s' % e)\n";

std::optional<BasePython> ask(const std::vector<std::string>& argv, std::string& why) {
    std::error_code ec;
    const fs::path out = fs::temp_directory_path(ec) /
                         ("alltalk-launch-python-" + std::to_string(process::current_pid()));
    process::Child child;
    std::vector<std::string> full = argv;
    full.insert(full.end(), {"-I", "-c", kAsk});
    if (!child.start(full, out, why)) {
        return std::nullopt;
    }
    std::optional<int> status;
    for (int i = 0; i < 100 && !(status = child.wait_for(100)); ++i) {
    }
    if (!status) {
        child.kill();
        why = "did not answer in 10 s";
    }
    const std::string text = files::read_all(out);
    fs::remove(out, ec);
    if (!status) {
        return std::nullopt;
    }
    const auto lines = text::split_nonempty(text, '\n');
    if (*status != 0 || lines.size() < 3) {
        why = "did not run (exit status " + std::to_string(*status) + ")";
        return std::nullopt;
    }
    BasePython p;
    p.version = std::string(text::trim(lines[0]));
    p.python = process::from_utf8(std::string(text::trim(lines[1])));
    p.has_venv = text::trim(lines[2]) == "venv";
    return p;
}

bool is_version(const std::string& have, const std::string& wanted) {
    return have == wanted || have.rfind(wanted + ".", 0) == 0;
}

// The usual places, in order, each with its source.
std::vector<std::pair<std::vector<std::string>, std::string>> candidates(const std::string& wanted,
                                                                         const EnvMap& env_vars) {
    std::vector<std::pair<std::vector<std::string>, std::string>> out;
    if (auto search = lookup(env_vars, "ALLTALK_PYTHON_SEARCH")) {
        for (const auto& p : text::split_nonempty(*search, process::path_list_separator())) {
            out.push_back({{p}, "ALLTALK_PYTHON_SEARCH"});
        }
        return out;
    }
#ifdef _WIN32
    const std::string exe = "python.exe";
    const std::string digits = text::join(text::split(wanted, '.'), "");
    if (auto windir = lookup(env_vars, "SystemRoot")) {
        out.push_back({{*windir + "\\py.exe", "-" + wanted}, "py -" + wanted});
    }
    if (auto local = lookup(env_vars, "LOCALAPPDATA")) {
        out.push_back(
            {{*local + "\\Programs\\Python\\Python" + digits + "\\" + exe}, "python.org"});
        out.push_back(
            {{*local + "\\Programs\\Python\\Launcher\\py.exe", "-" + wanted}, "py -" + wanted});
    }
    for (const char* var : {"ProgramFiles", "ProgramW6432"}) {
        if (auto pf = lookup(env_vars, var)) {
            out.push_back({{*pf + "\\Python" + digits + "\\" + exe}, "python.org"});
        }
    }
    const std::string name = exe;
#else
    const std::string name = "python" + wanted;
#endif
    if (auto path = lookup(env_vars, "PATH")) {
        for (const auto& dir : text::split_nonempty(*path, process::path_list_separator())) {
            const fs::path p = fs::path(process::from_utf8(dir)) / name;
            if (files::is_file(p)) {
                out.push_back({{process::to_utf8(p)}, "PATH"});
            }
        }
    }
#ifndef _WIN32
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/opt/python/bin"}) {
        out.push_back({{std::string(dir) + "/" + name}, dir});
    }
    std::vector<fs::path> pyenv_roots;
    if (auto root = lookup(env_vars, "PYENV_ROOT")) {
        pyenv_roots.push_back(process::from_utf8(*root));
    }
    if (auto home = lookup(env_vars, "HOME")) {
        pyenv_roots.push_back(fs::path(process::from_utf8(*home)) / ".pyenv");
    }
    for (const auto& root : pyenv_roots) {
        std::error_code ec;
        std::vector<fs::path> versions;
        for (const auto& e : fs::directory_iterator(root / "versions", ec)) {
            const std::string v = process::to_utf8(e.path().filename());
            if (is_version(v, wanted)) {
                versions.push_back(e.path());
            }
        }
        std::sort(versions.rbegin(), versions.rend());  // the newest patch release first
        for (const auto& v : versions) {
            out.push_back({{process::to_utf8(v / "bin" / name)}, "pyenv"});
        }
    }
#endif
    return out;
}

}  // namespace

BasePythonSearch find_base_python(const std::optional<fs::path>& option, const std::string& wanted,
                                  const EnvMap& env_vars) {
    BasePythonSearch s;
    auto list =
        option ? std::vector<std::pair<std::vector<std::string>, std::string>>{{{process::to_utf8(
                                                                                    *option)},
                                                                                "--python"}}
               : candidates(wanted, env_vars);
    std::vector<std::string> seen;
    for (const auto& [argv, source] : list) {
        const std::string shown = text::join(argv, " ");
        if (std::find(seen.begin(), seen.end(), shown) != seen.end()) {
            continue;
        }
        seen.push_back(shown);
        if (argv.size() == 1 && !files::is_file(process::from_utf8(argv[0]))) {
            if (option) {
                s.tried.push_back("--python " + shown + ": no such file");
            }
            continue;  // the usual places that do not exist are not worth a line
        }
        std::string why;
        auto p = ask(argv, why);
        if (!p) {
            s.tried.push_back(source + ": " + shown + " " + why);
            continue;
        }
        if (!is_version(p->version, wanted)) {
            s.tried.push_back(source + ": " + shown + " is Python " + p->version);
            continue;
        }
        if (!p->has_venv) {
            s.tried.push_back(source + ": " + shown + " is Python " + p->version +
                              " without venv/ensurepip (Debian and Ubuntu: apt install python" +
                              wanted + "-venv)");
            continue;
        }
        p->source = source;
        s.found = std::move(p);
        return s;
    }
    return s;
}

std::string no_base_python_text(const BasePythonSearch& s, const std::string& wanted,
                                bool from_option) {
    std::string out =
        from_option ? "Not setting up: the --python given is not a usable Python " + wanted + " ("
                    : "Not setting up: no Python " + wanted +
                          " was found on this machine, and AllTalk's env is made "
                          "from one (";
    out += s.tried.empty() ? std::string("none of the usual places has one")
                           : text::join(s.tried, "; ");
    out += "). ";
#ifdef _WIN32
    out += "Install Python " + wanted +
           " from python.org (Windows installer, 64-bit) or with `winget install "
           "Python.Python." +
           wanted + "`, then run setup again, or pass --python PATH\\TO\\python.exe.";
#else
    out += "Install Python " + wanted + " (Debian/Ubuntu: apt install python" + wanted + " python" +
           wanted + "-venv; or `pyenv install " + wanted +
           "`), then run setup again, or pass --python /path/to/python" + wanted + ".";
#endif
    return out;
}

}  // namespace alltalk::setup
