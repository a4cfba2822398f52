#pragma once
// Temporary folder trees and installed-distribution values for the unit tests.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "diagnose/doctor.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::test {

class TempDir {
  public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("alltalk-unit-" + std::to_string(rd()) + " ü");
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline void write(const std::filesystem::path& p, const std::string& text = "") {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

inline void make_root(const std::filesystem::path& dir) {
    write(dir / "script.py", "print('server')\n");
    write(dir / "finetune.py", "print('finetune')\n");
}

// A conda-style prefix that inspect_env accepts (files only; nothing here runs).
inline void make_prefix(const std::filesystem::path& dir, const std::string& ver = "3.11",
                        bool shared = true) {
    write(dir / "bin" / ("python" + ver));
    write(dir / "lib" / ("python" + ver) / "os.py");
    std::filesystem::create_directories(dir / "conda-meta");
    write(dir / "conda-meta" / ("python-" + ver + ".9-h1234_0.json"), "{}");
    if (shared) {
        write(dir / "lib" / ("libpython" + ver + ".so.1.0"));
    } else {
        write(dir / "lib" / ("python" + ver) / ("config-" + ver + "-x86_64-linux-gnu") /
              ("libpython" + ver + ".a"));
    }
}

// A venv whose base installation is `base` (a prefix made by make_prefix).
inline void make_venv(const std::filesystem::path& dir, const std::filesystem::path& base,
                      const std::string& ver = "3.11") {
    write(dir / "pyvenv.cfg", "home = " + (base / "bin").string() +
                                  "\ninclude-system-site-packages = false\nversion = " + ver +
                                  ".7\nexecutable = " + (base / "bin" / ("python" + ver)).string() +
                                  "\n");
    write(dir / "bin" / "python");
    std::filesystem::create_directories(dir / "lib" / ("python" + ver) / "site-packages");
}

// A dist-info folder as pip writes it (the folder name escapes "-" in the project name as "_").
inline void write_dist(const std::filesystem::path& site, const std::string& name,
                       const std::string& version,
                       const std::vector<std::string>& requires_dist = {}) {
    std::string meta = "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n";
    for (const auto& r : requires_dist) {
        meta += "Requires-Dist: " + r + "\n";
    }
    std::string folder = name;
    std::replace(folder.begin(), folder.end(), '-', '_');
    write(site / (folder + "-" + version + ".dist-info") / "METADATA", meta + "\nbody\n");
}

// Empty files of these names in `dir` (library folders: only their listing is read).
inline void write_files(const std::filesystem::path& dir, const std::vector<std::string>& names) {
    for (const auto& n : names) {
        write(dir / n);
    }
}

// The library files of the real nvidia-cudnn-cu12 9.x and 8.9 Linux wheels.
inline const std::vector<std::string> kCudnn9Linux = {
    "libcudnn.so.9",           "libcudnn_adv.so.9",
    "libcudnn_cnn.so.9",       "libcudnn_engines_precompiled.so.9",
    "libcudnn_graph.so.9",     "libcudnn_engines_runtime_compiled.so.9",
    "libcudnn_heuristic.so.9", "libcudnn_ops.so.9"};
inline const std::vector<std::string> kCudnn8Linux = {
    "libcudnn.so.8",           "libcudnn_adv_infer.so.8", "libcudnn_adv_train.so.8",
    "libcudnn_cnn_infer.so.8", "libcudnn_cnn_train.so.8", "libcudnn_ops_infer.so.8",
    "libcudnn_ops_train.so.8"};

// An installed distribution as the site-packages scan would report it (no files written).
inline Distribution dist(const std::string& name, const std::string& version,
                         std::vector<std::string> requires_dist = {},
                         std::vector<std::string> extras = {}) {
    Distribution d;
    d.name = name;
    d.key = normalize_name(name);
    d.version_text = version;
    d.version = pep440::parse(version);
    d.requires_dist = std::move(requires_dist);
    d.provides_extra = std::move(extras);
    return d;
}

// A scan holding `dists`, sorted by key as scan_site_packages sorts them.
inline SiteScan scan_of(std::vector<Distribution> dists) {
    SiteScan s;
    s.dists = std::move(dists);
    std::sort(s.dists.begin(), s.dists.end(),
              [](const Distribution& a, const Distribution& b) { return a.key < b.key; });
    return s;
}

// The doctor's facts of an AllTalk folder /r whose env /r/env (Python 3.11.9) holds `scan`, as
// fix's tests need them (no ffmpeg check).
inline DoctorFacts facts_with(SiteScan scan) {
    DoctorFacts f;
    f.root.is_alltalk = true;
    f.root.root = "/r";
    PythonEnv env;
    env.dir = "/r/env";
    env.python = env.dir / "bin" / "python";
    env.version = {3, 11, "3.11.9"};
    f.env = env;
    f.scan = scan;
    f.base_scan = std::move(scan);
    f.ffmpeg_checked = false;
    return f;
}

}  // namespace alltalk::test
