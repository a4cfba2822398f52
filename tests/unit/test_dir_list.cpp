#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "discover/overlay.hpp"
#include "os/dir_list.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

TEST_CASE("dir_list::names lists what std::filesystem lists, without . and ..") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "site-packages";
    test::write(dir / "gradio-3.50.2.dist-info" / "METADATA");
    test::write(dir / "ü_pkg-1.0.dist-info" / "METADATA");  // a name that is not ASCII
    test::write(dir / "distutils-precedence.pth", "import os\n");
    test::write(dir / ".hidden");
    fs::create_symlink(dir / "gradio-3.50.2.dist-info", dir / "link");

    std::vector<std::string> got = dir_list::names(dir);
    std::vector<std::string> want;
    for (const auto& e : fs::directory_iterator(dir)) {
        want.push_back(e.path().filename().string());
    }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
    CHECK(got.size() == 5);
    CHECK(std::find(got.begin(), got.end(), "ü_pkg-1.0.dist-info") != got.end());

    // What cannot be listed is empty: a missing folder, and a file.
    CHECK(dir_list::names(tmp.path() / "missing").empty());
    CHECK(dir_list::names(dir / "distutils-precedence.pth").empty());

    // The overlay's inputs hash reads the base's dist-info names through it, sorted.
    CHECK(overlay::dist_info_names(dir) ==
          std::vector<std::string>{"gradio-3.50.2.dist-info", "ü_pkg-1.0.dist-info"});
}
