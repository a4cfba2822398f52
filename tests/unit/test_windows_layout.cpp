// The Windows environment layouts (conda prefix, python.org installation, venv), read from
// Windows-shaped trees on any platform: python_env.cpp recognises them by the files present.
#include <doctest/doctest.h>

#include <algorithm>

#include "base/error.hpp"
#include "discover/python_env.hpp"
#include "plan/plan.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

namespace {

PythonVersion v311() {
    return PythonVersion{3, 11, "3.11"};
}

// AllTalk's conda env on Windows (alltalk_environment\env), as Miniconda lays it out.
void make_windows_conda(const fs::path& dir, const std::string& dll = "python311.dll") {
    test::write(dir / "python.exe");
    test::write(dir / "pythonw.exe");
    test::write(dir / "python3.dll");  // the stable-ABI stub: never the one to load
    if (!dll.empty()) {
        test::write(dir / dll);
    }
    test::write(dir / "Lib" / "os.py");
    fs::create_directories(dir / "Lib" / "site-packages");
    test::write(dir / "Library" / "bin" / "zlib.dll");
    test::write(dir / "Scripts" / "pip.exe");
    test::write(dir / "conda-meta" / "python-3.11.11-h4607a30_0.json", "{}");
}

}  // namespace

TEST_CASE("a Windows conda env: python.exe, python311.dll, Lib, Scripts, Library\\bin") {
    test::TempDir tmp;
    fs::path env_dir = tmp.path() / "alltalk_environment" / "env";
    make_windows_conda(env_dir);
    PythonEnv env = inspect_env(env_dir, v311());
    CHECK(env.kind == EnvKind::Conda);
    CHECK(env.version.text == "3.11.11");
    CHECK(env.python == env_dir / "python.exe");
    CHECK(env.libpython == env_dir / "python311.dll");
    CHECK(env.home == env_dir);
    CHECK(env.site_packages == env_dir / "Lib" / "site-packages");
    CHECK(env.bin_dir == env_dir / "Scripts");

    // conda's activation order puts Library\bin (the DLLs: zlib, cuDNN from conda) before Scripts.
    auto dirs = activation_path(env, Platform::Windows);
    REQUIRE(dirs.size() >= 4);
    CHECK(dirs.front() == env_dir);
    CHECK(std::find(dirs.begin(), dirs.end(), env_dir / "Library" / "bin") <
          std::find(dirs.begin(), dirs.end(), env_dir / "Scripts"));

    // choose_env finds it where AllTalk's installer puts it.
    test::make_root(tmp.path());
    DiscoveryInputs in;
    in.cwd = tmp.path();
    RootChoice root = find_root(in);
    CHECK(choose_env(in, root, std::nullopt, "").dir == env_dir);
}

TEST_CASE("a Windows env with a wrong or missing python3XY.dll is a clear error") {
    test::TempDir tmp;
    make_windows_conda(tmp.path() / "py312", "python312.dll");
    CHECK_THROWS_WITH_AS(inspect_env(tmp.path() / "py312", v311()),
                         doctest::Contains("has Python 3.12"), LaunchError);
    make_windows_conda(tmp.path() / "nodll", "");
    CHECK_THROWS_WITH_AS(inspect_env(tmp.path() / "nodll", v311()),
                         doctest::Contains("has no python311.dll"), LaunchError);
}

TEST_CASE("a Windows venv: Scripts\\python.exe, pyvenv.cfg home holds python311.dll") {
    test::TempDir tmp;
    fs::path base = tmp.path() / "Python311";
    make_windows_conda(base);
    fs::path venv = tmp.path() / "venv";
    test::write(venv / "pyvenv.cfg", "home = " + base.string() +
                                         "\ninclude-system-site-packages = false\nversion = "
                                         "3.11.9\n");
    test::write(venv / "Scripts" / "python.exe");
    fs::create_directories(venv / "Lib" / "site-packages");
    PythonEnv env = inspect_env(venv, v311());
    CHECK(env.kind == EnvKind::Venv);
    CHECK(env.version.text == "3.11.9");
    CHECK(env.python == venv / "Scripts" / "python.exe");
    CHECK(env.base_prefix == base);
    CHECK(env.libpython == base / "python311.dll");
    CHECK(env.site_packages == venv / "Lib" / "site-packages");
    CHECK(activation_path(env, Platform::Windows) == std::vector<fs::path>{venv / "Scripts"});

    fs::remove(base / "python311.dll");
    CHECK_THROWS_WITH_AS(inspect_env(venv, v311()), doctest::Contains("has no python311.dll"),
                         LaunchError);
}
