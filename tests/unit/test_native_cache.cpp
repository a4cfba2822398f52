// The decision cache: an answer is reused only while every input is unchanged; each input that
// changes (a wheel, a file, a folder, a link, --cudnn, config, a variable) is a miss, and a corrupt
// or foreign entry is a miss too. POSIX only (inputs::supported() is false on Windows).
#ifndef _WIN32
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cudnn/codec.hpp"
#include "cudnn/decision_cache.hpp"
#include "discover/overlay.hpp"
#include "os/inputs.hpp"
#include "os/process.hpp"
#include "start/launch_hint.hpp"
#include "start/native_cache.hpp"
#include "test_support.hpp"

using namespace alltalk;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kCudnn9 = {"libcudnn.so.9", "libcudnn_ops.so.9",
                                          "libcudnn_cnn.so.9"};
const std::vector<std::string> kCudnn8 = {"libcudnn.so.8", "libcudnn_ops_infer.so.8",
                                          "libcudnn_cnn_infer.so.8"};

// The decision as text, without the time it took.
std::string text_of(NativeDecision d) {
    d.elapsed_ms = 0;
    return encode_native_decision(d);
}

// An env with torch pinning cuDNN 9 and its wheel, a system folder with cuDNN 8 and a header.
struct Fixture {
    test::TempDir tmp;
    fs::path dir = tmp.path() / "env";
    fs::path site = dir / "lib" / "python3.11" / "site-packages";
    fs::path wheel = site / "nvidia" / "cudnn" / "lib";
    fs::path sys8 = tmp.path() / "cuda8" / "lib64";
    fs::path runtime = tmp.path() / "runtime";
    NativeFacts facts;
    Fixture() {
        test::write_dist(site, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70", "filelock"});
        test::write_dist(site, "nvidia-cudnn-cu12", "9.1.0.70");
        test::write_dist(site, "filelock", "3.13.1");
        for (int i = 0; i < 30; ++i) {  // with a handful of packages nothing is cached
            test::write_dist(site, "pkg" + std::to_string(i), "1.0");
        }
        test::write_files(wheel, kCudnn9);
        test::write_files(sys8, kCudnn8);
        test::write(sys8.parent_path() / "include" / "cudnn_version.h",
                    "#define CUDNN_MAJOR 8\n#define CUDNN_MINOR 9\n#define CUDNN_PATCHLEVEL 2\n");
        facts.env.dir = dir;
        facts.env.site_packages = site;
        facts.env.python = dir / "bin" / "python3.11";
        facts.platform = Platform::Posix;
        facts.system_dirs = {{{sys8, "CUDA toolkit"}}};
        facts.env_vars = {{"HOME", "/home/u"}};
    }
    // Through the cache; `settle` 0: the files made just now may be cached (the tests change
    // inputs in ways that show in size, inode or existence, never within one timestamp tick).
    NativeDecision cached(CacheOutcome& out, std::chrono::nanoseconds settle = {}) {
        out = {};
        return analyze_native_cached(facts, runtime, &out, settle);
    }
    // Cached once (stored), then: the answer after `change` must be a miss and equal a fresh one.
    void expect_miss_after(const std::function<void()>& change) {
        CacheOutcome out;
        cached(out);
        REQUIRE(out.stored);
        cached(out);
        REQUIRE(out.hit);
        change();
        NativeDecision d = cached(out);
        CHECK_FALSE(out.hit);
        CHECK(text_of(d) == text_of(analyze_native(facts)));
        // and the new answer is cached in turn
        cached(out);
        CHECK(out.hit);
    }
};

fs::path only_entry(const fs::path& runtime, const std::string& prefix) {
    for (const auto& e : fs::directory_iterator(cache_dir_of(runtime))) {
        if (e.path().filename().string().rfind(prefix, 0) == 0) {
            return e.path();
        }
    }
    return {};
}

}  // namespace

TEST_CASE("the cached decision is the selection's own, reused while nothing changed") {
    Fixture f;
    CacheOutcome out;
    NativeDecision first = f.cached(out);
    CHECK_FALSE(out.hit);
    CHECK(out.stored);
    NativeDecision again = f.cached(out);
    CHECK(out.hit);
    CHECK(text_of(again) == text_of(first));
    CHECK(text_of(again) == text_of(analyze_native(f.facts)));
    REQUIRE(again.choices.size() == 1);
    CHECK(again.choices[0].candidate.dir == f.wheel);
    // A private folder of the user's, and nothing written into the env.
    struct stat st {};
    REQUIRE(::stat(cache_dir_of(f.runtime).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(st.st_uid == ::getuid());
    for (const auto& e : fs::recursive_directory_iterator(f.dir)) {
        CHECK(e.path().filename().string().find("cache") == std::string::npos);
    }
    // Variables the selection does not read do not matter.
    f.facts.env_vars["HOME"] = "/home/other";
    f.facts.env_vars["PWD"] = "/somewhere";
    f.cached(out);
    CHECK(out.hit);
}

TEST_CASE("each input that changes is a miss") {
    Fixture f;
    SUBCASE("a wheel installed") {
        f.expect_miss_after([&] { test::write_dist(f.site, "ctranslate2", "4.4.0"); });
    }
    SUBCASE("a wheel removed") {
        f.expect_miss_after(
            [&] { fs::remove_all(f.site / "nvidia_cudnn_cu12-9.1.0.70.dist-info"); });
    }
    SUBCASE("a wheel upgraded (its metadata folder renamed)") {
        f.expect_miss_after([&] {
            fs::remove_all(f.site / "torch-2.4.1.dist-info");
            test::write_dist(f.site, "torch", "2.5.1", {"nvidia-cudnn-cu12==9.1.0.70", "filelock"});
        });
    }
    SUBCASE("a METADATA file rewritten in place") {
        f.expect_miss_after([&] {
            test::write(f.site / "torch-2.4.1.dist-info" / "METADATA",
                        "Metadata-Version: 2.1\nName: torch\nVersion: 2.4.1\n"
                        "Requires-Dist: nvidia-cudnn-cu12==8.9.2.26; platform_system == 'Linux'\n");
        });
    }
    SUBCASE("a METADATA file replaced by another file") {
        f.expect_miss_after([&] {
            const fs::path meta = f.site / "filelock-3.13.1.dist-info" / "METADATA";
            test::write(meta.string() + ".new",
                        "Metadata-Version: 2.1\nName: filelock\nVersion: 3.13.1\n");
            fs::rename(meta.string() + ".new", meta);
        });
    }
    SUBCASE("a cuDNN file removed from the chosen folder") {
        f.expect_miss_after([&] { fs::remove(f.wheel / "libcudnn_ops.so.9"); });
    }
    SUBCASE("a cuDNN file added to a package's folder") {
        f.expect_miss_after(
            [&] { test::write_files(f.site / "torch" / "lib", {"libcudnn.so.9"}); });
    }
    SUBCASE("cudnn_version.h changed beside a system folder") {
        f.expect_miss_after([&] {
            test::write(f.sys8.parent_path() / "include" / "cudnn_version.h",
                        "#define CUDNN_MAJOR 8\n#define CUDNN_MINOR 9\n#define CUDNN_PATCHLEVEL 7\n"
                        "/* 8.9.7 */\n");
        });
    }
    SUBCASE("a conda cudnn package installed") {
        f.expect_miss_after(
            [&] { test::write(f.dir / "conda-meta" / "cudnn-8.9.2-h0_0.json", "{}"); });
    }
    SUBCASE("a folder on the way re-pointed (a link)") {
        const fs::path a = f.tmp.path() / "a", b = f.tmp.path() / "b";
        test::write_files(a, kCudnn8);
        test::write_files(b, kCudnn8);
        test::write_files(b, {"libcudnn.so.8.9.7"});
        fs::create_directory_symlink(a, f.tmp.path() / "link");
        f.facts.system_dirs->push_back({f.tmp.path() / "link", "LD_LIBRARY_PATH"});
        f.expect_miss_after([&] {
            fs::remove(f.tmp.path() / "link");
            fs::create_directory_symlink(b, f.tmp.path() / "link");
        });
    }
    SUBCASE("--cudnn or [native] cudnn named") {
        f.expect_miss_after([&] {
            f.facts.override_dir = f.sys8.parent_path();
            f.facts.override_source = "--cudnn";
        });
    }
    SUBCASE("[native] cudnn_majors changed") {
        f.expect_miss_after([&] {
            f.facts.configured_majors = {8};
            f.facts.configured_source = "alltalk-launch.toml";
        });
    }
    SUBCASE("CUDA_PATH set") {
        f.expect_miss_after([&] { f.facts.env_vars["CUDA_PATH"] = f.sys8.parent_path().string(); });
    }
    SUBCASE("LD_LIBRARY_PATH changed") {
        f.expect_miss_after([&] { f.facts.env_vars["LD_LIBRARY_PATH"] = "/opt/cudnn/lib"; });
    }
    SUBCASE("another env") {
        f.expect_miss_after([&] { f.facts.env.python = f.dir / "bin" / "python3"; });
    }
}

TEST_CASE("a corrupt, truncated or foreign cache entry is a miss, then replaced") {
    Fixture f;
    CacheOutcome out;
    const std::string fresh = text_of(f.cached(out));
    REQUIRE(out.stored);
    const fs::path entry = only_entry(f.runtime, "cudnn-");
    REQUIRE(!entry.empty());
    std::string text;
    {
        std::ifstream in(entry, std::ios::binary);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    for (const std::string& bad :
         {std::string(), std::string("garbage"), text.substr(0, text.size() / 2),
          text.substr(0, text.size() - 1), text + "x",
          text.substr(0, text.size() - 40) + std::string(40, '\0')}) {
        std::ofstream(entry, std::ios::binary | std::ios::trunc) << bad;
        CHECK(text_of(f.cached(out)) == fresh);
        CHECK_FALSE(out.hit);
        CHECK(out.stored);
    }
    // An entry whose answer this launcher cannot read.
    CacheEntry e = *decode_cache_entry(text);
    e.payload = "not a decision";
    std::ofstream(entry, std::ios::binary | std::ios::trunc) << encode_cache_entry(e);
    CHECK(text_of(f.cached(out)) == fresh);
    CHECK_FALSE(out.hit);
    f.cached(out);
    CHECK(out.hit);
}

TEST_CASE("inputs changed just now are not cached; a folder that is not private is not used") {
    Fixture f;
    CacheOutcome out;
    f.cached(out, std::chrono::seconds(2));  // the fixture's files are seconds old at most
    CHECK_FALSE(out.stored);
    CHECK(out.why.find("changed just now") != std::string::npos);
    f.cached(out, std::chrono::seconds(2));
    CHECK_FALSE(out.hit);

    fs::create_directories(f.runtime);
    fs::permissions(f.runtime, fs::perms::all);  // 0777: another user could have made it
    f.cached(out);
    CHECK_FALSE(out.stored);
    CHECK_FALSE(out.hit);
    CHECK(text_of(f.cached(out)) == text_of(analyze_native(f.facts)));
}

TEST_CASE("with a handful of packages the selection is made directly") {
    test::TempDir tmp;
    NativeFacts facts;
    facts.env.dir = tmp.path() / "env";
    facts.env.site_packages = facts.env.dir / "lib" / "python3.11" / "site-packages";
    facts.platform = Platform::Posix;
    facts.system_dirs.emplace();
    test::write_dist(facts.env.site_packages, "torch", "2.4.1", {"nvidia-cudnn-cu12==9.1.0.70"});
    CacheOutcome out;
    NativeDecision d = analyze_native_cached(facts, tmp.path() / "runtime", &out, {});
    CHECK_FALSE(out.stored);
    CHECK_FALSE(fs::exists(tmp.path() / "runtime"));
    CHECK(text_of(d) == text_of(analyze_native(facts)));
}

TEST_CASE("the cache key: every fact the selection reads, and nothing else") {
    Fixture f;
    const std::string base = native_cache_key(f.facts, "launcher 1");
    CHECK(native_cache_key(f.facts, "launcher 1") == base);
    CHECK(native_cache_key(f.facts, "launcher 2") != base);  // another build of the launcher
    auto differs = [&](const std::function<void(NativeFacts&)>& change) {
        NativeFacts g = f.facts;
        change(g);
        return native_cache_key(g, "launcher 1") != base;
    };
    CHECK(differs([](NativeFacts& g) { g.platform = Platform::Windows; }));
    CHECK(differs([](NativeFacts& g) { g.env.site_packages = "/other"; }));
    CHECK(differs([](NativeFacts& g) { g.override_dir = "/opt/cudnn"; }));
    CHECK(differs([](NativeFacts& g) { g.override_source = "[native] cudnn"; }));
    CHECK(differs([](NativeFacts& g) { g.configured_majors = {9}; }));
    CHECK(differs([](NativeFacts& g) { g.search_without_needs = true; }));
    CHECK(differs([](NativeFacts& g) { g.system_dirs.reset(); }));
    CHECK(differs([](NativeFacts& g) { g.system_dirs->push_back({"/usr/lib", "x"}); }));
    CHECK(differs([](NativeFacts& g) { g.env_vars["CUDA_PATH_V12_4"] = "/cuda"; }));
    CHECK(differs([](NativeFacts& g) { g.env_vars["LD_LIBRARY_PATH"] = "/x"; }));
    CHECK_FALSE(differs([](NativeFacts& g) { g.env_vars["PATH"] = "/bin"; }));  // not read on Linux
    CHECK(differs([](NativeFacts& g) {
        g.platform = Platform::Windows;
        g.env_vars["PATH"] = "C:\\cuda";
    }));
    // Fields are length-prefixed: moving text between two facts changes the key.
    NativeFacts a = f.facts, b = f.facts;
    a.override_source = "ab";
    a.configured_source = "c";
    b.override_source = "a";
    b.configured_source = "bc";
    CHECK(native_cache_key(a, "l") != native_cache_key(b, "l"));
}

TEST_CASE("cache entries: text round trip; anything else is no entry") {
    CacheEntry e;
    e.key = "k\n1 x\n";
    e.inputs = {{'s', "/a b\nc", "1:2:3", 0}, {'c', "/l", "/real", 0}};
    e.payload = std::string("p\0q", 3);
    const std::string text = encode_cache_entry(e);
    auto back = decode_cache_entry(text);
    REQUIRE(back);
    CHECK(back->key == e.key);
    REQUIRE(back->inputs.size() == 2);
    CHECK(back->inputs[0].path == "/a b\nc");
    CHECK(back->inputs[1].kind == 'c');
    CHECK(back->payload == e.payload);
    for (std::size_t n = 0; n < text.size(); ++n) {
        CHECK_FALSE(decode_cache_entry(text.substr(0, n)));
    }
    CHECK_FALSE(decode_cache_entry(text + "\n"));
    std::string other_kind = text;
    other_kind.replace(other_kind.find("1 s\n"), 4, "1 z\n");
    CHECK_FALSE(decode_cache_entry(other_kind));
    CHECK(cache_entry_mismatch(*back, e.key, [](const inputs::Observation&) {
              return true;
          }).empty());
    CHECK(cache_entry_mismatch(*back, "other", [](const inputs::Observation&) { return true; }) !=
          "");
    CHECK(cache_entry_mismatch(*back, e.key, [](const inputs::Observation& o) {
              return o.kind != 'c';
          }) == "/l changed");
}

TEST_CASE("inputs: signatures tell absent, changed and replaced files apart") {
    test::TempDir tmp;
    const fs::path p = tmp.path() / "f";
    CHECK(inputs::signature(p) == "absent");
    test::write(p, "one");
    CHECK(inputs::signature(p / "under a file") == "absent");
    const std::string one = inputs::signature(p);
    CHECK(one != "absent");
    CHECK(inputs::signature(p) == one);
    test::write(p, "three");
    CHECK(inputs::signature(p) != one);
    {
        inputs::Recording rec;
        inputs::note(p);
        inputs::note(p);  // once
        inputs::note(tmp.path());
        auto seen = rec.take();
        REQUIRE(seen.size() == 2);
        CHECK(inputs::still_holds(seen[0]));
        test::write(p, "four!");
        CHECK_FALSE(inputs::still_holds(seen[0]));
        CHECK(inputs::still_holds(seen[1]));
    }
    inputs::Recording outer;
    inputs::note(p);
    CHECK(outer.take().size() == 1);
}

TEST_CASE("inputs: first_changed names the first change, looking inside unchanged folders only") {
    test::TempDir tmp;
    int round = 0;
    // A site-packages-like tree, recorded as the cuDNN scan records it: the folder, a METADATA
    // inside an unrecorded dist-info folder, an absent <pkg>.libs (covered by the folder), an
    // absent <pkg>/lib (pkg not recorded: looked at), an absent path in an absent folder elsewhere
    // (recorded as that folder), an absent <nopkg>/lib (recorded as <nopkg>: covered by the
    // folder).
    struct Tree {
        fs::path site;
        std::vector<inputs::Observation> seen;
    };
    auto make = [&] {
        Tree t;
        t.site = tmp.path() / ("r" + std::to_string(++round)) / "site";
        test::write(t.site / "a-1.0.dist-info" / "METADATA", "Name: a\nVersion: 1.0\n");
        fs::create_directories(t.site / "pkg");
        // Back-dated, so that a change in the same clock tick still shows (the cache stores an
        // entry only when its inputs have settled, for the same reason).
        const auto past = fs::file_time_type::clock::now() - std::chrono::hours(1);
        for (const fs::path& d : {t.site / "pkg", t.site / "a-1.0.dist-info", t.site}) {
            fs::last_write_time(d, past);
        }
        inputs::Recording rec;
        for (const fs::path& p :
             {t.site, t.site / "a-1.0.dist-info" / "METADATA", t.site / "pkg.libs",
              t.site / "pkg" / "lib", t.site.parent_path() / "elsewhere" / "x",
              t.site / "nopkg" / "lib"}) {
            inputs::note(p);
        }
        t.seen = rec.take();
        REQUIRE(t.seen.size() == 6);
        CHECK(inputs::is_folder_signature(t.seen[0].seen));
        CHECK_FALSE(inputs::is_folder_signature(t.seen[1].seen));
        CHECK_FALSE(inputs::is_folder_signature(t.seen[2].seen));  // absent
        CHECK(t.seen[3].path == (t.site / "pkg" / "lib").string());
        CHECK(t.seen[4].path == (t.site.parent_path() / "elsewhere").string());
        CHECK(t.seen[5].path == (t.site / "nopkg").string());
        CHECK(t.seen[5].seen == "absent");
        return t;
    };
    // first_changed agrees with checking every input one by one (what it replaces).
    auto one_by_one = [](const std::vector<inputs::Observation>& seen) {
        for (const auto& o : seen) {
            if (!inputs::still_holds(o)) {
                return true;
            }
        }
        return false;
    };

    Tree t = make();
    CHECK(inputs::first_changed(t.seen) == "");
    CHECK_FALSE(one_by_one(t.seen));

    t = make();  // a file inside the folder, written in place: the folder is unchanged
    test::write(t.site / "a-1.0.dist-info" / "METADATA", "Name: a\nVersion: 1.0\nX: y\n");
    CHECK(inputs::first_changed(t.seen) == (t.site / "a-1.0.dist-info" / "METADATA").string());

    t = make();  // the absent <pkg>.libs appears: the folder changed, and that is what is said
    fs::create_directories(t.site / "pkg.libs");
    CHECK(inputs::first_changed(t.seen) == t.site.string());
    CHECK(one_by_one(t.seen));

    t = make();  // <pkg>/lib appears in a folder that was not recorded: found by its own stat
    fs::create_directories(t.site / "pkg" / "lib");
    CHECK(inputs::first_changed(t.seen) == (t.site / "pkg" / "lib").string());

    t = make();  // an absent path elsewhere appears: its folder, recorded absent, is what is said
    test::write(t.site.parent_path() / "elsewhere" / "x", "x");
    CHECK(inputs::first_changed(t.seen) == (t.site.parent_path() / "elsewhere").string());
    CHECK(one_by_one(t.seen));

    t = make();  // that folder appears, still without the path: a change too (the safe side)
    fs::create_directories(t.site.parent_path() / "elsewhere");
    CHECK(inputs::first_changed(t.seen) == (t.site.parent_path() / "elsewhere").string());

    t = make();  // <nopkg>/lib appears: <nopkg> is new in the folder, so the folder changed
    fs::create_directories(t.site / "nopkg" / "lib");
    CHECK(inputs::first_changed(t.seen) == t.site.string());
    CHECK(one_by_one(t.seen));

    t = make();  // the folder replaced by a copy: said, and nothing is compared inside the copy
    fs::rename(t.site, t.site.parent_path() / "old");
    fs::create_directories(t.site);
    fs::copy(t.site.parent_path() / "old", t.site, fs::copy_options::recursive);
    CHECK(inputs::first_changed(t.seen) == t.site.string());
    CHECK(one_by_one(t.seen));

    // The allocation-free comparison agrees with the signature text.
    const fs::path f = tmp.path() / "f";
    test::write(f, "one");
    CHECK(inputs::signature_is(f.string(), inputs::signature(f)));
    CHECK(inputs::signature_is((tmp.path() / "none").string(), "absent"));
    CHECK_FALSE(inputs::signature_is(f.string(), "absent"));
}

TEST_CASE("torch's architectures: cached while libtorch_cuda.so is unchanged") {
    test::TempDir tmp;
    const fs::path site = tmp.path() / "site", runtime = tmp.path() / "runtime";
    CacheOutcome out;
    CHECK_FALSE(read_torch_archs_cached(site, runtime, &out, {}));  // no torch: nothing cached
    CHECK_FALSE(out.stored);
    const fs::path lib = site / "torch" / "lib" / "libtorch_cuda.so";
    test::write(lib, "not an ELF file");
    CHECK_FALSE(read_torch_archs_cached(site, runtime, &out, {}));
    CHECK(out.stored);
    CHECK_FALSE(read_torch_archs_cached(site, runtime, &out, {}));
    CHECK(out.hit);
    test::write(lib, "still not an ELF file");
    CHECK_FALSE(read_torch_archs_cached(site, runtime, &out, {}));
    CHECK_FALSE(out.hit);
}

namespace {

// Sets (or unsets, with nullptr) a variable for one test case and puts it back after.
class ScopedVar {
  public:
    ScopedVar(const char* name, const char* value) : name_(name) {
        if (const char* v = std::getenv(name)) {
            old_ = v;
        }
        value ? ::setenv(name, value, 1) : ::unsetenv(name);
    }
    ~ScopedVar() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }
    ScopedVar(const ScopedVar&) = delete;
    ScopedVar& operator=(const ScopedVar&) = delete;

  private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("the GPU probe's result: kept while what decides it is unchanged") {
    test::TempDir tmp;
    const fs::path runtime = tmp.path() / "runtime";
    const fs::path cudart = tmp.path() / "site" / "nvidia" / "cu13" / "lib" / "libcudart.so.13";
    test::write(cudart, "a runtime");
    const std::vector<fs::path> candidates = {cudart, "libcudart.so.13"};
    ScopedVar visible("CUDA_VISIBLE_DEVICES", nullptr);
    const std::string report = "lib " + cudart.string() +
                               "\ndriver 12080\nruntime 13000\npresent 1\n"
                               "device 0 12 0 34190000000 NVIDIA GeForce RTX 5090\n";
    ProbeCacheSlot slot;
    CacheOutcome out;
    CHECK_FALSE(read_gpu_probe_cached(candidates, runtime, slot, &out));
    CHECK(out.why == "no entry yet");
    REQUIRE_FALSE(slot.file.empty());
    // Just written: a change within the file system's timestamp granularity could go unseen.
    CHECK_FALSE(store_gpu_probe(slot, report));
    CHECK(store_gpu_probe(slot, report, {}));
    auto kept = read_gpu_probe_cached(candidates, runtime, slot, &out);
    REQUIRE(kept);
    CHECK(out.hit);
    CHECK(kept->kept);
    REQUIRE(kept->devices.size() == 1);
    CHECK(kept->devices[0].cc_major == 12);
    CHECK(kept->runtime_version == 13000);
    {
        // Another GPU selection is another key.
        ScopedVar other("CUDA_VISIBLE_DEVICES", "1");
        CHECK_FALSE(read_gpu_probe_cached(candidates, runtime, slot, &out));
    }
    CHECK(read_gpu_probe_cached(candidates, runtime, slot, &out));
    // The runtime replaced (an upgrade of the wheel): probed again.
    test::write(cudart, "another runtime");
    CHECK_FALSE(read_gpu_probe_cached(candidates, runtime, slot, &out));
    CHECK(store_gpu_probe(slot, report, {}));
    CHECK(read_gpu_probe_cached(candidates, runtime, slot, &out));
    // A passing failure is never kept; the entry it would replace stays.
    CHECK_FALSE(store_gpu_probe(slot, "note the GPU probe did not answer within 10 s\n", {}));
    CHECK(read_gpu_probe_cached(candidates, runtime, slot, &out));
    // A corrupt entry is no entry.
    test::write(slot.file, "garbage");
    CHECK_FALSE(read_gpu_probe_cached(candidates, runtime, slot, &out));
    CHECK(out.why == "not a cache entry");
    // The check that rode along with the probe is that launch's own, never kept.
    CHECK(store_gpu_probe(slot, report + "inputs_changed /x\n", {}));
    kept = read_gpu_probe_cached(candidates, runtime, slot, &out);
    REQUIRE(kept);
    CHECK_FALSE(kept->inputs_changed.has_value());
}

TEST_CASE("an overlay's state: kept while overlay.json, site-packages and the requirements hold") {
    test::TempDir tmp;
    const fs::path runtime = tmp.path() / "runtime";
    PythonEnv env;
    env.dir = tmp.path() / "env";
    env.site_packages = env.dir / "lib" / "python3.11" / "site-packages";
    fs::create_directories(env.site_packages / "gradio-4.44.1.dist-info");
    const std::vector<std::string> reqs = {"gradio==3.50.2", "pydantic < 2"};
    overlay::Manifest m;
    m.requirements = reqs;
    m.distributions = {{"gradio", "3.50.2"}, {"pydantic", "1.10.27"}};
    m.inputs_hash = overlay::inputs_hash(reqs, overlay::dist_info_names(env.site_packages));
    const fs::path json = overlay::overlay_dir(env, "finetune") / overlay::kManifestFile;
    test::write(json, overlay::encode_manifest(m));
    CacheOutcome out;
    // Just written: checked, not kept.
    CHECK(check_overlay_cached(env, "finetune", reqs, runtime, &out).state ==
          overlay::State::Current);
    CHECK_FALSE(out.stored);
    CHECK(check_overlay_cached(env, "finetune", reqs, runtime, &out, {}).state ==
          overlay::State::Current);
    CHECK(out.stored);
    overlay::Status s = check_overlay_cached(env, "finetune", reqs, runtime, &out, {});
    CHECK(out.hit);
    CHECK(s.state == overlay::State::Current);
    CHECK(s.dir == json.parent_path());
    REQUIRE(s.manifest);
    CHECK(s.manifest->distributions == m.distributions);
    CHECK(s.manifest->requirements == reqs);
    CHECK(s.manifest->inputs_hash == m.inputs_hash);
    // The base env changes (a distribution installed): stale, and that is kept too. (After a
    // pause longer than the file system's timestamp tick, as a user's would be.)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fs::create_directories(env.site_packages / "spacy-3.8.2.dist-info");
    CHECK(check_overlay_cached(env, "finetune", reqs, runtime, &out, {}).state ==
          overlay::State::Stale);
    CHECK_FALSE(out.hit);
    CHECK(check_overlay_cached(env, "finetune", reqs, runtime, &out, {}).state ==
          overlay::State::Stale);
    CHECK(out.hit);
    // Other requirements: checked again.
    CHECK(check_overlay_cached(env, "finetune", {"gradio==3.50.2"}, runtime, &out, {}).state ==
          overlay::State::Stale);
    CHECK_FALSE(out.hit);
    // A damaged overlay.json is found at once, and never kept.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    test::write(json, "{ not json");
    s = check_overlay_cached(env, "finetune", reqs, runtime, &out, {});
    CHECK(s.state == overlay::State::Corrupt);
    CHECK_FALSE(out.hit);
    CHECK_FALSE(out.stored);
    CHECK(check_overlay_cached(env, "finetune", reqs, runtime, &out, {}).state ==
          overlay::State::Corrupt);
    CHECK_FALSE(out.hit);
    // Removed: missing.
    fs::remove_all(json.parent_path());
    CHECK(check_overlay_cached(env, "finetune", reqs, runtime, &out, {}).state ==
          overlay::State::Missing);
    CHECK_FALSE(out.hit);
}
#endif

TEST_CASE("a launch's remembered LD_LIBRARY_PATH: found again only by the same launch") {
    test::TempDir tmp;
    const fs::path runtime = tmp.path() / "runtime";
    fs::create_directories(runtime);
    fs::permissions(runtime, fs::perms::owner_all, fs::perm_options::replace);
    ScopedVar xdg("XDG_RUNTIME_DIR", runtime.c_str());
    ScopedVar extra("ALLTALK_TEST_SETTING", nullptr);
    const std::vector<std::string> args = {"--env", "/some/env", "server"};

    CHECK_FALSE(read_launch_hint(args).value);  // none yet: one failed open
    REQUIRE(store_launch_hint(args, "/links/cudnn-1:/user/lib"));
    const LaunchHint hint = read_launch_hint(args);
    CHECK(hint.value == std::optional<std::string>("/links/cudnn-1:/user/lib"));
    CHECK(fs::path(hint.file).parent_path() == runtime / "alltalk-launch" / "cache");

    // Another argument or another variable is another launch; the launcher's own hand-over
    // variables are not part of it.
    CHECK_FALSE(read_launch_hint({"--env", "/some/env", "finetune"}).value);
    {
        ScopedVar set("ALLTALK_TEST_SETTING", "1");
        CHECK_FALSE(read_launch_hint(args).value);
    }
    {
        ScopedVar handover("ALLTALK_LAUNCH_HINTED", "-");
        CHECK(read_launch_hint(args).value);
    }
    CHECK(read_launch_hint(args).value);

    // Only from the user's private folder, and only a well-formed value.
    fs::permissions(runtime / "alltalk-launch", fs::perms::all, fs::perm_options::replace);
    CHECK_FALSE(read_launch_hint(args).value);
    fs::permissions(runtime / "alltalk-launch", fs::perms::owner_all, fs::perm_options::replace);
    for (const char* text :
         {"", "alltalk-launch launch hint 1\n", "alltalk-launch launch hint 1\n\n",
          "something else\n/links\n", "alltalk-launch launch hint 1\n/links"}) {
        std::ofstream(hint.file, std::ios::trunc) << text;
        CHECK_FALSE(read_launch_hint(args).value);
    }
}

TEST_CASE("the environment's digest: every entry counts, in any order, but the skipped prefix") {
    ScopedVar a("ALLTALK_TEST_A", nullptr);
    ScopedVar b("ALLTALK_TEST_B", nullptr);
    const std::uint64_t none = process::environment_digest("ALLTALK_LAUNCH_");
    ::setenv("ALLTALK_TEST_A", "1", 1);
    ::setenv("ALLTALK_TEST_B", "2", 1);
    const std::uint64_t ab = process::environment_digest("ALLTALK_LAUNCH_");
    CHECK(ab != none);
    ::unsetenv("ALLTALK_TEST_A");
    ::unsetenv("ALLTALK_TEST_B");
    ::setenv("ALLTALK_TEST_B", "2", 1);  // the other order in environ
    ::setenv("ALLTALK_TEST_A", "1", 1);
    CHECK(process::environment_digest("ALLTALK_LAUNCH_") == ab);
    ::setenv("ALLTALK_TEST_A", "3", 1);
    CHECK(process::environment_digest("ALLTALK_LAUNCH_") != ab);
    ::setenv("ALLTALK_TEST_A", "1", 1);
    {
        ScopedVar skipped("ALLTALK_LAUNCH_SOMETHING", "x");
        CHECK(process::environment_digest("ALLTALK_LAUNCH_") == ab);
        CHECK(process::environment_digest("") != process::environment_digest("ALLTALK_LAUNCH_"));
    }
}

TEST_CASE("inputs::canonical is fs::canonical; read_small reads small files only") {
    test::TempDir tmp;
    fs::create_directories(tmp.path() / "real" / "lib");
    fs::create_directory_symlink(tmp.path() / "real", tmp.path() / "link");
    const fs::path through = tmp.path() / "link" / "lib" / ".." / "lib";
    CHECK(inputs::canonical(through) == fs::canonical(through));
    CHECK(inputs::canonical(through) == fs::canonical(tmp.path() / "real" / "lib"));
    CHECK(inputs::canonical(tmp.path() / "missing").empty());

    std::string out;
    std::ofstream(tmp.path() / "f") << "0123456789";
    CHECK(inputs::read_small(tmp.path() / "f", out, 10));
    CHECK(out == "0123456789");
    CHECK_FALSE(inputs::read_small(tmp.path() / "f", out, 9));
    CHECK_FALSE(inputs::read_small(tmp.path() / "missing", out, 10));
}
