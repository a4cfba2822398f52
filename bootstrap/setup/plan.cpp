#include "setup/plan.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/text.hpp"
#include "os/process.hpp"
#include "pypa/pep508.hpp"
#include "pypa/site_packages.hpp"

namespace fs = std::filesystem;

namespace alltalk::setup {

namespace {

// Why no lock ships for an AllTalk version or platform, where that was found out (as a clause
// that follows the refusal's first sentence), else nothing.
std::string why_no_lock(const std::string& alltalk, const std::string& platform) {
    if (alltalk == "v1") {
        return ": AllTalk v1's requirements pin faster-whisper==1.0.1, which requires av==11.*, "
               "and av 11.0.0 is on PyPI only as source (building it needs a C compiler and "
               "FFmpeg's development files), so no lock of wheels for Python 3.11 can be made "
               "from them; AllTalk v2 (branch alltalkbeta) is the version setup makes";
    }
    if (platform == "win_amd64") {
        return ": Windows' CUDA builds of torch come only from the PyTorch index "
               "(https://download.pytorch.org/whl/), which the machines that make and prove the "
               "locks cannot reach";
    }
    return "";
}

[[noreturn]] void refuse(std::string what, std::string fix = "") {
    throw LaunchError(Stage::Setup, ErrorText{std::move(what), "", std::move(fix)});
}

std::string u8(const fs::path& p) {
    return process::to_utf8(p);
}

// "2.9 GiB", "412 MiB", "0.4 MiB".
std::string gib(std::uint64_t bytes) {
    char buf[32];
    const double mib = static_cast<double>(bytes) / (1ull << 20);
    if (mib >= 1024) {
        std::snprintf(buf, sizeof buf, "%.1f GiB", mib / 1024);
    } else {
        std::snprintf(buf, sizeof buf, mib >= 10 ? "%.0f MiB" : "%.1f MiB", mib);
    }
    return buf;
}

// The PEP 508 variables of the env to be, for the requirement lines' markers.
pep508::MarkerEnv markers_for(const SetupFacts& f) {
    const bool win = f.host == Platform::Windows;
    const std::string v = f.python.version;
    return {{"os_name", win ? "nt" : "posix"},
            {"sys_platform", win ? "win32" : "linux"},
            {"platform_system", win ? "Windows" : "Linux"},
            {"platform_machine", win ? "AMD64" : "x86_64"},
            {"platform_release", ""},
            {"platform_version", ""},
            {"implementation_name", "cpython"},
            {"platform_python_implementation", "CPython"},
            {"implementation_version", v},
            {"python_full_version", v},
            {"python_version", v.substr(0, v.rfind('.') == 1 ? v.size() : v.rfind('.'))}};
}

// A local requirement line's file and whether its marker holds here.
std::optional<fs::path> local_file(const SetupFacts& f, const std::string& line) {
    const auto semi = line.find(';');
    if (semi != std::string::npos) {
        auto marker = pep508::parse_marker(text::trim(line.substr(semi + 1)));
        if (!marker || !marker->evaluate(markers_for(f), "").value_or(false)) {
            return std::nullopt;
        }
    }
    return (f.checkout.root / process::from_utf8(std::string(text::trim(line.substr(0, semi)))))
        .lexically_normal();
}

const LockInfo* pick_lock(const SetupFacts& f, std::vector<const LockInfo*>& mine,
                          std::string& reason, std::vector<std::string>& notes) {
    for (const LockInfo* l : f.locks) {
        if (l->alltalk == f.checkout.version && l->platform == f.platform) {
            mine.push_back(l);
        }
    }
    if (f.options.profile) {
        for (const LockInfo* l : f.locks) {
            if (l->id == *f.options.profile) {
                if (l->alltalk != f.checkout.version || l->platform != f.platform) {
                    refuse("Not setting up: the lock " + l->id + " (--profile) is for AllTalk " +
                               l->alltalk + " on " + l->platform + ", and this is AllTalk " +
                               f.checkout.version + " on " + f.platform + ".",
                           "Leave --profile out to let setup choose, or pick one of: " +
                               (mine.empty() ? std::string("(none ships)") : lock_ids(mine)) + ".");
                }
                reason = "--profile " + l->id + ".";
                return l;
            }
        }
        refuse("Not setting up: --profile " + *f.options.profile + " names no lock.",
               "The locks at hand: " + lock_ids(f.locks) +
                   "; leave --profile out to let setup choose by the GPU.");
    }
    if (mine.empty()) {
        refuse("Not setting up: no proven lock ships for AllTalk " + f.checkout.version + " on " +
                   f.platform + " (the locks at hand: " + lock_ids(f.locks) + ")" +
                   why_no_lock(f.checkout.version, f.platform) + ".",
               "Install AllTalk's requirements by hand, then let `alltalk-launch doctor` and "
               "`alltalk-launch fix` check and mend the env, or pass a lock made for this "
               "platform by packaging/locks/make_lock.py with --lock FILE.");
    }
    const VariantChoice v = choose_variant(mine, f.probe, f.options.gpu);
    if (!v.lock) {
        refuse("Not setting up: " + v.problem);
    }
    reason = v.reason;
    if (!v.note.empty()) {
        notes.push_back(v.note);
    }
    return v.lock;
}

// pip with --no-compile, as uv does by default: pip would write byte code for every .py file of
// the lock's gigabytes of wheels, most never imported; the checks that follow write it for what
// AllTalk does import (Python caches it on first import).
std::vector<std::string> installer_head(const SetupFacts& f, const fs::path& python) {
    if (f.options.installer == "uv") {
        return {*f.uv, "pip", "install", "--python", u8(python)};
    }
    return {u8(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile"};
}

// Wheels only, except the locked packages that publish none (pure-Python sdists, which build
// without a compiler).
void binary_options(const LockInfo& lock, std::vector<std::string>& argv) {
    argv.insert(argv.end(), {"--only-binary", ":all:"});
    if (!lock.sdist_only.empty()) {
        argv.insert(argv.end(), {"--no-binary", text::join(lock.sdist_only, ",")});
    }
}

void index_options(const LockInfo& lock, std::vector<std::string>& argv) {
    if (lock.index != "https://pypi.org/simple") {
        argv.insert(argv.end(),
                    {"--index-url", lock.index, "--extra-index-url", "https://pypi.org/simple"});
    }
}

}  // namespace

fs::path venv_python(const fs::path& env, Platform host) {
    return host == Platform::Windows ? env / "Scripts" / "python.exe" : env / "bin" / "python";
}

std::string lock_ids(const std::vector<const LockInfo*>& locks) {
    std::vector<std::string> ids;
    for (const LockInfo* l : locks) {
        ids.push_back(l->id);
    }
    return ids.empty() ? std::string("none") : text::join(ids, ", ");
}

namespace {

// An env there already is refused without --force; one that is remade gets a note.
void check_env_there(const SetupFacts& f, std::vector<std::string>& notes) {
    if (f.env_state == EnvState::Exists && !f.options.force) {
        refuse("Not setting up: " + u8(f.env) +
                   " already holds an environment, and setup makes a new one only where there "
                   "is none.",
               "Check the one there with `alltalk-launch doctor` and mend it with "
               "`alltalk-launch fix`; or run setup with --force, which moves it aside to " +
                   f.aside + " (nothing is deleted) and makes a new one.");
    }
    if (f.env_state == EnvState::Unfinished) {
        notes.push_back(u8(f.env) +
                        " is an env that an earlier setup did not finish: it is "
                        "removed and made again.");
    } else if (f.env_state == EnvState::Exists) {
        notes.push_back("--force: the env there now is moved aside to " + f.aside + ".");
    }
}

// Too little disk for the lock, or --installer uv without uv: refused before anything is made.
void check_space_and_installer(const SetupFacts& f, const SetupPlan& p) {
    const LockInfo& lock = *p.lock;
    if (f.free_bytes && *f.free_bytes < p.need_bytes) {
        refuse("Not setting up: the env needs about " + gib(p.need_bytes) + " of disk (" +
                   gib(lock.download_bytes) + " to download, " + gib(lock.installed_bytes) +
                   " installed, as the lock " + lock.id + " measured), and the file system of " +
                   u8(f.env) + " has " + gib(*f.free_bytes) + " free.",
               "Free some space there, or make the env on another disk with --env DIR.");
    }
    if (f.options.installer == "uv" && !f.uv) {
        refuse("Not setting up: --installer uv was asked for, but no uv was found on PATH.",
               "Install uv (pip install uv, or your package manager), or leave --installer out "
               "to install with the env's own pip.");
    }
}

// The checkout's requirements are not the ones the lock was made from: pip resolves them with
// the lock's pins, torch held to its build, and the check after the install proves them.
void resolve_with_pins(const SetupFacts& f, SetupPlan& p, const fs::path& setup_dir,
                       std::vector<std::string> install) {
    const LockInfo& lock = *p.lock;
    p.notes.push_back("This checkout's " + f.checkout.requirements_rel +
                      " differs from the one the lock " + lock.id + " was made from (AllTalk " +
                      lock.alltalk_commit + "): pip resolves it with the lock's " +
                      std::to_string(lock.pins.size()) + " pins added and torch held to " +
                      lock.torch + ", and the check after the install proves the result.");
    p.requirements = setup_dir / "requirements.txt";
    p.constraints = setup_dir / "constraints.txt";
    for (const auto& line : f.checkout.requirement_lines) {
        auto req = pep508::parse_requirement(line);
        if (req &&
            std::any_of(lock.needs_compiler.begin(), lock.needs_compiler.end(),
                        [&](const std::string& n) { return normalize_name(n) == req->key; })) {
            continue;
        }
        p.requirements_text += line + "\n";
    }
    // The pins join the requirements (some add what no requirements file names: pynvml);
    // torch is held to the lock's build by a constraint.
    for (const auto& pin : lock.pins) {
        p.requirements_text += pin.requirement + "\n";
    }
    p.constraints_text = "torch==" + lock.torch + "\n";
    binary_options(lock, install);
    index_options(lock, install);
    install.insert(install.end(), {"-r", u8(p.requirements), "-c", u8(p.constraints)});
    p.steps.push_back({"install", "Resolve and install the checkout's requirements", install});
}

// The install: exactly the lock (no resolution, every file's hash checked) when the checkout's
// requirements are the lock's, else resolved with its pins. Only wheels: a locked sdist that
// needs a compiler is left out, with what it is for.
void add_install(const SetupFacts& f, SetupPlan& p, const fs::path& setup_dir) {
    const LockInfo& lock = *p.lock;
    p.lock_text = lock_without(lock.text, lock.needs_compiler);
    if (!lock.needs_compiler.empty()) {
        p.notes.push_back("Left out, as they publish no wheel and need a C/C++ compiler: " +
                          text::join(lock.needs_compiler, " ") +
                          " (AllTalk starts without them; RVC voice conversion needs pyworld). "
                          "Where a compiler and Python's headers are at hand: " +
                          text::quote_arg(u8(p.env_python), f.host) + " -m pip install " +
                          text::join(lock.needs_compiler, " ") + ".");
    }
    std::vector<std::string> install = installer_head(f, p.env_python);
    if (!p.lock_matches) {
        resolve_with_pins(f, p, setup_dir, std::move(install));
        return;
    }
    install.insert(install.end(), {"--no-deps", "--require-hashes"});
    binary_options(lock, install);
    index_options(lock, install);
    install.insert(install.end(), {"-r", u8(p.lock_copy)});
    p.steps.push_back({"install",
                       "Install the lock " + lock.id + " (" + std::to_string(lock.packages.size()) +
                           " packages, hashes checked)",
                       install});
}

// The checkout's own wheels (its local requirement lines for this platform), then the proof.
void add_local_and_checks(const SetupFacts& f, SetupPlan& p) {
    for (const auto& line : f.checkout.local_lines) {
        auto file = local_file(f, line);
        if (!file) {
            continue;  // for another platform
        }
        std::error_code ec;
        if (!fs::exists(*file, ec)) {
            p.notes.push_back("The checkout's " + line.substr(0, line.find(';')) +
                              " is missing (a partial download?): it is not installed, and what "
                              "needs it (fairseq: RVC voices) will not work until it is "
                              "restored and installed with pip install --no-deps.");
            continue;
        }
        std::vector<std::string> argv = installer_head(f, p.env_python);
        argv.insert(argv.end(), {"--no-deps", u8(*file)});
        p.steps.push_back({"local", "Install the checkout's own " + u8(file->filename()), argv});
    }
    // One doctor for both commands: in a fresh env they launch alike, so one child imports what
    // both import (diagnose/deep_run.hpp); its JSON says which command a failure stops.
    p.steps.push_back({"check",
                       "Prove the env: what server and finetune import at start (doctor --deep)",
                       {u8(f.launcher), "--root", u8(f.checkout.root), "--env", u8(f.env), "doctor",
                        "--deep", "--json-file", u8(p.check_json)}});
}

}  // namespace

SetupPlan make_setup_plan(const SetupFacts& f) {
    SetupPlan p;
    p.env = f.env;
    p.env_python = venv_python(f.env, f.host);
    p.state_dir = f.env / ".alltalk-launch";
    const fs::path setup_dir = p.state_dir / "setup";
    p.lock_copy = setup_dir / "lock.txt";
    p.check_json = setup_dir / "check.json";
    check_env_there(f, p.notes);
    std::vector<const LockInfo*> mine;
    p.lock = pick_lock(f, mine, p.variant_reason, p.notes);
    const LockInfo& lock = *p.lock;
    p.lock_matches = lock.requirements == f.checkout.requirements_rel &&
                     lock.requirements_sha256 == f.checkout.requirements_sha256;
    p.need_bytes = lock.download_bytes + lock.installed_bytes;
    check_space_and_installer(f, p);
    p.steps.push_back({"venv",
                       "Make the venv from Python " + f.python.version,
                       {u8(f.python.python), "-m", "venv", u8(f.env)}});
    add_install(f, p, setup_dir);
    add_local_and_checks(f, p);
    return p;
}

std::string describe_setup_plan(const SetupFacts& f, const SetupPlan& p) {
    const LockInfo& l = *p.lock;
    std::string out = "alltalk-launch setup: the plan\n";
    out += "  AllTalk:  " + f.checkout.version + " in " + u8(f.checkout.root) + " (" +
           f.checkout.why + ")\n";
    out += "  Python:   " + f.python.version + " " + u8(f.python.python) + " (" + f.python.source +
           ")\n";
    out += "  env:      " + u8(p.env) + " (a venv)\n";
    out += "  GPU:      " + (f.probe ? describe_gpus(*f.probe) : std::string("not probed")) + "\n";
    out += "  variant:  " + l.variant + ": " + p.variant_reason + "\n";
    out += "  lock:     " + l.id + " (AllTalk " + l.alltalk_commit + "; " +
           std::to_string(l.packages.size()) + " packages; proven: " + l.proven + ")\n";
    out += "  index:    " + l.index + "\n";
    out += "  size:     about " + gib(p.need_bytes) + " (" + gib(l.download_bytes) + " download, " +
           gib(l.installed_bytes) + " installed)" +
           (f.free_bytes ? ", " + gib(*f.free_bytes) + " free" : std::string()) + "\n";
    out += "  installer: " + f.options.installer + "\n";
    for (const auto& n : p.notes) {
        out += "  note: " + n + "\n";
    }
    out += "  steps:\n";
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        std::vector<std::string> quoted;
        for (const auto& a : p.steps[i].argv) {
            quoted.push_back(text::quote_arg(a, f.host));
        }
        out += "    " + std::to_string(i + 1) + ". " + p.steps[i].title + ":\n       " +
               text::join(quoted, " ") + "\n";
    }
    return out;
}

std::string setup_plan_json(const SetupFacts& f, const SetupPlan& p) {
    const LockInfo& l = *p.lock;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : p.steps) {
        steps.push_back({{"id", s.id}, {"title", s.title}, {"argv", s.argv}});
    }
    nlohmann::json pins = nlohmann::json::array();
    for (const auto& pin : l.pins) {
        pins.push_back({{"requirement", pin.requirement}, {"reason", pin.reason}});
    }
    nlohmann::json j = {
        {"alltalk", {{"version", f.checkout.version}, {"root", u8(f.checkout.root)}}},
        {"python",
         {{"path", u8(f.python.python)},
          {"version", f.python.version},
          {"source", f.python.source}}},
        {"env", u8(p.env)},
        {"gpu", f.probe ? describe_gpus(*f.probe) : std::string("not probed")},
        {"variant", {{"id", l.variant}, {"reason", p.variant_reason}}},
        {"lock",
         {{"id", l.id},
          {"alltalk_commit", l.alltalk_commit},
          {"torch", l.torch},
          {"cuda", l.cuda ? cuda_version_str(*l.cuda) : std::string("none")},
          {"matches_checkout", p.lock_matches},
          {"packages", l.packages.size()},
          {"pins", pins},
          {"proven", l.proven}}},
        {"index", l.index},
        {"need_bytes", p.need_bytes},
        {"installer", f.options.installer},
        {"notes", p.notes},
        {"steps", steps}};
    if (f.free_bytes) {
        j["free_bytes"] = *f.free_bytes;
    }
    return j.dump(2);
}

}  // namespace alltalk::setup
