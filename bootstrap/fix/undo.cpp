#include "fix/undo.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "base/error.hpp"
#include "base/files.hpp"
#include "fix/state_dir.hpp"
#include "os/durable.hpp"
#include "os/process.hpp"
#include "os/sha256.hpp"
#include "pypa/record.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

namespace {

std::string u8(const fs::path& p) {
    return process::to_utf8(p);
}

[[noreturn]] void not_writable(const fs::path& where, const std::error_code& ec,
                               const std::string& doing) {
    throw LaunchError(Stage::Fix,
                      ErrorText{"Cannot " + doing + ": " + u8(where) + " is not writable (" +
                                    ec.message() + "). Nothing was changed.",
                                "",
                                "Run alltalk-launch as the user who owns the env, or make the env "
                                "writable (it may be on a read-only disk)."});
}

[[noreturn]] void no_space(const fs::path& where, const std::error_code& ec) {
    throw LaunchError(
        Stage::Fix,
        ErrorText{"There is no room for the undo point in " + u8(where) + " (" + ec.message() +
                      "). The partial undo point was removed and nothing was changed.",
                  "",
                  "Free some space on that disk (or remove old undo points with `alltalk-launch "
                  "fix --history` and `fix --forget ID`), then run the fix again."});
}

[[noreturn]] void cannot(const std::string& what, const fs::path& where,
                         const std::error_code& ec) {
    if (files::is_out_of_space(ec)) {
        no_space(where, ec);
    }
    if (ec == std::errc::permission_denied || ec == std::errc::read_only_file_system ||
        ec == std::errc::operation_not_permitted) {
        not_writable(where, ec, what);
    }
    throw LaunchError(Stage::Fix, ErrorText{"Cannot " + what + " (" + u8(where) + ": " +
                                                ec.message() + "). Nothing was changed.",
                                            "", "Check the disk and run it again."});
}

fs::path point_dir(const PythonEnv& env, const std::string& id) {
    return undo_root(env) / process::from_utf8(id);
}

fs::path manifest_path(const PythonEnv& env, const std::string& id) {
    return point_dir(env, id) / "manifest.json";
}

// `p` relative to `base`, '/'-separated UTF-8 (as RECORD writes paths).
std::string rel_text(const fs::path& p, const fs::path& base) {
    std::string out = u8(p.lexically_relative(base));
    std::replace(out.begin(), out.end(), '\\', '/');
    return out;
}

// A RECORD path (relative to site-packages) as a path of this machine, normalised.
fs::path in_site(const PythonEnv& env, const std::string& rel) {
    return (env.site_packages / process::from_utf8(rel)).lexically_normal();
}

// Whether `p` (normalised) is inside `dir` (normalised).
bool is_inside(const fs::path& p, const fs::path& dir) {
    const fs::path rel = p.lexically_relative(dir);
    return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

// The first component of a path relative to site-packages, when it is inside it.
std::string top_component(const std::string& rel) {
    if (rel.rfind("../", 0) == 0 || rel == "..") {
        return {};
    }
    return rel.substr(0, rel.find('/'));
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

// Saves one file into the point: a hard link where allowed, else a flushed copy under a
// temporary name, renamed. Out of space and similar failures throw.
void save_file(const fs::path& src, const fs::path& dst, bool allow_links, RecordStats& stats,
               std::uint64_t size) {
    std::error_code ec;
    if (allow_links) {
        fs::create_hard_link(src, dst, ec);
        if (!ec) {
            ++stats.linked;
            return;
        }
        if (files::is_out_of_space(ec)) {
            no_space(dst.parent_path(), ec);
        }
        // Another device, a file system without links, or protected_hardlinks: copy.
    }
    fs::path tmp = dst;
    tmp += ".tmp";
    ec = files::copy_file_synced(src, tmp);
    if (!ec) {
        fs::rename(tmp, dst, ec);
    }
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        cannot("save " + u8(src) + " for the undo point", dst.parent_path(), ec);
    }
    ++stats.copied;
    stats.copied_bytes += size;
}

// Whether a hard link of one of the files to save can be made in `into` (the probe is removed).
bool can_link_into(const PythonEnv& env, const std::vector<std::vector<RecordEntry>>& records,
                   const fs::path& into) {
    for (const auto& entries : records) {
        for (const auto& e : entries) {
            const fs::path src = in_site(env, e.path);
            std::error_code ec;
            if (!fs::is_regular_file(fs::symlink_status(src, ec)) || ec) {
                continue;
            }
            const fs::path probe = into / ".link-probe";
            fs::create_hard_link(src, probe, ec);
            std::error_code ignored;
            fs::remove(probe, ignored);
            return !ec;
        }
    }
    return true;  // nothing to link
}

// Copies of every file need their size in free space: checked before the first copy, so that a
// full drive is said before anything is written (pip's own downloads are pip's to check).
void require_space_for_copies(const PythonEnv& env,
                              const std::vector<std::vector<RecordEntry>>& records,
                              const fs::path& into) {
    std::uint64_t need = 0;
    for (const auto& entries : records) {
        for (const auto& e : entries) {
            std::error_code ec;
            const fs::path src = in_site(env, e.path);
            if (fs::is_regular_file(fs::symlink_status(src, ec)) && !ec) {
                need += fs::file_size(src, ec);
            }
        }
    }
    std::error_code ec;
    const fs::space_info space = fs::space(into, ec);
    if (ec || space.available >= need) {
        return;
    }
    const auto kb = [](std::uint64_t b) { return std::to_string((b + 1023) >> 10); };
    throw LaunchError(
        Stage::Fix,
        ErrorText{"There is no room for the undo point in " + u8(into) +
                      ": it copies the files "
                      "it saves (this drive does not allow hard links between them), which needs " +
                      kb(need) + " kB, and " + kb(space.available) +
                      " kB are free. The partial undo point was removed and nothing was changed.",
                  "",
                  "Free some space on that drive (or remove old undo points with "
                  "`alltalk-launch fix --history` and `fix --forget ID`), then run the fix "
                  "again."});
}

// Every path inside `folder`, relative to site-packages, folders ending in '/'.
std::vector<std::string> list_folder(const fs::path& site, const fs::path& folder) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        std::string rel = rel_text(it->path(), site);
        std::error_code sec;
        if (it->is_directory(sec) && !it->is_symlink(sec)) {
            rel += '/';
        }
        out.push_back(std::move(rel));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> top_level_entries(const fs::path& site) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(site, ec), end; !ec && it != end; it.increment(ec)) {
        out.push_back(u8(it->path().filename()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

void save_manifest(const PythonEnv& env, const UndoManifest& m) {
    const fs::path path = manifest_path(env, m.id);
    if (std::error_code ec = files::replace_file_atomically(path, to_json(m))) {
        cannot("write " + u8(path), path.parent_path(), ec);
    }
}

void set_undo_state(const PythonEnv& env, UndoManifest& m, UndoState to) {
    move_state(m, to);
    if (to == UndoState::Applied || to == UndoState::Failed || to == UndoState::Restored) {
        m.ended = utc_text(std::time(nullptr));
    }
    save_manifest(env, m);
}

namespace {

// A new point's folder (a fresh id) and its manifest, state Recording, not yet saved.
UndoManifest new_point(const PythonEnv& env, const std::string& summary,
                       const std::vector<std::string>& installs, fs::path& dir) {
    const fs::path root = undo_root(env);
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) {
        cannot("create " + u8(root), root, ec);
    }
    const std::time_t now = std::time(nullptr);
    UndoManifest m;
    m.id = make_undo_id(now, process::current_pid());
    dir = point_dir(env, m.id);
    for (int n = 2; fs::exists(dir, ec); ++n) {  // two fixes in one second of one process
        m.id = make_undo_id(now, process::current_pid()) + "-" + std::to_string(n);
        dir = point_dir(env, m.id);
    }
    if (!fs::create_directory(dir, ec) || ec) {
        cannot("create " + u8(dir), root, ec);
    }
    m.created = utc_text(now);
    m.state = UndoState::Recording;
    m.summary = summary;
    m.site_packages = u8(env.site_packages);
    m.installs = installs;
    return m;
}

// The RECORD of each distribution replaced; one without a RECORD cannot be undone.
std::vector<std::vector<RecordEntry>> records_of(const std::vector<const Distribution*>& dists) {
    std::vector<std::vector<RecordEntry>> records;
    for (const Distribution* d : dists) {
        auto entries = record_entries(*d);
        if (!entries) {
            throw LaunchError(
                Stage::Fix,
                ErrorText{d->name + " " + d->version_text + " has no list of its files (" +
                              u8(d->metadata_dir / "RECORD") +
                              " is missing), so a fix could not be undone. Nothing was changed.",
                          "",
                          "Reinstall it first (pip install --force-reinstall --no-deps " + d->name +
                              "==" + d->version_text + "), then run the fix again."});
        }
        records.push_back(std::move(*entries));
    }
    return records;
}

// Saves the files of the replaced distributions into a point's folder, linked or copied.
struct Recorder {
    const PythonEnv& env;
    const fs::path& dir;
    const RecordOptions& options;
    fs::path env_dir;
    bool links = false;
    std::size_t done = 0, total = 0;
    RecordStats stats;

    Recorder(const PythonEnv& e, const fs::path& point, const RecordOptions& o)
        : env(e), dir(point), options(o), env_dir(e.dir.lexically_normal()) {}

    // One file of RECORD: saved as files/<di>/<k>, with its hash; nullopt for one that is gone
    // or outside the env.
    std::optional<SavedFile> save_one(const RecordEntry& e, std::size_t di, std::size_t k) {
        const fs::path src = in_site(env, e.path);
        std::error_code sec;
        const auto st = fs::symlink_status(src, sec);
        if (sec || !is_inside(src, env_dir) || !(fs::is_regular_file(st) || fs::is_symlink(st))) {
            return std::nullopt;  // listed but gone, or outside the env: nothing to save
        }
        SavedFile f;
        f.path = e.path;
        f.size = fs::is_symlink(st) ? 0 : fs::file_size(src, sec);
        if (e.hash.rfind("sha256=", 0) == 0 && e.size && *e.size == f.size) {
            f.hash = e.hash;
        } else {
            auto h = file_sha256_record(src);
            if (!h) {
                throw LaunchError(Stage::Fix, ErrorText{"Cannot read " + u8(src) +
                                                            " to save it for the undo point. "
                                                            "Nothing was changed.",
                                                        "", "Check the file's permissions."});
            }
            f.hash = *h;
            ++stats.hashed;
        }
        f.saved = "files/" + std::to_string(di) + "/" + std::to_string(k);
        save_file(src, dir / process::from_utf8(f.saved), links, stats, f.size);
        ++stats.files;
        stats.bytes += f.size;
        return f;
    }

    SavedDist save_dist(const Distribution& d, std::size_t di,
                        const std::vector<RecordEntry>& entries) {
        SavedDist sd;
        sd.name = d.name;
        sd.version = d.version_text;
        std::string installer;
        if (files::read_text(d.metadata_dir / "INSTALLER", installer)) {
            sd.installer = trimmed(installer);
        }
        sd.metadata_dir = rel_text(d.metadata_dir, env.site_packages);
        const fs::path fdir = dir / "files" / std::to_string(di);
        std::error_code ec;
        fs::create_directory(fdir, ec);
        if (ec) {
            cannot("create " + u8(fdir), fdir, ec);
        }
        std::set<std::string> folders;
        for (const auto& e : entries) {
            ++done;
            const std::string top = top_component(e.path);
            if (!top.empty() && e.path.find('/') != std::string::npos) {
                folders.insert(top);
            }
            if (auto f = save_one(e, di, sd.files.size())) {
                sd.files.push_back(std::move(*f));
                if (options.on_saved) {
                    options.on_saved(done, total);
                }
            }
        }
        if (std::error_code sync = files::sync_dir(fdir)) {
            cannot("write " + u8(fdir), fdir, sync);
        }
        sd.folders.assign(folders.begin(), folders.end());
        return sd;
    }
};

}  // namespace

UndoManifest record_undo_point(const PythonEnv& env, const SiteScan& scan,
                               const std::vector<std::string>& replaced,
                               const std::vector<std::string>& installs, const std::string& summary,
                               const RecordOptions& options, RecordStats* stats_out) {
    fs::path dir;
    UndoManifest m = new_point(env, summary, installs, dir);
    Recorder rec(env, dir, options);
    try {
        save_manifest(env, m);  // first: an interrupted recording is known as one
        std::vector<const Distribution*> dists;
        for (const auto& key : replaced) {
            if (const Distribution* d = scan.find(key)) {
                dists.push_back(d);
            }
        }
        const auto records = records_of(dists);
        for (const auto& r : records) {
            rec.total += r.size();
        }
        const fs::path files_root = dir / "files";
        std::error_code ec;
        fs::create_directory(files_root, ec);
        // Links or copies, chosen by trying one link (a FAT32/exFAT drive, another volume, Linux's
        // protected_hardlinks); copies need the space of every file, checked before the first.
        rec.links = options.allow_links && can_link_into(env, records, files_root);
        if (!rec.links) {
            require_space_for_copies(env, records, files_root);
        }
        std::set<std::string> folders;
        for (std::size_t di = 0; di < dists.size(); ++di) {
            m.dists.push_back(rec.save_dist(*dists[di], di, records[di]));
            folders.insert(m.dists.back().folders.begin(), m.dists.back().folders.end());
        }
        m.top_level_before = top_level_entries(env.site_packages);
        for (const auto& folder : folders) {
            m.folder_entries[folder] =
                list_folder(env.site_packages, env.site_packages / process::from_utf8(folder));
        }
        files::sync_dir(files_root);
        set_undo_state(env, m, UndoState::Ready);  // last: the point is complete
        files::sync_dir(undo_root(env));
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
        throw;
    }
    if (stats_out) {
        *stats_out = rec.stats;
    }
    return m;
}

namespace {

[[noreturn]] void unknown_point(const PythonEnv& env, const std::string& id,
                                const std::vector<UndoPointEntry>& points) {
    std::string known;
    for (const auto& p : points) {
        known += (known.empty() ? "" : ", ") + p.id;
    }
    throw LaunchError(Stage::Fix,
                      ErrorText{"There is no undo point " + id + " in " + u8(undo_root(env)) + ".",
                                known.empty() ? "" : "the points there: " + known,
                                "Run `alltalk-launch fix --history` for the list."});
}

UndoManifest load_point(const PythonEnv& env, const std::string& id) {
    std::string text;
    const fs::path path = manifest_path(env, id);
    if (!files::read_text(path, text)) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{
                "The undo point " + id + " is damaged: " + u8(path) + " cannot be read.", "",
                "Nothing was changed. Remove it with `alltalk-launch fix --forget " + id + "`."});
    }
    UndoManifest m = manifest_from_json(text, id);
    if (m.id != id) {
        throw LaunchError(Stage::Fix,
                          ErrorText{"The undo point " + id + " is damaged: its manifest names " +
                                        "another point (" + m.id + ").",
                                    "",
                                    "Nothing was changed. Remove it with `alltalk-launch fix "
                                    "--forget " +
                                        id + "`."});
    }
    return m;
}

// Before anything changes: every saved file is there with its hash.
void verify_saved(const PythonEnv& env, const UndoManifest& m) {
    const fs::path dir = point_dir(env, m.id);
    for (const auto& d : m.dists) {
        for (const auto& f : d.files) {
            const fs::path saved = dir / process::from_utf8(f.saved);
            const auto h = file_sha256_record(saved);
            if (!h || *h != f.hash) {
                throw LaunchError(
                    Stage::Fix,
                    ErrorText{"The undo point " + m.id + " is damaged: the saved copy of " +
                                  f.path + " (" + d.name + " " + d.version + ") " +
                                  (h ? "does not have the hash it was saved with" : "is missing") +
                                  ". Nothing was changed.",
                              "",
                              "It cannot give back " + d.name + " " + d.version +
                                  ": reinstall it with pip (pip install " + d.name +
                                  "==" + d.version +
                                  "), and remove the point with `alltalk-launch fix "
                                  "--forget " +
                                  m.id + "`."});
            }
        }
    }
}

void require_writable(const fs::path& site) {
    const fs::path probe = site / ".alltalk-launch-undo-probe";
    std::error_code ec = files::write_file_synced(probe, "");
    std::error_code ignored;
    fs::remove(probe, ignored);
    if (ec) {
        not_writable(site, ec, "undo the fix");
    }
}

// Removes `p` (a file, a link or a whole folder); true when something was there.
bool remove_path(const fs::path& p, std::size_t& count) {
    std::error_code ec;
    const auto st = fs::symlink_status(p, ec);
    if (ec || !fs::exists(st)) {
        return false;
    }
    const auto n = fs::remove_all(p, ec);
    if (ec) {
        throw LaunchError(Stage::Fix,
                          ErrorText{"Cannot remove " + u8(p) + " (" + ec.message() +
                                        "): the undo stopped half-way.",
                                    "",
                                    "Fix the cause and run `alltalk-launch fix --undo` again: "
                                    "it picks up where it stopped."});
    }
    count += static_cast<std::size_t>(n);
    return true;
}

// Puts one saved file back (a link where allowed, else a copy), replacing what is there.
bool put_back(const fs::path& saved, const fs::path& target, const SavedFile& f) {
    std::error_code ec;
    if (fs::equivalent(saved, target, ec) && !ec) {
        return false;  // already the saved file (linked back by an earlier, interrupted undo)
    }
    const auto st = fs::symlink_status(target, ec);
    if (!ec && fs::is_directory(st)) {
        std::size_t ignored = 0;
        remove_path(target, ignored);
    }
    fs::create_directories(target.parent_path(), ec);
    fs::path tmp = target;
    tmp += ".alltalk-undo";
    fs::remove(tmp, ec);
    bool copied = false;
    fs::create_hard_link(saved, tmp, ec);
    if (ec) {
        ec.clear();
        ec = files::copy_file_synced(saved, tmp);
        copied = !ec;
    }
    if (!ec) {
        fs::rename(tmp, target, ec);
    }
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw LaunchError(Stage::Fix,
                          ErrorText{"Cannot put back " + u8(target) + " (" + ec.message() +
                                        "): the undo stopped half-way.",
                                    "",
                                    "Fix the cause (disk space?) and run `alltalk-launch fix "
                                    "--undo` again: it picks up where it stopped."});
    }
    if (copied && file_sha256_record(target) != f.hash) {
        throw LaunchError(Stage::Fix, ErrorText{"The copy of " + u8(target) +
                                                    " put back has the wrong hash: the disk may be "
                                                    "failing.",
                                                "",
                                                "Check the disk and run `alltalk-launch fix "
                                                "--undo` again."});
    }
    return true;
}

}  // namespace

std::vector<UndoPointEntry> list_undo_points(const PythonEnv& env) {
    std::vector<UndoPointEntry> out;
    std::error_code ec;
    for (fs::directory_iterator it(undo_root(env), ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code dec;
        if (!it->is_directory(dec)) {
            continue;
        }
        UndoPointEntry e;
        e.id = u8(it->path().filename());
        try {
            e.manifest = load_point(env, e.id);
        } catch (const LaunchError& err) {
            e.problem = err.text().what;
        }
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(),
              [](const UndoPointEntry& a, const UndoPointEntry& b) { return a.id < b.id; });
    return out;
}

UndoManifest read_undo_point(const PythonEnv& env, const std::string& id) {
    std::error_code ec;
    if (id.empty() || id.find('/') != std::string::npos || id.find('\\') != std::string::npos ||
        id == "." || id == ".." || !fs::is_directory(point_dir(env, id), ec)) {
        unknown_point(env, id, list_undo_points(env));
    }
    return load_point(env, id);
}

std::optional<UndoManifest> interrupted_undo_point(const PythonEnv& env) {
    std::optional<UndoManifest> out;
    for (auto& p : list_undo_points(env)) {
        if (p.manifest && p.manifest->state == UndoState::Applying) {
            out = std::move(p.manifest);
        }
    }
    return out;
}

std::vector<std::string> remove_incomplete_undo_points(const PythonEnv& env) {
    std::vector<std::string> out;
    for (const auto& p : list_undo_points(env)) {
        if (p.manifest && p.manifest->state == UndoState::Recording) {
            std::error_code ec;
            fs::remove_all(point_dir(env, p.id), ec);
            out.push_back(p.id);
        }
    }
    return out;
}

void forget_undo_point(const PythonEnv& env, const std::string& id) {
    std::error_code ec;
    if (id.empty() || id.find('/') != std::string::npos || id.find('\\') != std::string::npos ||
        id == "." || id == ".." || !fs::is_directory(point_dir(env, id), ec)) {
        unknown_point(env, id, list_undo_points(env));
    }
    fs::remove_all(point_dir(env, id), ec);
    if (ec) {
        cannot("remove the undo point " + id, point_dir(env, id), ec);
    }
}

namespace {

// The point `id`, else the latest that was not undone.
UndoManifest point_to_restore(const PythonEnv& env, const std::optional<std::string>& id) {
    if (id && !id->empty()) {
        UndoManifest m = read_undo_point(env, *id);
        if (m.state == UndoState::Restored) {
            throw LaunchError(
                Stage::Fix,
                ErrorText{"The undo point " + m.id + " was already undone (" + m.ended + ").", "",
                          "Nothing was changed. `alltalk-launch fix --history` "
                          "lists the points."});
        }
        return m;
    }
    const auto points = list_undo_points(env);
    auto it = std::find_if(points.rbegin(), points.rend(), [](const UndoPointEntry& p) {
        return !p.manifest || p.manifest->state != UndoState::Restored;
    });
    if (it == points.rend()) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"There is nothing to undo in " + u8(env.dir) + ": " +
                          (points.empty() ? "no fix has left an undo point there"
                                          : "every undo point there was already undone") +
                          ".",
                      "the undo points in " + u8(undo_root(env)),
                      "Undo points are made by `alltalk-launch fix`; changes made with pip "
                      "directly cannot be undone by alltalk-launch."});
    }
    return read_undo_point(env, it->id);  // a damaged latest point is an error, not skipped
}

// Puts the env back as the point saved it, in five passes (restore_undo_point).
struct Restorer {
    const PythonEnv& env;
    const UndoManifest& m;
    fs::path site, env_dir;
    std::set<std::string> before;  // site-packages' top-level entries before the fix
    std::set<fs::path> saved_targets;
    std::set<std::string> replaced_keys;
    std::size_t removed = 0;
    std::set<fs::path> emptied;  // folders that may have become empty
    std::vector<fs::path> unlisted_dirs;

    Restorer(const PythonEnv& e, const UndoManifest& point)
        : env(e),
          m(point),
          site(e.site_packages.lexically_normal()),
          env_dir(e.dir.lexically_normal()),
          before(point.top_level_before.begin(), point.top_level_before.end()) {
        for (const auto& d : m.dists) {
            replaced_keys.insert(normalize_name(d.name));
            for (const auto& f : d.files) {
                const fs::path t = in_site(env, f.path);
                if (!is_inside(t, env_dir)) {
                    throw LaunchError(Stage::Fix, ErrorText{"The undo point " + m.id +
                                                                " is damaged: it would write " +
                                                                f.path + ", outside the env.",
                                                            "",
                                                            "Nothing was changed. Remove it with "
                                                            "`alltalk-launch fix --forget " +
                                                                m.id + "`."});
                }
                saved_targets.insert(t);
            }
        }
    }

    // 1. The files of distributions the fix installed (and of the replaced ones' new versions),
    //    by their RECORD: outside the new top-level entries this reaches scripts in bin/.
    void remove_installed_files() {
        const SiteScan now = scan_site_packages(env.site_packages);
        for (const auto& d : now.dists) {
            const std::string top = top_component(rel_text(d.metadata_dir, env.site_packages));
            if (before.count(top) && !replaced_keys.count(d.key)) {
                continue;
            }
            for (const auto& e : record_entries(d).value_or(std::vector<RecordEntry>{})) {
                const fs::path t = in_site(env, e.path);
                if (!is_inside(t, env_dir) || saved_targets.count(t)) {
                    continue;
                }
                const std::string ttop = top_component(e.path);
                if (!ttop.empty() && !before.count(ttop)) {
                    continue;  // inside a new top-level entry: removed whole below
                }
                if (remove_path(t, removed)) {
                    emptied.insert(t.parent_path());
                }
            }
        }
    }

    // 2. Top-level entries of site-packages that were not there: new packages, pip's "~xxx"
    //    stash folders, half-written folders of a killed install.
    void remove_new_entries() {
        for (const auto& name : top_level_entries(env.site_packages)) {
            if (!before.count(name)) {
                remove_path(env.site_packages / process::from_utf8(name), removed);
            }
        }
    }

    // 3. Inside the replaced distributions' folders, whatever was not there before.
    void remove_unlisted() {
        for (const auto& [folder, list] : m.folder_entries) {
            const std::set<std::string> listed(list.begin(), list.end());
            const fs::path top = env.site_packages / process::from_utf8(folder);
            for (const auto& rel : list_folder(env.site_packages, top)) {
                if (listed.count(rel)) {
                    continue;
                }
                const fs::path p = env.site_packages / process::from_utf8(rel);
                if (rel.back() == '/') {
                    unlisted_dirs.push_back(p);
                } else if (!saved_targets.count(p.lexically_normal())) {
                    remove_path(p, removed);
                }
            }
        }
    }

    // 4. The saved files, back where they were.
    std::size_t put_back_saved() {
        std::size_t restored = 0;
        for (const auto& d : m.dists) {
            for (const auto& f : d.files) {
                restored += put_back(point_dir(env, m.id) / process::from_utf8(f.saved),
                                     in_site(env, f.path), f);
            }
        }
        return restored;
    }

    // 5. Folders that the fix made and that are empty now (deepest first), and the folders
    //    emptied by step 1 up to the first that existed before the fix (known from the listings).
    void remove_empty_folders() {
        std::sort(unlisted_dirs.begin(), unlisted_dirs.end(),
                  [](const fs::path& a, const fs::path& b) {
                      return a.native().size() > b.native().size();
                  });
        for (const auto& dir : unlisted_dirs) {
            std::error_code ec;
            if (fs::is_empty(dir, ec) && !ec) {
                fs::remove(dir, ec);
                ++removed;
            }
        }
        for (fs::path dir : emptied) {
            while (is_inside(dir, site)) {
                const std::string rel = rel_text(dir, site);
                const auto listing = m.folder_entries.find(top_component(rel));
                const bool known_before =
                    listing == m.folder_entries.end() ||
                    std::binary_search(listing->second.begin(), listing->second.end(), rel + "/");
                std::error_code ec;
                if (known_before || !fs::is_empty(dir, ec) || ec) {
                    break;
                }
                fs::remove(dir, ec);
                ++removed;
                dir = dir.parent_path();
            }
        }
    }
};

}  // namespace

RestoreResult restore_undo_point(const PythonEnv& env, const std::optional<std::string>& id) {
    UndoManifest m = point_to_restore(env, id);
    RestoreResult result;
    result.id = m.id;
    if (m.state == UndoState::Recording || m.state == UndoState::Ready) {
        // Written before pip starts: the env has not changed since.
        forget_undo_point(env, m.id);
        result.incomplete = true;
        return result;
    }
    verify_saved(env, m);
    require_writable(env.site_packages);
    Restorer r(env, m);
    r.remove_installed_files();
    r.remove_new_entries();
    r.remove_unlisted();
    result.restored_files = r.put_back_saved();
    r.remove_empty_folders();
    files::sync_dir(env.site_packages);
    result.removed_paths = r.removed;
    for (const auto& c : m.changes) {
        result.back.push_back({c.name, c.after, c.before});
    }
    set_undo_state(env, m, UndoState::Restored);
    return result;
}

}  // namespace alltalk::fix
