#include "fix/run_lock.hpp"

#include <algorithm>
#include <ctime>
#include <system_error>

#include "base/error.hpp"
#include "base/text.hpp"
#include "fix/undo_manifest.hpp"
#include "os/process.hpp"
#include "os/sha256.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

namespace {

// One name per env folder, however it was spelled (Windows: any case, either slash).
std::string env_key(const fs::path& env_dir) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(env_dir, ec);
    if (ec) {
        p = env_dir.lexically_normal();
    }
    std::string text = process::to_utf8(p);
#ifdef _WIN32
    text = text::lower(text);
    std::replace(text.begin(), text.end(), '/', '\\');
#endif
    while (text.size() > 1 && (text.back() == '/' || text.back() == '\\')) {
        text.pop_back();
    }
    const Sha256Digest d = sha256_of(text);
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < 8; ++i) {
        out += digits[d[i] >> 4];
        out += digits[d[i] & 0xF];
    }
    return out;
}

}  // namespace

fs::path run_lock_dir(const fs::path& runtime, const fs::path& env_dir) {
    return runtime / "running" / env_key(env_dir);
}

RunLock RunLock::acquire(const fs::path& env_dir, std::string what, const EnvMap& env_vars) {
    RunLock lock;
    const fs::path runtime = process::runtime_dir_candidate(env_vars);
    const fs::path dir = run_lock_dir(runtime, env_dir);
    std::string why;
    for (const fs::path& d : {runtime, runtime / "running", dir}) {
        if (!process::ensure_private_dir(d, why)) {
            return lock;
        }
    }
    lock.path_ = dir / (std::to_string(process::current_pid()) + ".lock");
    const LockHolder me{process::current_pid(), std::move(what), utc_text(std::time(nullptr))};
    files::FileLock::try_acquire(lock.path_, format_lock_holder(me), lock.lock_, why);
    return lock;
}

std::vector<LockHolder> running_from(const fs::path& env_dir, const EnvMap& env_vars) {
    std::vector<LockHolder> out;
    const fs::path dir = run_lock_dir(process::runtime_dir_candidate(env_vars), env_dir);
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".lock") {
            files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        if (auto text = files::locked_file_content(f)) {
            out.push_back(parse_lock_holder(*text));
        } else {
            fs::remove(f, ec);  // its process has ended (a new one takes another name)
        }
    }
    return out;
}

void refuse_while_running(const fs::path& env_dir, std::string_view doing, const EnvMap& env_vars) {
    const auto running = running_from(env_dir, env_vars);
    if (running.empty()) {
        return;
    }
    std::string who;
    std::string pids;
    for (const auto& h : running) {
        who +=
            (who.empty() ? "" : "; ") + std::string("process ") + std::to_string(h.pid) +
            (h.what.empty() ? ""
                            : " (" + h.what + (h.since.empty() ? "" : ", since " + h.since) + ")");
        pids += (pids.empty() ? "" : ", ") + std::to_string(h.pid);
    }
    throw LaunchError(
        Stage::Fix,
        ErrorText{"Not running " + std::string(doing) + ": AllTalk runs from " +
                      process::to_utf8(env_dir) + " right now (" + who +
                      "), and changing its packages under it would leave it half-changed "
                      "(on Windows its loaded files cannot even be replaced). Nothing was changed.",
                  "",
                  "Stop AllTalk first (Ctrl+C in its window, or end process " + pids +
                      "), then run this again."});
}

}  // namespace alltalk::fix
