// Undo points without pip: the RECORD hash form, RECORD rows, the manifest's JSON and states, the
// fix lock, and a record/restore round trip on a site-packages laid out by hand the way pip
// leaves it (tests/integration/test_fix_undo.py does the same with real pip).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/error.hpp"
#include "fix/lock.hpp"
#include "fix/state_dir.hpp"
#include "fix/undo.hpp"
#include "fix/undo_manifest.hpp"
#include "os/file_lock.hpp"
#include "os/sha256.hpp"
#include "pypa/record.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace alltalk;
using alltalk::test::TempDir;
using alltalk::test::write;

namespace {

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const LaunchError& e) {
        return e.what();
    }
    return "";
}

fix::UndoManifest sample_manifest() {
    fix::UndoManifest m;
    m.id = "20261202-011500-42";
    m.created = "2026-12-02T01:15:00Z";
    m.state = fix::UndoState::Applied;
    m.summary = "six 1.16.0 -> 1.17.0";
    m.site_packages = "/env/lib/python3.11/site-packages";
    m.installs = {"six==1.17.0"};
    m.top_level_before = {"__pycache__", "six-1.16.0.dist-info", "six.py"};
    fix::SavedDist d;
    d.name = "six";
    d.version = "1.16.0";
    d.installer = "pip";
    d.metadata_dir = "six-1.16.0.dist-info";
    d.files = {{"six.py", "sha256=abc", 34549, "files/0/0"},
               {"../../../bin/s ü", "sha256=def", 10, "files/0/1"}};
    d.folders = {"six-1.16.0.dist-info"};
    m.dists = {d};
    m.folder_entries["six-1.16.0.dist-info"] = {"six-1.16.0.dist-info/RECORD"};
    m.changes = {{"six", "1.16.0", "1.17.0"}};
    m.ended = "2026-12-02T01:15:09Z";
    return m;
}

// A prefix env (files only) with one distribution "demo" 1.0: a package folder, a module, a
// script in bin/ and its dist-info with a RECORD (with hashes, and RECORD's own row without).
PythonEnv demo_env(const fs::path& dir) {
    PythonEnv env;
    env.dir = dir;
    env.site_packages = dir / "lib" / "python3.11" / "site-packages";
    env.bin_dir = dir / "bin";
    const fs::path sp = env.site_packages;
    const std::vector<std::pair<std::string, std::string>> files = {
        {"demo/__init__.py", "VERSION = '1.0'\n"},
        {"demo/core.py", "def f():\n    return 1\n"},
        {"demo_mod.py", "x = 1\n"},
        {"../../../bin/demo", "#!/bin/sh\necho demo 1.0\n"},
        {"demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"},
        {"demo-1.0.dist-info/INSTALLER", "pip\n"},
    };
    std::string record;
    for (const auto& [path, text] : files) {
        write((sp / path).lexically_normal(), text);
        record += path + "," + sha256_record_form(sha256_of(text)) + "," +
                  std::to_string(text.size()) + "\n";
    }
    record += "demo-1.0.dist-info/RECORD,,\n";
    write(sp / "demo-1.0.dist-info" / "RECORD", record);
    write(sp / "other" / "keep.py", "untouched\n");                      // another dist's folder
    write(sp / "demo" / "__pycache__" / "core.cpython-311.pyc", "pyc");  // not in RECORD
    return env;
}

}  // namespace

TEST_CASE("the RECORD form of SHA-256: urlsafe base64 without padding") {
    CHECK(sha256_record_form(sha256_of("")) ==
          "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    TempDir tmp;
    write(tmp.path() / "hello.txt", "hello\n");
    CHECK(file_sha256_record(tmp.path() / "hello.txt") ==
          "sha256=WJG1tSLV3whtD_CxEPvZ0hu0_HFjrzTQgoai6Eb2vgM");
    CHECK_FALSE(file_sha256_record(tmp.path() / "missing"));
    // Larger than one read chunk (1 MiB): the streamed digest equals the one of the whole text.
    const std::string big(3 * 1024 * 1024 + 17, 'x');
    write(tmp.path() / "big", big);
    CHECK(file_sha256_record(tmp.path() / "big") == sha256_record_form(sha256_of(big)));
}

TEST_CASE("RECORD rows: quoted paths, missing hashes and sizes") {
    const auto rows = parse_record(
        "six.py,sha256=abc,34549\r\n\"a,b.py\",sha256=x,1\n\"q\"\"uote.py\",,\nsix.dist-info/"
        "RECORD,,\n\n");
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].path == "six.py");
    CHECK(rows[0].hash == "sha256=abc");
    CHECK(rows[0].size == 34549u);
    CHECK(rows[1].path == "a,b.py");
    CHECK(rows[2].path == "q\"uote.py");
    CHECK(rows[2].hash.empty());
    CHECK_FALSE(rows[2].size);
    CHECK(rows[3].path == "six.dist-info/RECORD");
}

TEST_CASE("the undo manifest survives its JSON form") {
    const fix::UndoManifest m = sample_manifest();
    const fix::UndoManifest back = fix::manifest_from_json(fix::to_json(m), m.id);
    CHECK(back.id == m.id);
    CHECK(back.state == fix::UndoState::Applied);
    CHECK(back.summary == m.summary);
    CHECK(back.installs == m.installs);
    CHECK(back.top_level_before == m.top_level_before);
    REQUIRE(back.dists.size() == 1);
    CHECK(back.dists[0].installer == "pip");
    REQUIRE(back.dists[0].files.size() == 2);
    CHECK(back.dists[0].files[1].path == "../../../bin/s ü");
    CHECK(back.dists[0].files[0].size == 34549u);
    CHECK(back.folder_entries == m.folder_entries);
    REQUIRE(back.changes.size() == 1);
    CHECK(back.changes[0].after == "1.17.0");
    CHECK(fix::to_json(back) == fix::to_json(m));
}

TEST_CASE("a damaged manifest is a clear error that names what is wrong") {
    const std::string good = fix::to_json(sample_manifest());
    const auto problem = [](const std::string& text) {
        return error_of([&] { fix::manifest_from_json(text, "20261202-011500-42"); });
    };
    CHECK(problem("{not json").find("is not valid JSON") != std::string::npos);
    CHECK(problem("[1, 2]").find("not a JSON object") != std::string::npos);
    std::string no_dists = good;
    no_dists.replace(no_dists.find("\"dists\""), 7, "\"dist\"");
    CHECK(problem(no_dists).find("has no \"dists\"") != std::string::npos);
    std::string bad_state = good;
    bad_state.replace(bad_state.find("\"applied\""), 9, "\"weird\"");
    CHECK(problem(bad_state).find("\"weird\" is none of the known states") != std::string::npos);
    std::string escape = good;
    escape.replace(escape.find("\"files/0/0\""), 11, "\"../../x\"");
    CHECK(problem(escape).find("not a path inside the point") != std::string::npos);
    std::string bad_hash = good;
    bad_hash.replace(bad_hash.find("\"sha256=abc\""), 12, "\"md5=abc\"");
    CHECK(problem(bad_hash).find("is not a sha256 hash") != std::string::npos);
    std::string bad_size = good;
    bad_size.replace(bad_size.find("34549"), 5, "\"big\"");
    CHECK(problem(bad_size).find("\"size\" is not a size") != std::string::npos);
    // Every one is a paragraph that says what to do.
    CHECK(problem("{").find("fix --forget") != std::string::npos);
}

TEST_CASE("undo states move forward only") {
    using S = fix::UndoState;
    CHECK(fix::can_move(S::Recording, S::Ready));
    CHECK(fix::can_move(S::Ready, S::Applying));
    CHECK(fix::can_move(S::Applying, S::Applied));
    CHECK(fix::can_move(S::Applying, S::Failed));
    CHECK(fix::can_move(S::Applying, S::Restored));
    CHECK(fix::can_move(S::Failed, S::Restored));
    CHECK_FALSE(fix::can_move(S::Recording, S::Applying));
    CHECK_FALSE(fix::can_move(S::Restored, S::Applied));
    CHECK_FALSE(fix::can_move(S::Applied, S::Applying));
    for (S s : {S::Recording, S::Ready, S::Applying, S::Applied, S::Failed, S::Restored}) {
        CHECK(fix::parse_undo_state(fix::to_string(s)) == s);
    }
    fix::UndoManifest m = sample_manifest();
    CHECK(error_of([&] { fix::move_state(m, S::Applying); }).find("cannot become applying") !=
          std::string::npos);
    CHECK(fix::make_undo_id(0, 7) == "19700101-000000-7");
}

TEST_CASE("the fix lock names its holder and ends with it") {
    const fix::LockHolder h{1234, "fix: six 1.16.0 -> 1.17.0", "2026-12-02T01:15:00Z"};
    const fix::LockHolder back = fix::parse_lock_holder(fix::format_lock_holder(h));
    CHECK(back.pid == 1234);
    CHECK(back.what == h.what);
    CHECK(back.since == h.since);
    TempDir tmp;
    const PythonEnv env = demo_env(tmp.path());
    CHECK_FALSE(fix::fix_lock_holder(env));  // no .alltalk-launch at all
    {
        fix::FixLock lock = fix::FixLock::acquire(env, "fix: test");
        const auto holder = fix::fix_lock_holder(env);
        REQUIRE(holder);
        CHECK(holder->what == "fix: test");
        CHECK(holder->pid > 0);
        const std::string second = error_of([&] { fix::FixLock::acquire(env, "again"); });
        CHECK(second.find("Another fix is running") != std::string::npos);
        CHECK(second.find(std::to_string(holder->pid)) != std::string::npos);
        CHECK(error_of([&] {
                  fix::refuse_while_fixing(env, "server");
              }).find("Not starting server") != std::string::npos);
    }
    CHECK_FALSE(fix::fix_lock_holder(env));  // the file stays, the lock is gone
    CHECK(fs::exists(fix::lock_file(env)));
    fix::refuse_while_fixing(env, "server");
}

TEST_CASE("record, a hand-made pip upgrade, restore: the env is back, byte for byte") {
    TempDir tmp;
    const PythonEnv env = demo_env(tmp.path());
    const fs::path sp = env.site_packages;
    const SiteScan scan = scan_site_packages(sp);
    REQUIRE(scan.find("demo"));
    fix::RecordStats stats;
    fix::UndoManifest m =
        fix::record_undo_point(env, scan, {"demo"}, {"demo==2.0"}, "demo 1.0 -> 2.0", {}, &stats);
    CHECK(m.state == fix::UndoState::Ready);
    CHECK(stats.files == 7);
    CHECK(stats.linked == 7);  // one file system: hard links
    CHECK(stats.hashed == 1);  // RECORD gives no hash for itself
    fix::set_undo_state(env, m, fix::UndoState::Applying);
    CHECK(fix::interrupted_undo_point(env)->id == m.id);

    // What pip does: unlink the old files (stash folder left by a kill), write the new ones.
    const std::string old_init = read(sp / "demo" / "__init__.py");
    fs::rename(sp / "demo", sp / "~emo");
    fs::remove(sp / "demo_mod.py");
    fs::remove(env.dir / "bin" / "demo");
    fs::remove_all(sp / "demo-1.0.dist-info");
    write(sp / "demo" / "__init__.py", "VERSION = '2.0'\n");
    write(sp / "demo" / "new_in_2.py", "");
    write(sp / "demo-2.0.dist-info" / "METADATA", "Name: demo\nVersion: 2.0\n");
    write(sp / "demo-2.0.dist-info" / "RECORD",
          "demo/__init__.py,,\ndemo/new_in_2.py,,\n../../../bin/demo2,,\n");
    write(env.dir / "bin" / "demo2", "new script");
    write(sp / "other" / "keep.py", "untouched\n");

    const fix::RestoreResult r = fix::restore_undo_point(env, std::nullopt);
    CHECK(r.id == m.id);
    CHECK(read(sp / "demo" / "__init__.py") == old_init);
    CHECK(read(env.dir / "bin" / "demo") == "#!/bin/sh\necho demo 1.0\n");
    CHECK(fs::exists(sp / "demo-1.0.dist-info" / "RECORD"));
    CHECK_FALSE(fs::exists(sp / "demo-2.0.dist-info"));
    CHECK_FALSE(fs::exists(sp / "~emo"));
    CHECK_FALSE(fs::exists(sp / "demo" / "new_in_2.py"));
    CHECK_FALSE(fs::exists(env.dir / "bin" / "demo2"));
    CHECK(read(sp / "other" / "keep.py") == "untouched\n");
    CHECK(fix::read_undo_point(env, m.id).state == fix::UndoState::Restored);
    CHECK_FALSE(fix::interrupted_undo_point(env));
    // Nothing left to undo; the restored point cannot be undone twice.
    CHECK(error_of([&] { fix::restore_undo_point(env, std::nullopt); }).find("already undone") !=
          std::string::npos);
    CHECK(error_of([&] { fix::restore_undo_point(env, m.id); }).find("already undone") !=
          std::string::npos);
}

TEST_CASE("undo refuses, changing nothing: no point, unknown id, a damaged saved file") {
    TempDir tmp;
    const PythonEnv env = demo_env(tmp.path());
    CHECK(error_of([&] {
              fix::restore_undo_point(env, std::nullopt);
          }).find("no fix has left an undo point") != std::string::npos);
    fix::RecordOptions copies;
    copies.allow_links = false;
    fix::UndoManifest m = fix::record_undo_point(env, scan_site_packages(env.site_packages),
                                                 {"demo"}, {}, "", copies);
    fix::set_undo_state(env, m, fix::UndoState::Applying);
    CHECK(error_of([&] {
              fix::restore_undo_point(env, "nope");
          }).find("There is no undo point nope") != std::string::npos);
    CHECK(error_of([&] { fix::forget_undo_point(env, "../x"); }).find("no undo point") !=
          std::string::npos);
    // A saved copy (not a link here) changed after it was saved.
    const fs::path point = fix::undo_root(env) / m.id;
    write(point / m.dists[0].files[0].saved, "tampered");
    write(env.site_packages / "demo" / "__init__.py", "VERSION = '2.0'\n");
    const std::string e = error_of([&] { fix::restore_undo_point(env, std::nullopt); });
    CHECK(e.find("is damaged") != std::string::npos);
    CHECK(e.find("does not have the hash") != std::string::npos);
    CHECK(read(env.site_packages / "demo" / "__init__.py") == "VERSION = '2.0'\n");
    // A manifest that is not JSON.
    write(point / "manifest.json", "{");
    CHECK(error_of([&] { fix::restore_undo_point(env, m.id); }).find("not valid JSON") !=
          std::string::npos);
    CHECK(fix::list_undo_points(env).at(0).problem.find("not valid JSON") != std::string::npos);
    fix::forget_undo_point(env, m.id);
    CHECK(fix::list_undo_points(env).empty());
}

TEST_CASE("an undo point still being recorded changed nothing: undo says so and removes it") {
    TempDir tmp;
    const PythonEnv env = demo_env(tmp.path());
    fix::RecordOptions stop;
    stop.on_saved = [](std::size_t done, std::size_t) {
        if (done == 3) {
            throw std::runtime_error("stopped");  // as if killed: the point is left half-made
        }
    };
    CHECK_THROWS(
        fix::record_undo_point(env, scan_site_packages(env.site_packages), {"demo"}, {}, "", stop));
    CHECK(fix::list_undo_points(env).empty());  // a failure removes the partial point
    // A point that a kill left in "recording" (written by hand here).
    fix::UndoManifest m;
    m.id = "20261202-000000-1";
    m.created = "2026-12-02T00:00:00Z";
    m.site_packages = env.site_packages.string();
    fs::create_directories(fix::undo_root(env) / m.id);
    fix::save_manifest(env, m);
    const fix::RestoreResult r = fix::restore_undo_point(env, std::nullopt);
    CHECK(r.incomplete);
    CHECK(fix::list_undo_points(env).empty());
}
