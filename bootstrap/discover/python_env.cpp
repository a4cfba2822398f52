#include "discover/python_env.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <system_error>

#include "base/build_info.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "os/dir_list.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk {

const char* to_string(EnvKind kind) {
    switch (kind) {
        case EnvKind::Conda:
            return "conda prefix";
        case EnvKind::Prefix:
            return "python prefix";
        case EnvKind::Venv:
            return "venv";
    }
    return "?";
}

PythonVersion built_python_version() {
    return PythonVersion{build::kPythonMajor, build::kPythonMinor, build::kPythonVersion};
}

namespace {

using files::is_dir;
using files::is_file;

// A folder is a usable env when it looks like a prefix or a venv.
bool looks_like_env(const fs::path& dir) {
    return is_file(dir / "pyvenv.cfg") || is_dir(dir / "conda-meta") || is_dir(dir / "bin") ||
           is_file(dir / "python.exe") || is_file(dir / "Scripts" / "python.exe");
}

std::string trim(std::string_view s) {
    return std::string(text::trim(s));
}

std::map<std::string, std::string> read_pyvenv_cfg(const fs::path& file) {
    std::map<std::string, std::string> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        std::string key = trim(line.substr(0, eq));
        std::transform(key.begin(), key.end(), key.begin(), ::tolower);
        out[key] = trim(line.substr(eq + 1));
    }
    return out;
}

// Reads "X.Y" or "X.Y.Z" at the start of `text` (after blanks). Hand-written rather than
// std::regex: compiling one regex cost more than the rest of the launcher's planning together.
std::optional<PythonVersion> parse_version(const std::string& text) {
    std::size_t i = text.find_first_not_of(" \t");
    if (i == std::string::npos) {
        return std::nullopt;
    }
    auto number = [&](int& out) {
        std::size_t start = i;
        out = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) &&
               i - start < 6) {
            out = out * 10 + (text[i++] - '0');
        }
        return i > start;
    };
    PythonVersion v;
    std::size_t begin = i;
    if (!number(v.major) || i >= text.size() || text[i++] != '.' || !number(v.minor)) {
        return std::nullopt;
    }
    int patch = 0;
    std::size_t before_patch = i;
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!number(patch)) {
            i = before_patch;
        }
    }
    v.text = text.substr(begin, i - begin);
    return v;
}

// lib/python3.X folders that hold a standard library (os.py), newest first.
std::vector<PythonVersion> stdlib_versions(const fs::path& prefix) {
    std::vector<PythonVersion> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(prefix / "lib", ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("python", 0) != 0) {
            continue;
        }
        auto v = parse_version(name.substr(6));
        if (v && v->text == name.substr(6) && is_file(entry.path() / "os.py")) {
            out.push_back(*v);
        }
    }
    std::sort(out.begin(), out.end(), [](const PythonVersion& a, const PythonVersion& b) {
        return std::tie(a.major, a.minor) > std::tie(b.major, b.minor);
    });
    return out;
}

// The full version where a prefix records it: conda-meta/python-3.11.9-*.json, or patchlevel.h.
std::string patch_version(const fs::path& prefix, const PythonVersion& v) {
    std::error_code ec;
    const std::string want = "python-" + v.short_text() + ".";
    for (const auto& entry : fs::directory_iterator(prefix / "conda-meta", ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind(want, 0) == 0) {
            if (auto full = parse_version(name.substr(7))) {
                return full->text;
            }
        }
    }
    std::ifstream in(prefix / "include" / ("python" + v.short_text()) / "patchlevel.h");
    std::string line;
    const std::string key = "#define PY_VERSION";
    while (std::getline(in, line)) {
        std::size_t at = line.find(key);
        std::size_t quote = line.find('"', at);
        if (at != std::string::npos && quote != std::string::npos) {
            if (auto full = parse_version(line.substr(quote + 1))) {
                return full->text;
            }
        }
    }
    return v.text;
}

fs::path first_existing(const std::vector<fs::path>& candidates) {
    for (const auto& c : candidates) {
        if (is_file(c)) {
            return c;
        }
    }
    return {};
}

// Windows layouts (a conda prefix or python.org installation: python.exe, python3XY.dll and
// Lib\os.py at the top; a venv: Scripts\python.exe). Recognised by the files present rather than
// by the compiler's platform, so that the same logic is unit-tested on Linux with Windows-shaped
// trees.
bool is_windows_prefix(const fs::path& dir) {
    return is_file(dir / "python.exe") && is_file(dir / "Lib" / "os.py");
}

// python3XY.dll names present in `dir`, newest first (python3.dll, the stable-ABI stub, is not
// one).
std::vector<PythonVersion> windows_dll_versions(const fs::path& dir) {
    std::vector<PythonVersion> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        // python3XY.dll: one digit of major, then the minor.
        if (name.size() < 12 || name.rfind("python", 0) != 0 ||
            name.compare(name.size() - 4, 4, ".dll") != 0) {
            continue;
        }
        std::string digits = name.substr(6, name.size() - 10);
        if (digits.size() < 2 || digits.size() > 4 ||
            !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
            continue;
        }
        PythonVersion v{digits[0] - '0', std::stoi(digits.substr(1)), ""};
        v.text = v.short_text();
        out.push_back(v);
    }
    std::sort(out.begin(), out.end(), [](const PythonVersion& a, const PythonVersion& b) {
        return std::tie(a.major, a.minor) > std::tie(b.major, b.minor);
    });
    return out;
}

std::string windows_dll_name(const PythonVersion& v) {
    return "python" + std::to_string(v.major) + std::to_string(v.minor) + ".dll";
}

// The version the launcher was built for when several are present, else the newest (`versions`
// is sorted newest first and not empty).
PythonVersion prefer_wanted(const std::vector<PythonVersion>& versions, const PythonVersion& want) {
    for (const auto& cand : versions) {
        if (cand.major == want.major && cand.minor == want.minor) {
            return cand;
        }
    }
    return versions.front();
}

std::string join_paths(const std::vector<fs::path>& paths) {
    std::string out;
    for (const auto& p : paths) {
        out += (out.empty() ? "" : ", ") + p.string();
    }
    return out;
}

// Where the shared libpython of an installation at `prefix` can live.
std::vector<fs::path> libpython_candidates(const fs::path& prefix, const PythonVersion& v) {
    const std::string so = "libpython" + v.short_text() + ".so";
    std::vector<fs::path> dirs = {prefix / "lib", prefix / "lib64"};
    // Debian's multiarch folder, e.g. lib/x86_64-linux-gnu.
    for (const std::string& name : dir_list::names(prefix / "lib")) {
        if (name.find("-linux-") != std::string::npos && is_dir(prefix / "lib" / name)) {
            dirs.push_back(prefix / "lib" / name);
        }
    }
    std::vector<fs::path> out;
    for (const auto& d : dirs) {
        out.push_back(d / (so + ".1.0"));
        out.push_back(d / so);
    }
    return out;
}

[[noreturn]] void fail_no_shared_lib(const fs::path& env, const fs::path& prefix,
                                     const PythonVersion& v, const std::vector<fs::path>& tried) {
    // A static-only build still installs lib/python3.X/config-3.X-<triplet>/libpython3.X.a.
    std::error_code ec;
    bool static_only = false;
    const std::string archive = "libpython" + v.short_text() + ".a";
    for (const auto& entry :
         fs::directory_iterator(prefix / "lib" / ("python" + v.short_text()), ec)) {
        if (entry.path().filename().string().rfind("config-", 0) == 0 &&
            is_file(entry.path() / archive)) {
            static_only = true;
        }
    }
    static_only = static_only || is_file(prefix / "lib" / archive);
    std::string msg = "The Python in " + env.string() + " (" + v.text + ", installed in " +
                      prefix.string() + ") has no shared library (tried " + join_paths(tried) +
                      "). ";
    if (static_only) {
        msg += "It was built without a shared library (only libpython" + v.short_text() +
               ".a exists), so it cannot be embedded. ";
    }
    msg +=
        "alltalk-launch runs the env's interpreter from its libpython: use a Python built with "
        "--enable-shared (conda, python.org, Debian and pyenv with "
        "PYTHON_CONFIGURE_OPTS=--enable-shared all are), for example recreate the env with "
        "AllTalk's installer, or point --env at another environment.";
    throw LaunchError(Stage::Python, msg);
}

void check_version(const fs::path& env, const PythonVersion& have, const PythonVersion& want) {
    if (want.major == 0 || (have.major == want.major && have.minor == want.minor)) {  // 0: any
        return;
    }
    throw LaunchError(
        Stage::Python,
        ErrorText{"The environment " + env.string() + " has Python " + have.text +
                      ", but this alltalk-launch was built for Python " + want.short_text() + ".",
                  "",
                  "Point --env at a Python " + want.short_text() +
                      " environment (AllTalk's own is 3.11), or rebuild the launcher "
                      "for this one: cmake -B build -DALLTALK_PYTHON_VERSION=" +
                      have.short_text() + " && cmake --build build."});
}

[[noreturn]] void fail_no_dll(const fs::path& env, const fs::path& prefix,
                              const PythonVersion& want) {
    throw LaunchError(Stage::Python,
                      "The Python in " + env.string() + " has no " + windows_dll_name(want) +
                          " in " + prefix.string() +
                          " (nor any other python3XY.dll), so it cannot be embedded. "
                          "The environment is incomplete: recreate it with AllTalk's "
                          "installer (atsetup.bat), or point --env at another one.");
}

// A Windows prefix: conda's env (python.exe, python311.dll, Lib\, Library\bin, Scripts\) or a
// python.org installation. The version comes from the python3XY.dll beside python.exe.
PythonEnv inspect_windows_prefix(const fs::path& dir, const PythonVersion& want) {
    PythonEnv env;
    env.dir = dir;
    env.home = dir;
    env.base_prefix = dir;
    env.bin_dir = dir / "Scripts";
    env.platform = Platform::Windows;
    env.python = dir / "python.exe";
    env.kind = is_dir(dir / "conda-meta") ? EnvKind::Conda : EnvKind::Prefix;
    auto versions = windows_dll_versions(dir);
    if (versions.empty()) {
        fail_no_dll(dir, dir, want);
    }
    PythonVersion v = prefer_wanted(versions, want);
    v.text = patch_version(dir, v);
    env.version = v;
    check_version(dir, env.version, want);
    env.libpython = dir / windows_dll_name(v);
    env.site_packages = dir / "Lib" / "site-packages";
    return env;
}

// A Windows venv: Scripts\python.exe, Lib\site-packages, and pyvenv.cfg whose `home` is the base
// installation's folder (which holds python.exe and python3XY.dll).
PythonEnv inspect_windows_venv(const fs::path& dir, std::map<std::string, std::string> cfg,
                               const PythonVersion& want) {
    PythonEnv env;
    env.dir = dir;
    env.kind = EnvKind::Venv;
    env.bin_dir = dir / "Scripts";
    env.platform = Platform::Windows;
    env.python = dir / "Scripts" / "python.exe";
    env.site_packages = dir / "Lib" / "site-packages";
    std::optional<PythonVersion> v;
    for (const char* key : {"version", "version_info"}) {
        if (!v && cfg.count(key)) {
            v = parse_version(cfg[key]);
        }
    }
    if (!cfg.count("home")) {
        throw LaunchError(Stage::Python, "The venv " + dir.string() +
                                             " has a pyvenv.cfg without `home`, so its base Python "
                                             "cannot be found. Recreate the venv.");
    }
    env.base_prefix = process::from_utf8(cfg["home"]);
    auto dlls = windows_dll_versions(env.base_prefix);
    if (!v && !dlls.empty()) {
        v = dlls.front();
    }
    if (!v) {
        throw LaunchError(Stage::Python, "The venv " + dir.string() +
                                             " does not say which Python it uses (no version in "
                                             "pyvenv.cfg, no python3XY.dll in its home " +
                                             env.base_prefix.string() + "). Recreate the venv.");
    }
    env.version = *v;
    check_version(dir, env.version, want);
    env.libpython = env.base_prefix / windows_dll_name(env.version);
    if (!is_file(env.libpython)) {
        fail_no_dll(dir, env.base_prefix, env.version);
    }
    return env;
}

PythonEnv inspect_venv(const fs::path& dir, const PythonVersion& want) {
    PythonEnv env;
    env.dir = dir;
    env.kind = EnvKind::Venv;
    auto cfg = read_pyvenv_cfg(dir / "pyvenv.cfg");
    if (is_file(dir / "Scripts" / "python.exe") && !is_dir(dir / "bin")) {
        return inspect_windows_venv(dir, cfg, want);
    }
    std::optional<PythonVersion> v;
    for (const char* key : {"version", "version_info"}) {
        if (!v && cfg.count(key)) {
            v = parse_version(cfg[key]);
        }
    }
    if (!v) {
        // Old venvs: the lib/python3.X folder name still tells the version.
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir / "lib", ec)) {
            std::string name = entry.path().filename().string();
            if (name.rfind("python", 0) == 0) {
                v = parse_version(name.substr(6));
            }
        }
    }
    if (!v) {
        throw LaunchError(Stage::Python,
                          "The venv " + dir.string() +
                              " does not say which Python it uses (no version in "
                              "pyvenv.cfg). Recreate it with: python3.11 -m venv \"" +
                              dir.string() + "\".");
    }
    env.version = *v;
    env.bin_dir = dir / "bin";
    env.python = first_existing({dir / "bin" / "python", dir / "bin" / "python3",
                                 dir / "bin" / ("python" + v->short_text())});
    if (env.python.empty()) {
        throw LaunchError(Stage::Python, "The venv " + dir.string() + " has no Python in " +
                                             (dir / "bin").string() +
                                             ". Recreate it with: python3.11 -m venv \"" +
                                             dir.string() + "\".");
    }
    check_version(dir, env.version, want);

    // The base installation: `executable` (Python >= 3.11 writes it), else `home` (its bin folder).
    fs::path base_exe;
    if (cfg.count("executable")) {
        base_exe = cfg["executable"];
        env.base_prefix = base_exe.parent_path().parent_path();
    } else if (cfg.count("home")) {
        env.base_prefix = fs::path(cfg["home"]).parent_path();
    } else {
        throw LaunchError(Stage::Python,
                          "The venv " + dir.string() +
                              " has a pyvenv.cfg without `home` or `executable`, so its "
                              "base Python cannot be found. Recreate the venv.");
    }
    auto candidates = libpython_candidates(env.base_prefix, env.version);
    if (!base_exe.empty()) {
        // The base executable may be a link into the real installation (/usr/bin -> /usr/lib/...).
        std::error_code ec;
        fs::path real = fs::weakly_canonical(base_exe, ec);
        if (!ec && real.parent_path().parent_path() != env.base_prefix) {
            auto more = libpython_candidates(real.parent_path().parent_path(), env.version);
            candidates.insert(candidates.end(), more.begin(), more.end());
        }
    }
    env.libpython = first_existing(candidates);
    if (env.libpython.empty()) {
        fail_no_shared_lib(dir, env.base_prefix, env.version, candidates);
    }
    env.site_packages = dir / "lib" / ("python" + env.version.short_text()) / "site-packages";
    return env;
}

PythonEnv inspect_prefix(const fs::path& dir, const PythonVersion& want) {
    PythonEnv env;
    env.dir = dir;
    env.home = dir;
    env.base_prefix = dir;
    env.bin_dir = dir / "bin";
    env.kind = is_dir(dir / "conda-meta") ? EnvKind::Conda : EnvKind::Prefix;
    auto versions = stdlib_versions(dir);
    if (versions.empty()) {
        throw LaunchError(Stage::Python,
                          "The folder " + dir.string() +
                              " is not a Python environment: it has no lib/python3.X/os.py "
                              "(standard library) and no pyvenv.cfg. Give --env the environment "
                              "folder itself (AllTalk's is alltalk_environment/env), or re-run "
                              "AllTalk's installer to recreate it.");
    }
    PythonVersion v = prefer_wanted(versions, want);
    v.text = patch_version(dir, v);
    env.version = v;
    env.python = first_existing({dir / "bin" / ("python" + v.short_text()), dir / "bin" / "python3",
                                 dir / "bin" / "python"});
    if (env.python.empty()) {
        throw LaunchError(Stage::Python, "The environment " + dir.string() + " has no Python in " +
                                             (dir / "bin").string() +
                                             ". Re-run AllTalk's installer to recreate it.");
    }
    check_version(dir, env.version, want);
    auto candidates = libpython_candidates(dir, v);
    env.libpython = first_existing(candidates);
    if (env.libpython.empty()) {
        fail_no_shared_lib(dir, dir, v, candidates);
    }
    env.site_packages = dir / "lib" / ("python" + v.short_text()) / "site-packages";
    return env;
}

}  // namespace

EnvChoice choose_env(const DiscoveryInputs& in, const RootChoice& root,
                     const std::optional<fs::path>& configured,
                     const std::string& configured_source) {
    EnvChoice choice;
    auto take = [&](const fs::path& dir, const std::string& source, bool must_exist) -> bool {
        fs::path abs = absolute_from(dir, in.cwd);
        choice.tried.push_back(source + ": " + abs.string());
        if (is_dir(abs) && looks_like_env(abs)) {
            choice.dir = abs;
            choice.source = source;
            return true;
        }
        if (must_exist) {
            throw LaunchError(
                Stage::Env,
                ErrorText{"The Python environment given by " + source + " (" + abs.string() +
                              ") does not exist or is not an environment (no "
                              "pyvenv.cfg, conda-meta or bin folder).",
                          "",
                          "Give the environment folder itself, e.g. "
                          "<AllTalk>/alltalk_environment/env."});
        }
        return false;
    };
    if (in.env_option && take(*in.env_option, "--env", true)) {
        return choice;
    }
    if (configured && take(*configured, configured_source, true)) {
        return choice;
    }
    if (take(root.root / "alltalk_environment" / "env", "AllTalk's conda env", false) ||
        take(root.root / ".venv", "venv in the AllTalk folder", false) ||
        take(root.root / "venv", "venv in the AllTalk folder", false)) {
        return choice;
    }
    for (const char* var : {"CONDA_PREFIX", "VIRTUAL_ENV"}) {
        if (auto active = lookup(in.env_vars, var)) {
            if (take(*active, std::string("active env ($") + var + ")", false)) {
                return choice;
            }
        } else {
            choice.tried.push_back(std::string("$") + var + ": not set");
        }
    }
    throw LaunchError(
        Stage::Env,
        ErrorText{"No Python environment found for AllTalk in " + root.root.string() + ".",
                  text::join(choice.tried, "; "),
                  "Run AllTalk's installer (it creates alltalk_environment/env), or "
                  "pass --env \"/path/to/env\", or set `env` in alltalk-launch.toml."});
}

PythonEnv inspect_env(const fs::path& dir, const PythonVersion& want) {
    if (is_file(dir / "pyvenv.cfg")) {
        return inspect_venv(dir, want);
    }
    if (is_windows_prefix(dir)) {
        return inspect_windows_prefix(dir, want);
    }
    return inspect_prefix(dir, want);
}

Platform layout_platform(const fs::path& dir) {
    return is_file(dir / "python.exe") || is_file(dir / "Scripts" / "python.exe")
               ? Platform::Windows
               : Platform::Posix;
}

}  // namespace alltalk
