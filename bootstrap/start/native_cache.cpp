#include "start/native_cache.hpp"

#include <spdlog/spdlog.h>
#ifndef _WIN32
#include <sys/stat.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>

#include "base/files.hpp"
#include "cudnn/codec.hpp"
#include "cudnn/decision_cache.hpp"
#include "gpu/torch_arch.hpp"
#include "os/dir_list.hpp"
#include "os/inputs.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

std::string hex_hash(const std::string& s) {
    std::ostringstream os;
    os << std::hex << std::hash<std::string>{}(s);
    return os.str();
}

// The whole file, or nothing when it cannot be opened.
std::optional<std::string> read_text(const fs::path& p) {
    std::string text;
    return files::read_text(p, text) ? std::optional<std::string>(std::move(text)) : std::nullopt;
}

std::string launcher_signature() {
    // Once per process (a launch reads up to three caches): the file this process runs.
    static const std::string signature = [] {
        const fs::path exe = process::self_exe();
        return exe.empty() ? std::string() : exe.string() + " " + inputs::signature(exe);
    }();
    return signature;
}

// Why `entry` does not answer `key` now ("" when it does): another key, or the first input that
// changed (inputs::first_changed, which does not stat what an unchanged folder already answers).
std::string mismatch_now(const CacheEntry& entry, const std::string& key) {
    std::string why = cache_entry_mismatch(entry, key, [](const auto&) { return true; });
    if (why.empty()) {
        if (const std::string changed = inputs::first_changed(entry.inputs); !changed.empty()) {
            why = changed + " changed";
        }
    }
    return why;
}

// Whether a change at `changed_ns` (ns since the epoch) is older than `settle`: only then may an
// answer that depends on it be stored.
bool settled(std::int64_t changed_ns, std::chrono::nanoseconds settle) {
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return changed_ns <= now - settle.count();
}

// A site-packages folder with few subfolders (a folder's link count is 2 + its subfolders on the
// usual Linux file systems; 1 where it is not counted): selecting there reads fewer files than
// checking a cache entry would, so the cache is not used at all.
bool few_packages(const fs::path& site_packages) {
#ifdef _WIN32
    (void)site_packages;
    return false;
#else
    struct stat st {};
    return ::stat(site_packages.c_str(), &st) != 0 || (st.st_nlink > 1 && st.st_nlink < 24);
#endif
}

// The answer for `key`: the cached payload when `use` accepts it, else compute() under a
// recording of its inputs, stored when they have settled.
void through_cache(const fs::path& runtime_dir, const std::string& name, const std::string& key,
                   const std::function<bool(const std::string&)>& use,
                   const std::function<std::string()>& compute, CacheOutcome& out,
                   std::chrono::nanoseconds settle, DeferredCheck* deferred = nullptr) {
    std::string why;
    fs::path dir;
    if (!inputs::supported()) {
        out.why = "not on this platform";
        compute();
        return;
    }
    if (!open_cache_dir(runtime_dir, dir, why)) {
        out.why = why;
        compute();
        return;
    }
    const fs::path file = dir / name;
    if (auto text = read_text(file)) {
        if (auto entry = decode_cache_entry(*text)) {
            // Deferred: the key is compared now, the inputs later (DeferredCheck).
            why = deferred ? cache_entry_mismatch(*entry, key, [](const auto&) { return true; })
                           : mismatch_now(*entry, key);
            if (why.empty()) {
                if (use(entry->payload)) {
                    out.hit = true;
                    if (deferred) {
                        deferred->inputs = std::move(entry->inputs);
                        deferred->entry = file;
                    }
                    return;
                }
                why = "its answer is not one this launcher reads";
            }
        } else {
            why = "not a cache entry";
        }
        out.why = file.string() + ": " + why;
    } else {
        out.why = "no entry yet";
    }
    CacheEntry entry;
    entry.key = key;
    {
        inputs::Recording rec;
        entry.payload = compute();
        entry.inputs = rec.take();
    }
    for (const auto& o : entry.inputs) {
        if (!settled(o.changed_ns, settle)) {
            out.why += "; not stored: " + o.path + " changed just now";
            return;
        }
    }
    out.stored = write_atomically(file, encode_cache_entry(entry), why);
    if (!out.stored) {
        out.why += "; not stored: " + why;
    }
}

}  // namespace

fs::path cache_dir_of(const fs::path& runtime_dir) {
    return runtime_dir / "cache";
}

bool open_cache_dir(const fs::path& runtime_dir, fs::path& dir, std::string& why) {
    dir = cache_dir_of(runtime_dir);
    return process::ensure_private_dir(runtime_dir, why) && process::ensure_private_dir(dir, why);
}

bool write_atomically(const fs::path& file, const std::string& text, std::string& why) {
    fs::path tmp = file;
    tmp += ".tmp" +
           hex_hash(std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) {
            why = "cannot write " + tmp.string();
            std::error_code ec;
            fs::remove(tmp, ec);
            return false;
        }
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) {
        why = "cannot write " + file.string() + ": " + ec.message();
        fs::remove(tmp, ec);
        return false;
    }
    return true;
}

std::string first_changed_input(const DeferredCheck& check) {
    return inputs::first_changed(check.inputs);
}

NativeDecision analyze_native_cached(const NativeFacts& facts, const fs::path& runtime_dir,
                                     CacheOutcome* outcome, std::chrono::nanoseconds settle,
                                     DeferredCheck* deferred) {
    CacheOutcome local;
    CacheOutcome& out = outcome ? *outcome : local;
    out = {};
    if (facts.scan || few_packages(facts.env.site_packages)) {
        out.why = "not worth caching (a scan given by the caller, or few packages)";
        return analyze_native(facts);
    }
    const std::string launcher = launcher_signature();
    if (launcher.empty()) {
        out.why = "not cacheable (no launcher path)";
        return analyze_native(facts);
    }
    const auto start = std::chrono::steady_clock::now();
    NativeDecision d;
    through_cache(
        runtime_dir, "cudnn-" + hex_hash(native_cache_key(facts, "")),
        native_cache_key(facts, launcher),
        [&](const std::string& payload) {
            auto decoded = decode_native_decision(payload);
            if (decoded) {
                d = std::move(*decoded);
            }
            return decoded.has_value();
        },
        [&] {
            d = analyze_native(facts);
            return encode_native_decision(d);
        },
        out, settle, deferred);
    if (out.hit) {
        d.elapsed_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        if (deferred && !deferred->inputs.empty()) {
            spdlog::debug(
                "cuDNN: the decision was read from the cache (its {} inputs are checked "
                "before the app starts)",
                deferred->inputs.size());
        } else {
            spdlog::debug("cuDNN: the decision was read from the cache (its inputs are unchanged)");
        }
    } else {
        spdlog::debug("cuDNN: selected ({}{})", out.why, out.stored ? "; stored in the cache" : "");
    }
    return d;
}

std::optional<std::vector<std::string>> read_torch_archs_cached(const fs::path& site_packages,
                                                                const fs::path& runtime_dir,
                                                                CacheOutcome* outcome,
                                                                std::chrono::nanoseconds settle,
                                                                std::string* error) {
    CacheOutcome local;
    CacheOutcome& out = outcome ? *outcome : local;
    out = {};
    std::string local_error;
    std::string& problem = error ? *error : local_error;
    problem.clear();
    auto read = [&] {
        TorchArchs t = read_torch_arch_facts(site_packages);
        problem = t.error;
        return t.archs;
    };
    const auto candidates = torch_cuda_binary_candidates(site_packages);
    const bool any = inputs::supported() &&
                     std::any_of(candidates.begin(), candidates.end(), [](const fs::path& p) {
                         return inputs::signature(p) != "absent";
                     });
    if (!any) {
        out.why = "nothing to cache";
        // No CUDA torch library: the reader would open the same absent names again and find no
        // architectures and no error (inputs::supported() is false on Windows: read there).
        return inputs::supported() ? std::nullopt : read();
    }
    const std::string launcher = launcher_signature();
    if (launcher.empty()) {
        out.why = "not cacheable (no launcher path)";
        return read();
    }
    const fs::path lib = site_packages / "torch" / "lib";
    std::optional<std::vector<std::string>> archs;
    through_cache(
        runtime_dir, "archs-" + hex_hash(lib.string()), launcher + "\n" + lib.string(),
        [&](const std::string& payload) {
            if (payload == "none") {
                archs.reset();
                return true;
            }
            if (payload.rfind("unreadable ", 0) == 0) {
                archs.reset();
                problem = payload.substr(11);
                return true;
            }
            if (payload.rfind("archs", 0) != 0) {
                return false;
            }
            std::istringstream in(payload.substr(5));
            archs.emplace();
            for (std::string a; in >> a;) {
                archs->push_back(a);
            }
            return true;
        },
        [&] {
            archs = read();
            if (!archs) {
                return problem.empty() ? std::string("none") : "unreadable " + problem;
            }
            std::string text = "archs";
            for (const auto& a : *archs) {
                text += " " + a;
            }
            return text;
        },
        out, settle);
    spdlog::debug(
        "torch architectures: {}",
        out.hit ? "from the cache (torch's CUDA libraries unchanged)" : "read (" + out.why + ")");
    return archs;
}

namespace {

// The probe's key: what decides its result (native_cache.hpp), each value on a line of its own.
std::string probe_key(const std::vector<fs::path>& cudart, const std::string& launcher,
                      std::int64_t& newest) {
    std::string key = "gpu-probe 1\n" + launcher + "\n";
    const auto text = [&key](const char* label, const std::string& value) {
        key += label;
        key += ' ';
        key += value;
        key += '\n';
    };
    std::string value;
    text("boot", files::read_text("/proc/sys/kernel/random/boot_id", value) ? value : "?");
    text("driver", files::read_text("/proc/driver/nvidia/version", value) ? value : "absent");
    std::vector<std::string> gpus = dir_list::names("/proc/driver/nvidia/gpus");
    std::sort(gpus.begin(), gpus.end());
    for (const auto& g : gpus) {
        text("gpu", g);
    }
    for (const char* var : {"CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES",
                            "LD_LIBRARY_PATH", "LD_PRELOAD"}) {
        const char* v = std::getenv(var);
        text(var, v ? "=" + std::string(v) : "unset");
    }
    const auto file = [&](const fs::path& p) {
        std::int64_t changed = 0;
        text("file", p.string() + " " + inputs::signature(p, &changed));
        newest = std::max(newest, changed);
    };
    for (const char* p : {"/etc/ld.so.cache", "/dev/dxg", "/usr/lib/wsl/lib"}) {
        file(p);
    }
    for (const auto& c : cudart) {
        if (c.has_parent_path()) {
            file(c);
        } else {
            text("name", c.string());  // loaded by the loader's search (the files above)
        }
    }
    return key;
}

}  // namespace

ProbeCacheSlot probe_cache_slot(const std::vector<fs::path>& cudart, const fs::path& runtime_dir,
                                std::string* why) {
    ProbeCacheSlot slot;
    const std::string launcher = launcher_signature();
    std::string problem;
    fs::path dir;
    if (!inputs::supported() || launcher.empty()) {
        problem = "not on this platform";
    } else if (open_cache_dir(runtime_dir, dir, problem)) {
        slot.key = probe_key(cudart, launcher, slot.newest_change_ns);
        std::string runtimes;  // one entry per set of runtimes (an env), as for torch's archs
        for (const auto& c : cudart) {
            runtimes += c.string() + "\n";
        }
        slot.file = dir / ("gpu-probe-" + hex_hash(runtimes));
    }
    if (why) {
        *why = problem;
    }
    return slot;
}

std::optional<GpuProbe> read_gpu_probe_cached(const std::vector<fs::path>& cudart,
                                              const fs::path& runtime_dir, ProbeCacheSlot& slot,
                                              CacheOutcome* outcome) {
    CacheOutcome local;
    CacheOutcome& out = outcome ? *outcome : local;
    out = {};
    slot = probe_cache_slot(cudart, runtime_dir, &out.why);
    if (slot.file.empty()) {
        return std::nullopt;
    }
    const auto text = read_text(slot.file);
    const auto entry = text ? decode_cache_entry(*text) : std::nullopt;
    if (!entry) {
        out.why = text ? "not a cache entry" : "no entry yet";
        return std::nullopt;
    }
    out.why = mismatch_now(*entry, slot.key);
    if (!out.why.empty()) {
        return std::nullopt;
    }
    GpuProbe probe;
    parse_probe_report(entry->payload, probe);
    if (!probe_result_lasts(probe)) {
        out.why = "its answer is not one this launcher reads";
        return std::nullopt;
    }
    out.hit = true;
    probe.kept = true;
    return probe;
}

bool store_gpu_probe(const ProbeCacheSlot& slot, const std::string& report,
                     std::chrono::nanoseconds settle) {
    GpuProbe probe;
    parse_probe_report(report, probe);
    if (slot.file.empty() || !probe_result_lasts(probe) ||
        !settled(slot.newest_change_ns, settle)) {
        return false;
    }
    probe.inputs_changed.reset();  // the check that rode along is this launch's own
    probe.kept = false;
    CacheEntry entry;
    entry.key = slot.key;
    entry.payload = encode_probe_report(probe);
    std::string why;
    return write_atomically(slot.file, encode_cache_entry(entry), why);
}

namespace {

// A kept overlay state: "state current|stale", "hash H", then "req R" and "dist NAME VERSION"
// lines (names and versions hold no spaces, requirements no newlines).
std::string encode_overlay_state(const overlay::Status& s) {
    std::string out = std::string("state ") + overlay::to_string(s.state) + "\nhash " +
                      s.manifest->inputs_hash + "\n";
    for (const auto& r : s.manifest->requirements) {
        out += "req " + r + "\n";
    }
    for (const auto& [name, version] : s.manifest->distributions) {
        out += "dist " + name + " " + version + "\n";
    }
    return out;
}

bool decode_overlay_state(const std::string& text, overlay::Status& s) {
    std::istringstream in(text);
    overlay::Manifest m;
    bool state = false, hash = false;
    for (std::string line; std::getline(in, line);) {
        const auto space = line.find(' ');
        const std::string key = line.substr(0, space);
        const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
        if (key == "state" && (rest == "current" || rest == "stale")) {
            s.state = rest == "current" ? overlay::State::Current : overlay::State::Stale;
            state = true;
        } else if (key == "hash") {
            m.inputs_hash = rest;
            hash = true;
        } else if (key == "req") {
            m.requirements.push_back(rest);
        } else if (key == "dist" && rest.find(' ') != std::string::npos) {
            m.distributions.emplace_back(rest.substr(0, rest.find(' ')),
                                         rest.substr(rest.find(' ') + 1));
        } else {
            return false;
        }
    }
    s.manifest = std::move(m);
    return state && hash;
}

}  // namespace

overlay::Status check_overlay_cached(const PythonEnv& env, const std::string& command,
                                     const std::vector<std::string>& requirements,
                                     const fs::path& runtime_dir, CacheOutcome* outcome,
                                     std::chrono::nanoseconds settle) {
    CacheOutcome local;
    CacheOutcome& out = outcome ? *outcome : local;
    out = {};
    const std::string launcher = launcher_signature();
    const fs::path dir = overlay::overlay_dir(env, command);
    std::string why;
    fs::path cache;
    if (!inputs::supported() || launcher.empty()) {
        out.why = "not on this platform";
        return overlay::check(env, command, requirements);
    }
    if (!open_cache_dir(runtime_dir, cache, why)) {
        out.why = why;
        return overlay::check(env, command, requirements);
    }
    std::int64_t newest = 0;
    std::string key = "overlay 1\n" + launcher + "\n" + dir.string() + "\n";
    for (const auto& r : requirements) {
        key += "req " + r + "\n";
    }
    for (const fs::path& p : {dir / overlay::kManifestFile, env.site_packages}) {
        std::int64_t changed = 0;
        key += "file " + p.string() + " " + inputs::signature(p, &changed) + "\n";
        newest = std::max(newest, changed);
    }
    const fs::path file = cache / ("overlay-" + hex_hash(dir.string()));
    if (const auto text = read_text(file)) {
        const auto entry = decode_cache_entry(*text);
        overlay::Status kept;
        kept.command = command;
        kept.dir = dir;
        if (entry && entry->key == key && decode_overlay_state(entry->payload, kept)) {
            out.hit = true;
            return kept;
        }
        out.why = entry ? "another key" : "not a cache entry";
    } else {
        out.why = "no entry yet";
    }
    overlay::Status s = overlay::check(env, command, requirements);
    if ((s.state == overlay::State::Current || s.state == overlay::State::Stale) && s.manifest &&
        settled(newest, settle)) {
        CacheEntry entry;
        entry.key = key;
        entry.payload = encode_overlay_state(s);
        out.stored = write_atomically(file, encode_cache_entry(entry), why);
    }
    return s;
}

}  // namespace alltalk
