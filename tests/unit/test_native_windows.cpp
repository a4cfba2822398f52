// cuDNN discovery on Windows layouts rebuilt from the file names of the real win_amd64 wheels
// (tests/data/win_wheels, recorded with tests/support/wheel_names.py): nvidia-cudnn-cu12
// 8.9.7.29 and 9.1.0.70, nvidia-cudnn-cu13 9.19.0.56, ctranslate2 4.4.0 and 4.5.0.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "cudnn/select.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

namespace {

// Recreates a wheel's files (empty, METADATA with Name and Version) under `site`.
void install(const fs::path& site, const std::string& wheel) {
    std::ifstream in(fs::path(ALLTALK_TEST_DATA) / "win_wheels" / (wheel + ".txt"));
    REQUIRE(in);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::string text;
        if (line.size() > 19 && line.compare(line.size() - 19, 19, ".dist-info/METADATA") == 0) {
            std::string folder = line.substr(0, line.find(".dist-info"));
            auto dash = folder.rfind('-');
            std::string name = folder.substr(0, dash);
            std::replace(name.begin(), name.end(), '_', '-');  // as the wheel's METADATA spells it
            text = "Metadata-Version: 2.1\nName: " + name +
                   "\nVersion: " + folder.substr(dash + 1) + "\n\n";
        }
        test::write(site / line, text);
    }
}

struct WinEnv {
    test::TempDir tmp;
    fs::path dir = tmp.path() / "alltalk_environment" / "env";
    PythonEnv env;
    WinEnv() {
        env.dir = dir;
        env.site_packages = dir / "Lib" / "site-packages";
        env.python = dir / "python.exe";
        fs::create_directories(env.site_packages);
    }
    NativeDecision analyze(EnvMap vars = {}) {
        NativeFacts f;
        f.env = env;
        f.env_vars = std::move(vars);
        f.platform = Platform::Windows;
        f.system_dirs.emplace();
        return analyze_native(f);
    }
};

}  // namespace

TEST_CASE("Windows: ctranslate2 4.4.0 ships cudnn64_8.dll; the cuDNN 8.9 wheel's bin serves it") {
    WinEnv e;
    install(e.env.site_packages, "ctranslate2-4.4.0-cp311-cp311-win_amd64.whl");
    install(e.env.site_packages, "nvidia_cudnn_cu12-8.9.7.29-py3-none-win_amd64.whl");
    auto d = e.analyze();
    REQUIRE(d.needs.size() == 1);
    CHECK(d.needs[0].major == 8);
    CHECK(d.needs[0].who == "ctranslate2 4.4.0");
    CHECK(d.needs[0].why == "ships ctranslate2/cudnn64_8.dll");
    REQUIRE(d.choices.size() == 1);
    const fs::path bin = e.env.site_packages / "nvidia" / "cudnn" / "bin";
    CHECK(d.choices[0].candidate.dir == bin);
    CHECK(d.choices[0].candidate.version == "8.9.7.29");
    CHECK(d.choices[0].candidate.main_library() == "cudnn64_8.dll");
    CHECK(d.choices[0].candidate.libraries.size() == 7);
    CHECK(d.library_dirs() == std::vector<fs::path>{bin});
}

TEST_CASE("Windows: cudnn_ops_infer64_8.dll missing is an error with the pip fix or the upgrade") {
    WinEnv e;
    install(e.env.site_packages, "ctranslate2-4.4.0-cp311-cp311-win_amd64.whl");
    install(e.env.site_packages, "nvidia_cudnn_cu13-9.19.0.56-py3-none-win_amd64.whl");
    auto d = e.analyze();
    REQUIRE(d.missing.size() == 1);
    const std::string msg = missing_cudnn_message(d, e.env);
    CHECK(msg.find("cuDNN 8 is needed by ctranslate2 4.4.0 (ships ctranslate2/cudnn64_8.dll)") !=
          std::string::npos);
    CHECK(msg.find("\"" + e.env.python.string() + "\" -m pip install \"nvidia-cudnn-cu12==8.*\"") !=
          std::string::npos);
    CHECK(msg.find("\"ctranslate2>=4.5.0\"") != std::string::npos);
    CHECK(msg.find("only other cuDNN versions") != std::string::npos);  // the 9.19 wheel is there
}

TEST_CASE("Windows: ctranslate2 4.5.0 with cuDNN 9 from CUDA_PATH, the env's wheel preferred") {
    WinEnv e;
    install(e.env.site_packages, "ctranslate2-4.5.0-cp311-cp311-win_amd64.whl");
    const fs::path cuda = e.tmp.path() / "NVIDIA GPU Computing Toolkit" / "CUDA" / "v12.8";
    install(cuda, "nvidia_cudnn_cu12-9.1.0.70-py3-none-win_amd64.whl");
    fs::rename(cuda / "nvidia" / "cudnn" / "bin", cuda / "bin");
    auto d = e.analyze({{"CUDA_PATH", cuda.string()}, {"CUDA_PATH_V12_8", cuda.string()}});
    REQUIRE(d.choices.size() == 1);
    CHECK(d.choices[0].major == 9);
    CHECK(d.choices[0].candidate.dir == cuda / "bin");
    CHECK(d.choices[0].candidate.origin == "CUDA_PATH");
    CHECK(d.candidates.size() == 1);  // CUDA_PATH_V12_8 is the same folder
    // With the cu13 wheel in the env, the env's own comes first.
    install(e.env.site_packages, "nvidia_cudnn_cu13-9.19.0.56-py3-none-win_amd64.whl");
    d = e.analyze({{"CUDA_PATH", cuda.string()}});
    REQUIRE(d.choices.size() == 1);
    CHECK(d.choices[0].candidate.dir == e.env.site_packages / "nvidia" / "cudnn" / "bin");
    CHECK(d.choices[0].candidate.version == "9.19.0.56");
}
