// The layers of bootstrap/ (bootstrap/CMakeLists.txt): every #include of the tree is read, and one
// that goes against them fails this test. A file may include its own layer and the layers below
// it, always as "layer/file.hpp"; siblings of one rank (cudnn, gpu) do not include each other.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::map<std::string, int> kRank = {
    {"base", 0},  {"os", 1},     {"pypa", 2},      {"discover", 3}, {"cudnn", 4},
    {"gpu", 4},   {"plan", 5},   {"diagnose", 6},  {"start", 7},    {"fix", 7},
    {"setup", 8}, {"launch", 9}, {"launcher", 10},
};

// What one include of a file in `layer` breaks, or nothing. `local` tells whether the name is a
// file in the includer's own folder.
std::optional<std::string> violation(const std::string& layer, const std::string& include,
                                     bool local) {
    const auto slash = include.find('/');
    const std::string target = slash == std::string::npos ? "" : include.substr(0, slash);
    if (layer == "embed") {
        // What runs inside the env's Python: its own files and the generated shims only.
        if (target == "embed" || include == "python_shims.hpp" ||
            include == "python_shims_bytecode.hpp") {
            return std::nullopt;
        }
        return "embed/ includes " + include;
    }
    if (target.empty()) {
        if (local && layer == "launcher") {
            return std::nullopt;  // launcher/ is one folder of its own
        }
        return "\"" + include + "\" does not name its layer (write \"layer/file.hpp\")";
    }
    if (target == "embed") {
        return layer == "start" ? std::nullopt
                                : std::optional<std::string>("only start/ uses embed/");
    }
    const auto own = kRank.find(layer);
    const auto their = kRank.find(target);
    if (their == kRank.end()) {
        return "\"" + include + "\" is in no layer";
    }
    if (target == layer) {
        return std::nullopt;
    }
    if (their->second >= own->second) {
        return layer + "/ may not include " + target + "/ (" + include + "): " + target +
               " is not below " + layer;
    }
    return std::nullopt;
}

std::vector<std::string> quoted_includes(const fs::path& file) {
    static const std::regex inc(R"re(^\s*#\s*include\s*"([^"]+)")re");
    std::vector<std::string> out;
    std::ifstream in(file);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, inc)) {
            out.push_back(m[1]);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("the layer rule itself: wrong-way and unnamed includes are caught") {
    CHECK_FALSE(violation("plan", "cudnn/select.hpp", false));
    CHECK_FALSE(violation("plan", "plan/plan.hpp", false));
    CHECK(violation("cudnn", "plan/plan.hpp", false));  // upwards
    CHECK(violation("cudnn", "gpu/probe.hpp", false));  // a sibling
    CHECK(violation("base", "os/process.hpp", false));
    CHECK(violation("diagnose", "start/prepare.hpp", false));
    CHECK(violation("plan", "plan.hpp", false));           // no layer named
    CHECK(violation("plan", "embed/embed_abi.h", false));  // only start/ uses embed/
    CHECK_FALSE(violation("start", "embed/embed_abi.h", false));
    CHECK(violation("embed", "base/error.hpp", false));
    CHECK_FALSE(violation("launcher", "cli.hpp", true));
    CHECK_FALSE(violation("launcher", "start/prepare.hpp", false));
    CHECK(violation("os", "nowhere/x.hpp", false));
}

TEST_CASE("every #include of bootstrap/ and launcher/ follows the layers") {
    const fs::path src = ALLTALK_SOURCE_DIR;
    REQUIRE(fs::is_directory(src / "bootstrap" / "base"));
    std::size_t files = 0, includes = 0;
    std::vector<std::string> problems;
    auto check_file = [&](const fs::path& file, const std::string& layer) {
        ++files;
        for (const auto& inc : quoted_includes(file)) {
            ++includes;
            const bool local = fs::exists(file.parent_path() / inc);
            if (auto v = violation(layer, inc, local)) {
                problems.push_back(fs::relative(file, src).generic_string() + ": " + *v);
            }
        }
    };
    for (const auto& e : fs::recursive_directory_iterator(src / "bootstrap")) {
        const std::string ext = e.path().extension().string();
        if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h")) {
            continue;
        }
        const fs::path rel = fs::relative(e.path(), src / "bootstrap");
        const std::string layer = rel.begin()->string();
        if (rel.begin() == --rel.end()) {
            problems.push_back("bootstrap/" + rel.generic_string() + ": a file outside the layers");
            continue;
        }
        if (layer != "embed" && !kRank.count(layer)) {
            problems.push_back("bootstrap/" + layer + "/ is not a layer of the table in this test");
            continue;
        }
        check_file(e.path(), layer);
    }
    for (const auto& e : fs::directory_iterator(src / "launcher")) {
        if (e.path().extension() == ".cpp" || e.path().extension() == ".hpp") {
            check_file(e.path(), "launcher");
        }
    }
    for (const auto& p : problems) {
        MESSAGE(p);
    }
    CHECK(problems.empty());
    CHECK(files > 80);  // the tree was really read
    CHECK(includes > 150);
}
