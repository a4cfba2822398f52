#include <doctest/doctest.h>

#include "base/error.hpp"
#include "discover/python_env.hpp"
#include "discover/root.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

namespace {
PythonVersion v311() {
    return PythonVersion{3, 11, "3.11"};
}
}  // namespace

TEST_CASE("root precedence: --root > ALLTALK_ROOT > launcher folder > current directory") {
    test::TempDir tmp;
    fs::path a = tmp.path() / "a", b = tmp.path() / "b", c = tmp.path() / "c";
    for (auto& d : {a, b, c}) {
        test::make_root(d);
    }
    DiscoveryInputs in;
    in.cwd = c;
    in.exe = b / "bin" / "alltalk-launch";
    in.env_vars["ALLTALK_ROOT"] = a.string();
    in.root_option = tmp.path() / "a";

    CHECK(find_root(in).source == "--root");
    in.root_option.reset();
    CHECK(find_root(in).root == a);
    CHECK(find_root(in).source == "ALLTALK_ROOT");
    in.env_vars.erase("ALLTALK_ROOT");
    auto r = find_root(in);
    CHECK(r.root == b);  // a parent of the launcher's folder
    CHECK(r.source == "launcher folder");
    in.exe = tmp.path() / "elsewhere" / "alltalk-launch";
    r = find_root(in);
    CHECK(r.root == c);
    CHECK(r.source == "current directory");
    CHECK(r.is_alltalk);
}

TEST_CASE("a relative --root is taken from the current directory; a missing one is an error") {
    test::TempDir tmp;
    test::make_root(tmp.path() / "x");
    DiscoveryInputs in;
    in.cwd = tmp.path();
    in.root_option = "x/";
    CHECK(find_root(in).root == tmp.path() / "x");
    in.root_option = "nope";
    CHECK_THROWS_WITH_AS(find_root(in), doctest::Contains("--root"), LaunchError);
}

TEST_CASE("env precedence: --env > config > alltalk_environment/env > .venv > venv > active") {
    test::TempDir tmp;
    fs::path root = tmp.path() / "root";
    test::make_root(root);
    DiscoveryInputs in;
    in.cwd = root;
    RootChoice rc{root, "test", true, {}};
    test::make_prefix(tmp.path() / "active");
    in.env_vars["CONDA_PREFIX"] = (tmp.path() / "active").string();
    CHECK(choose_env(in, rc, std::nullopt, "").source == "active env ($CONDA_PREFIX)");
    test::make_prefix(root / "venv");
    CHECK(choose_env(in, rc, std::nullopt, "").dir == root / "venv");
    test::make_prefix(root / ".venv");
    CHECK(choose_env(in, rc, std::nullopt, "").dir == root / ".venv");
    test::make_prefix(root / "alltalk_environment" / "env");
    CHECK(choose_env(in, rc, std::nullopt, "").dir == root / "alltalk_environment" / "env");
    test::make_prefix(tmp.path() / "configured");
    CHECK(choose_env(in, rc, tmp.path() / "configured", "cfg").source == "cfg");
    in.env_option = tmp.path() / "active";
    CHECK(choose_env(in, rc, tmp.path() / "configured", "cfg").source == "--env");
}

TEST_CASE("no env anywhere lists every place tried") {
    test::TempDir tmp;
    DiscoveryInputs in;
    in.cwd = tmp.path();
    RootChoice rc{tmp.path(), "test", false, {}};
    try {
        choose_env(in, rc, std::nullopt, "");
        FAIL("expected an error");
    } catch (const LaunchError& e) {
        std::string msg = e.what();
        CHECK(msg.find("alltalk_environment") != std::string::npos);
        CHECK(msg.find(".venv") != std::string::npos);
        CHECK(msg.find("CONDA_PREFIX: not set") != std::string::npos);
        CHECK(msg.find("--env") != std::string::npos);
    }
    in.env_option = tmp.path() / "missing";
    CHECK_THROWS_WITH_AS(choose_env(in, rc, std::nullopt, ""), doctest::Contains("does not exist"),
                         LaunchError);
}

TEST_CASE("inspect a conda prefix and a venv") {
    test::TempDir tmp;
    fs::path prefix = tmp.path() / "env";
    test::make_prefix(prefix);
    PythonEnv env = inspect_env(prefix, v311());
    CHECK(env.kind == EnvKind::Conda);
    CHECK(env.version.text == "3.11.9");  // from conda-meta
    CHECK(env.home == prefix);
    CHECK(env.libpython == prefix / "lib" / "libpython3.11.so.1.0");
    CHECK(env.python == prefix / "bin" / "python3.11");

    fs::path venv = tmp.path() / "venv";
    test::make_venv(venv, prefix);
    env = inspect_env(venv, v311());
    CHECK(env.kind == EnvKind::Venv);
    CHECK(env.home.empty());
    CHECK(env.base_prefix == prefix);
    CHECK(env.libpython == prefix / "lib" / "libpython3.11.so.1.0");
    CHECK(env.site_packages == venv / "lib" / "python3.11" / "site-packages");
}

TEST_CASE("wrong Python version, no Python, no shared library: clear errors") {
    test::TempDir tmp;
    test::make_prefix(tmp.path() / "py312", "3.12");
    CHECK_THROWS_WITH_AS(inspect_env(tmp.path() / "py312", v311()),
                         doctest::Contains("has Python 3.12.9, but this alltalk-launch was built "
                                           "for Python 3.11"),
                         LaunchError);
    test::make_prefix(tmp.path() / "static", "3.11", false);
    CHECK_THROWS_WITH_AS(inspect_env(tmp.path() / "static", v311()),
                         doctest::Contains("built without a shared library"), LaunchError);
    fs::create_directories(tmp.path() / "empty" / "bin");
    CHECK_THROWS_WITH_AS(inspect_env(tmp.path() / "empty", v311()),
                         doctest::Contains("is not a Python environment"), LaunchError);
    test::make_prefix(tmp.path() / "nobin");
    fs::remove(tmp.path() / "nobin" / "bin" / "python3.11");
    CHECK_THROWS_WITH_AS(inspect_env(tmp.path() / "nobin", v311()),
                         doctest::Contains("has no Python in"), LaunchError);
}
