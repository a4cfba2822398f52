#include "diagnose/doctor.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "gpu/torch_arch.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

bool any_error(const std::vector<Finding>& findings) {
    return std::any_of(findings.begin(), findings.end(),
                       [](const Finding& f) { return f.severity == Severity::Error; });
}

}  // namespace

bool DoctorReport::has_errors() const {
    return any_error(findings);
}

bool DoctorResult::has_errors() const {
    return any_error(findings);
}

namespace {

std::string python_cmd(const DoctorFacts& f) {
    fs::path py = f.env ? f.env->python
                        : (f.env_dir ? *f.env_dir / (f.windows() ? "python.exe" : "bin/python")
                                     : fs::path("python"));
    return text::quote_arg(py.string(), f.platform);
}

std::string join(const std::vector<std::string>& items, const char* sep) {
    return text::join(items, sep);
}

// The commands a check covers, for messages:
// "`alltalk-launch server` or `alltalk-launch finetune`".
std::string launch_commands(const DoctorFacts& f) {
    std::string out;
    for (std::size_t i = 0; i < f.commands.size(); ++i) {
        out +=
            std::string(i == 0 ? "" : " or ") + "`alltalk-launch " + to_string(f.commands[i]) + "`";
    }
    return out.empty() ? "`alltalk-launch server`" : out;
}

void env_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    if (!f.env) {
        // The launch error's own parts: what happened (and what was tried) as the message, its
        // fix as the fix.
        ErrorText what = f.env_error;
        what.fix.clear();
        out.push_back({"env-unreadable", Severity::Error,
                       "The Python environment could not be read: " + LaunchError::paragraph(what),
                       !f.env_error.fix.empty()
                           ? f.env_error.fix
                           : "Recreate the environment with AllTalk's installer (atsetup), or "
                             "point --env at a working one."});
        return;
    }
    const PythonVersion& v = f.env->version;
    const PythonVersion& want = f.launcher_python;
    if (v.major != want.major || v.minor != want.minor) {
        out.push_back({"python-version", Severity::Error,
                       "The env's Python is " + v.text +
                           ", but this alltalk-launch embeds Python " + want.short_text() +
                           ", so " + launch_commands(f) + " cannot start it.",
                       "Use an alltalk-launch built for Python " + v.short_text() +
                           " (cmake -B build -DALLTALK_PYTHON_VERSION=" + v.short_text() +
                           "), or recreate the env with Python " + want.short_text() +
                           " (AllTalk's installer does)."});
    }
}

void conflict_findings(const DoctorFacts& f, const CheckResult& check, std::vector<Finding>& out) {
    const std::string py = python_cmd(f);
    for (const auto& c : check.conflicts) {
        Finding x;
        x.severity = Severity::Error;
        if (!c.installed) {
            x.id = "requirement-missing";
            x.message = c.package + " " + c.version + " requires " + c.requirement + ", but " +
                        c.dependency + " is not installed.";
        } else {
            x.id = "requirement-conflict";
            x.message = c.package + " " + c.version + " requires " + c.requirement + ", but " +
                        c.dependency + " " + *c.installed + " is installed.";
        }
        // The requirement without its marker (it already holds here).
        std::string req = c.requirement.substr(0, c.requirement.find(';'));
        while (!req.empty() && req.back() == ' ') {
            req.pop_back();
        }
        FixAction a;
        a.install = {req};
        x.set_action(std::move(a), py, f.platform);
        out.push_back(std::move(x));
    }
    for (const auto& p : f.scan.problems) {
        out.push_back({"metadata-malformed", Severity::Warning,
                       "Package metadata " + p.path.string() + " is damaged: " + p.message +
                           ". A failed or interrupted install leaves such folders behind.",
                       "Reinstall the package it belongs to, or remove the folder if nothing "
                       "uses it: " +
                           py + " -m pip install --force-reinstall --no-deps <name>"});
    }
    for (const auto& p : check.unreadable) {
        out.push_back({"metadata-unreadable", Severity::Warning,
                       "Installed package metadata in " + p.path.string() +
                           " cannot be used: " + p.message +
                           ". pip and the doctor skip this package, so packages that need it "
                           "look unsatisfied.",
                       "Reinstall that package: " + py +
                           " -m pip install --force-reinstall --no-deps <name>==<version>"});
    }
}

void rule_findings(const DoctorFacts& f, const RuleSet& rules, std::vector<Finding>& out) {
    if (!f.env) {
        return;
    }
    InstalledFacts facts{&f.scan, f.env->version.text, f.markers, f.platform};
    const std::string py = python_cmd(f);
    for (const auto& r : rules.rules) {
        if (!r.doctor || r.when.empty() || !all_hold(r.when, facts)) {
            continue;
        }
        out.push_back({r.id, r.severity, expand(r.message, facts, py),
                       expand_action(r.action, facts, py), py, f.platform});
    }
    for (const auto& p : rules.profiles) {
        if (p.detect.empty() || !all_hold(p.detect, facts)) {
            continue;
        }
        std::vector<std::string> off;
        FixAction pins;  // the known-good pins this env is off
        for (const auto& e : p.expect) {
            auto ok = condition_holds(e, facts);
            if (ok && !*ok) {
                auto req = pep508::parse_requirement(e);
                std::string name = req ? req->name : e;
                const Distribution* d = f.scan.find(name);
                off.push_back(name + " " + (d ? d->version_text : std::string("not installed")) +
                              " (known good: " + (req ? req->specifier.str() : e) + ")");
                pins.install.emplace_back(text::trim(e.substr(0, e.find(';'))));
            }
        }
        if (!off.empty()) {
            out.push_back({"profile-" + p.id, Severity::Warning,
                           "This env differs from the known-good set \"" + p.description +
                               "\": " + join(off, "; ") + ".",
                           std::move(pins), py, f.platform});
        }
    }
}

// "2.5.1+cu121" -> {2, 5}; nullopt when the release has fewer than two parts.
std::optional<std::pair<int, int>> major_minor(const Distribution& d) {
    if (!d.version || d.version->release.size() < 2) {
        return std::nullopt;
    }
    try {
        return std::pair<int, int>{std::stoi(d.version->release[0].str()),
                                   std::stoi(d.version->release[1].str())};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// What a companion's metadata says of the torch it was built for: its unconditional Requires-Dist
// on torch (torchaudio 2.9.0: `torch==2.9.0`; 2.11.1: `torch>=2.11`), or nullopt when it names
// none (a conda build, an egg-info without requires.txt).
std::optional<pep508::Requirement> torch_requirement(const Distribution& d,
                                                     const pep508::MarkerEnv& markers) {
    for (const auto& line : d.requires_dist) {
        auto req = pep508::parse_requirement(line);
        if (req && req->key == "torch" && req->marker.evaluate(markers, "").value_or(false)) {
            return req;
        }
    }
    return std::nullopt;
}

// torch and its companions must be of one release: a torchvision or torchaudio built for another
// torch fails at import with "operator torchvision::nms does not exist" (erew123/alltalk_tts#520),
// or its native part does not load. Which torch a companion fits is read from its own metadata,
// never derived from its version number: torchaudio's numbers stopped following torch's (torch
// 2.15 goes with torchaudio 2.11.1, which requires torch>=2.11). Only a companion whose metadata
// names no torch (a conda build) is judged by the release table, and only for the releases where
// that table held (torch 1.13 to 2.8: torchvision 0.(M+15), torchaudio 2.M; pytorch.org's
// "previous versions"). The fix never names a companion's version: it keeps the installed torch
// and lets pip's resolver pick the companion whose metadata fits it. The same id as the failure
// rule in rules.toml.
void torch_release_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    const Distribution* torch = f.scan.find("torch");
    if (!torch || !torch->version) {
        return;
    }
    const auto t = major_minor(*torch);
    const bool table_holds =
        t && ((t->first == 2 && t->second <= 8) || (t->first == 1 && t->second == 13));
    std::vector<std::string> off;
    FixAction pins;
    for (const char* name : {"torchvision", "torchaudio"}) {
        const Distribution* d = f.scan.find(name);
        if (!d || !d->version) {
            continue;
        }
        std::string why;
        if (auto req = torch_requirement(*d, f.markers)) {
            if (req->specifier.contains(*torch->version)) {
                continue;
            }
            why = "its metadata requires " + pep508::requirement_str(*req);
        } else {
            const auto have = major_minor(*d);
            if (!table_holds || !have) {
                continue;
            }
            const bool v1 = t->first == 1;
            const std::pair<int, int> want =
                std::string_view(name) == "torchvision"
                    ? std::pair<int, int>{0, v1 ? 14 : t->second + 15}
                    : std::pair<int, int>{v1 ? 0 : 2, v1 ? 13 : t->second};
            if (*have == want) {
                continue;
            }
            why = "torch " + std::to_string(t->first) + "." + std::to_string(t->second) +
                  " was released with " + name + " " + std::to_string(want.first) + "." +
                  std::to_string(want.second);
        }
        off.push_back(std::string(name) + " " + d->version_text + " (" + why + ")");
        pins.install.push_back(std::string(name) + "!=" + d->version_text);
    }
    if (off.empty()) {
        return;
    }
    pins.install.push_back("torch==" + torch->version_text);  // the companions fit the torch
    if (const std::string local = torch->version->local_str();
        local == "cpu" || local.rfind("cu", 0) == 0 || local.rfind("rocm", 0) == 0) {
        pins.index_url = "https://download.pytorch.org/whl/" + local;
    }
    out.push_back({"torch-release-mismatch", Severity::Error,
                   "torch " + torch->version_text +
                       " is installed with companions built for another torch: " + join(off, "; ") +
                       ". Their native parts do not load (e.g. \"operator torchvision::nms does "
                       "not exist\").",
                   std::move(pins), python_cmd(f), f.platform});
}

// DeepSpeed turned on in AllTalk's settings: it needs DeepSpeed installed and a usable NVIDIA GPU
// (without one, torch fails with "Found no NVIDIA driver on your system": erew123/alltalk_tts#648).
void deepspeed_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    if (!f.alltalk.deepspeed || !f.env) {
        return;
    }
    const std::string off =
        "set " + f.alltalk.deepspeed_where.substr(f.alltalk.deepspeed_where.find(' ') + 1) +
        " to false in " + f.alltalk.deepspeed_where.substr(0, f.alltalk.deepspeed_where.find(' '));
    if (!f.scan.find("deepspeed")) {
        out.push_back({"deepspeed-enabled-missing", Severity::Warning,
                       "DeepSpeed is turned on (" + f.alltalk.deepspeed_where +
                           "), but DeepSpeed is not installed in this env.",
                       off + ", or install the DeepSpeed wheel built for this env's torch and "
                             "Python (AllTalk's setup offers them)"});
    }
    const bool no_gpu = f.cpu_only || (f.gpus && f.gpus->devices.empty());
    if (no_gpu) {
        out.push_back({"deepspeed-enabled-no-gpu", Severity::Error,
                       "DeepSpeed is turned on (" + f.alltalk.deepspeed_where + "), but " +
                           (f.cpu_only ? std::string("this launch hides the GPUs (--cpu)")
                                       : std::string("no NVIDIA GPU is usable here")) +
                           ": DeepSpeed runs only on an NVIDIA GPU, and loading the model fails.",
                       off});
    }
}

std::string gib(std::uint64_t bytes);

// What AllTalk v2's finetune.py checks before it trains: free disk >= 18 GB (shutil.disk_usage
// of its folder), available RAM >= 8 GB (psutil), GPU memory (>= 13 GB passes, 11.5-13 GB warns,
// less fails), and a base model under models/xtts with all its files (scan_models_folder).
void finetune_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    const FinetuneFacts& t = f.finetune;
    if (!t.checked) {
        return;
    }
    constexpr std::uint64_t GiB = 1ull << 30;
    if (t.disk_free && *t.disk_free < 18 * GiB) {
        out.push_back({"finetune-disk", Severity::Warning,
                       "Only " + gib(*t.disk_free) +
                           " is free where AllTalk is; finetune.py wants "
                           "18 GB for the model, the training data and its temporary files.",
                       "Free disk space, or move AllTalk to a drive with 18 GB free."});
    }
    if (t.ram_available && *t.ram_available < 8 * GiB) {
        out.push_back({"finetune-ram", Severity::Warning,
                       "Only " + gib(*t.ram_available) +
                           " of RAM is available; finetune.py "
                           "wants 8 GB.",
                       "Close other programs before finetuning."});
    }
    if (f.gpus && !f.cpu_only) {
        for (const auto& d : f.gpus->devices) {
            if (static_cast<double>(d.memory_bytes) < 13.0 * GiB) {
                const bool low = static_cast<double>(d.memory_bytes) < 11.5 * GiB;
                out.push_back(
                    {"finetune-gpu-memory", low ? Severity::Warning : Severity::Info,
                     "GPU " + std::to_string(d.index) + " (" + d.name + ") has " +
                         gib(d.memory_bytes) + "; finetune.py " +
                         (low ? "fails its check below 11.5 GB" : "warns below 13 GB") +
                         " (12 GB or less needs 24 GB or more of system RAM and may fail).",
                     ""});
            }
        }
    }
    // finetune.py imports pynvml, which no AllTalk requirements file names (issue 28): NVIDIA's
    // nvidia-ml-py provides the module, and the `pynvml` distribution (which depends on it in its
    // later releases) did before.
    if (t.imports_pynvml && !f.scan.find("nvidia-ml-py") && !f.scan.find("pynvml")) {
        FixAction install;
        install.install = {"nvidia-ml-py"};
        out.push_back({"finetune-pynvml-missing", Severity::Error,
                       "finetune.py imports pynvml (to read the GPU's memory), but no installed "
                       "distribution provides it (no AllTalk requirements file names it): "
                       "finetune fails at start with ModuleNotFoundError: No module named "
                       "'pynvml'.",
                       std::move(install), python_cmd(f), f.platform});
    }
    if (t.v2 && t.base_models.empty()) {
        out.push_back({"finetune-no-base-model", Severity::Warning,
                       "No base model for finetuning: finetune.py looks for a folder under "
                       "models/xtts holding config.json, model.pth, mel_stats.pth, "
                       "speakers_xtts.pth, vocab.json and dvae.pth, and found none.",
                       "Start AllTalk with the XTTS engine once (it downloads the model), or "
                       "download an XTTS model from AllTalk's settings page."});
    }
}

void platform_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    const std::string root = f.root.root.string();
    if (!f.root.is_alltalk) {
        out.push_back({"root-not-alltalk", Severity::Warning,
                       "No AllTalk folder was found (" + root +
                           " has no script.py and finetune.py); only the environment was checked.",
                       "Run the doctor from the AllTalk folder, or pass --root <AllTalk folder>."});
    } else {
        // AllTalk v2's script.py checks only its own folder's name (Path(__file__).parent.name):
        // a dash in a parent folder is fine.
        const std::string name = f.root.root.filename().string();
        if (name.find('-') != std::string::npos) {
            out.push_back({"root-path-dash", Severity::Error,
                           "The AllTalk folder's name " + name +
                               " contains a '-'; AllTalk's script.py refuses to start from a "
                               "folder so named.",
                           "Rename the folder so that its name has no '-' (for example "
                           "alltalk_tts instead of alltalk_tts-main), then run AllTalk from "
                           "there."});
        }
        // AllTalk's installers warn about these (atsetup.sh / atsetup.bat: a space, which
        // Miniconda cannot be installed under, and findstr's class [!#$%&()*+,;<=>?@[]^`{|}~]).
        const std::string specials = "!#$%&()*+,;<=>?@[]^`{|}~";
        std::string found;
        if (root.find(' ') != std::string::npos) {
            found = "a space";
        }
        for (char c : root) {
            if (specials.find(c) != std::string::npos &&
                found.find(std::string("'") + c + "'") == std::string::npos) {
                found += (found.empty() ? "'" : ", '") + std::string(1, c) + "'";
            }
        }
        if (!found.empty()) {
            out.push_back(
                {"root-path-chars", Severity::Warning,
                 "The AllTalk folder's path " + root + " contains " + found +
                     ". AllTalk's setup scripts warn about such paths: conda and some "
                     "Python scripts fail in them.",
                 "Move AllTalk to a path without spaces or special characters (for "
                 "example " +
                     std::string(f.windows() ? "C:\\myfiles\\alltalk_tts" : "~/alltalk_tts") +
                     ")."});
        }
    }
    for (const auto& h : f.startup_hooks) {
        out.push_back(
            {"startup-import", Severity::Warning,
             h.file.string() + " imports " + h.imports +
                 " at every Python start (a guide's weights_only workaround). alltalk-launch "
                 "installs the torch allow-list itself, lazily; this file only makes every "
                 "Python start (pip, children) slow and breaks when torch is broken.",
             (f.windows() ? "ren " : "mv ") + text::quote_arg(h.file.string(), f.platform) + " " +
                 text::quote_arg(f.windows() ? h.file.filename().string() + ".disabled"
                                             : h.file.string() + ".disabled",
                                 f.platform)});
    }
    for (const char* var : {"PYTHONHOME", "PYTHONPATH"}) {
        if (auto v = lookup(f.env_vars, var); v && !v->empty()) {
            out.push_back(
                {"shell-" +
                     std::string(var == std::string("PYTHONHOME") ? "pythonhome" : "pythonpath"),
                 Severity::Warning,
                 std::string(var) + " is set in this shell (" + *v +
                     "). alltalk-launch ignores it, but a plain python, pip or conda "
                     "started from here uses the wrong standard library or packages.",
                 f.windows() ? "set " + std::string(var) + "=" : "unset " + std::string(var)});
        }
    }
    for (const AllTalkPort& p : f.ports_in_use) {
        const std::string port = std::to_string(p.port);
        const std::string change = p.source.rfind("confignew.json", 0) == 0
                                       ? "change " + p.source.substr(15) + " in confignew.json"
                                       : "change the port in AllTalk's settings";
        out.push_back({"port-in-use", Severity::Warning,
                       "Port " + port + " (AllTalk's " + p.what + " port, " +
                           (p.source == "default" ? "the default" : "from " + p.source) +
                           ") is already in use, so AllTalk cannot listen on it: another "
                           "AllTalk may be running.",
                       f.windows() ? "netstat -ano | findstr :" + port +
                                         "  (then stop that process, or " + change + ")"
                                   : "ss -ltnp 'sport = :" + port +
                                         "'  (then stop that process, or " + change + ")"});
    }
    if (f.ffmpeg_checked && !f.ffmpeg) {
        // Into the env where it is a conda env (AllTalk's setup installs it so); otherwise the
        // system's ffmpeg: `conda install -p` does not work on a venv or a plain prefix.
        std::string fix;
        if (f.env && f.env->kind == EnvKind::Conda) {
            fix = "conda install -y -p " + text::quote_arg(f.env->dir.string(), f.platform) +
                  " -c conda-forge ffmpeg";
        } else if (f.windows()) {
            fix = "winget install --id Gyan.FFmpeg -e   (then open a new terminal)";
        } else {
            fix = "sudo apt install ffmpeg   (or your system's ffmpeg package)";
        }
        out.push_back({"ffmpeg-missing", Severity::Warning,
                       "ffmpeg was not found in the env or on PATH; AllTalk needs it for audio "
                       "formats other than wav and for transcoding.",
                       fix});
    }
}

// torch and torchaudio again, from `index_url` (a CUDA build for this GPU).
FixAction torch_reinstall(std::string index_url) {
    FixAction a;
    a.install = {"torch", "torchaudio"};
    a.options = {"--force-reinstall"};
    a.index_url = std::move(index_url);
    return a;
}

std::string gib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
    return buf;
}

// cuDNN needs and what serves them; GPUs and torch's architectures (the launcher's own analysis,
// so the doctor says what `alltalk-launch server` will do).
void native_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    const bool have_gpu = f.gpus && !f.gpus->devices.empty();
    if (f.native) {
        for (const auto& m : f.native->missing) {
            std::string who;
            bool gpu_only = true;
            for (const auto& n : m.needed_by) {
                who += (who.empty() ? "" : ", ") + n.who;
                gpu_only = gpu_only && n.gpu_only;
            }
            const bool error = !gpu_only || have_gpu;
            Finding x{"cudnn-missing", error ? Severity::Error : Severity::Warning,
                      "cuDNN " + std::to_string(m.major) + " is needed by " + who +
                          ", and no folder with it was found" +
                          (error ? "." : " (needed only on the GPU; none was found here)."),
                      m.fix};
            // The pip requirement as the action (the launch's own message keeps m.fix); a conda
            // package stays advice.
            if (const CudnnFixParts parts = cudnn_fix_parts(m); !parts.requirement.empty()) {
                const std::string py = python_cmd(f);
                FixAction a;
                a.install = {parts.requirement};
                if (!parts.alternative.empty()) {
                    a.note = "or remove the cuDNN " + std::to_string(m.major) + " need with " + py +
                             " -m pip install " + text::quote_arg(parts.alternative, f.platform);
                }
                x.set_action(std::move(a), py, f.platform);
            }
            out.push_back(std::move(x));
        }
        for (const auto& c : f.native->choices) {
            std::string who;
            for (const auto& n : f.native->needs) {
                if (n.major == c.major) {
                    who += (who.empty() ? "" : ", ") + n.who;
                }
            }
            out.push_back({"cudnn-served", Severity::Info,
                           "cuDNN " + std::to_string(c.major) + " (" + c.candidate.version +
                               ", needed by " + who + ") is served from " +
                               c.candidate.dir.string() + " (" + c.candidate.origin + ").",
                           ""});
        }
        if (!f.native->override_problem.empty()) {
            out.push_back({"cudnn-override", Severity::Error, f.native->override_problem,
                           "Point --cudnn / [native] cudnn at a folder with the cuDNN libraries, "
                           "or remove it to let the launcher choose."});
        }
    }
    // torch's compiled architectures, always (a report from a machine without a GPU shows them).
    if (f.torch_archs) {
        std::string files;
        for (const auto& p : f.torch_arch_files) {
            files += (files.empty() ? "" : ", ") + p.filename().string();
        }
        out.push_back({"torch-archs", Severity::Info,
                       "torch's CUDA kernels are built for: " + text::join(*f.torch_archs, " ") +
                           " (read from " + files + ").",
                       ""});
    } else if (!f.torch_arch_error.empty()) {
        out.push_back({"torch-archs", Severity::Warning,
                       f.torch_arch_error +
                           ". torch's GPU architectures are unknown, so the launcher skips its "
                           "architecture check (a reinstall of torch repairs a cut-off file).",
                       ""});
    }
    if (f.cpu_only) {
        out.push_back({"gpu-hidden", Severity::Info,
                       "--cpu or [native] cpu = true: the app sees no GPU "
                       "(CUDA_VISIBLE_DEVICES=) and runs on the CPU; the GPUs were not checked.",
                       ""});
    }
    if (f.gpus) {
        if (f.gpus->devices.empty()) {
            out.push_back({"gpu-none", Severity::Info,
                           "No NVIDIA GPU is usable here (" +
                               (f.gpus->note.empty() ? std::string("no device") : f.gpus->note) +
                               "): AllTalk runs on the CPU.",
                           ""});
        }
        // A CPU-only wheel ("2.2.1+cpu") beside an NVIDIA GPU: AllTalk runs on the CPU and
        // DeepSpeed fails (erew123/alltalk_tts#45, #61, #104, #222). Quiet for other builds.
        if (const Distribution* torch = f.scan.find("torch");
            torch && torch->version && torch->version->local_str() == "cpu" &&
            !f.gpus->devices.empty()) {
            out.push_back({"torch-cpu-build", Severity::Warning,
                           "torch " + torch->version_text +
                               " is a CPU-only build, but an NVIDIA "
                               "GPU is present: AllTalk runs on the CPU (\"CUDA is not "
                               "available\") and DeepSpeed cannot work.",
                           torch_reinstall("https://download.pytorch.org/whl/cu128"), python_cmd(f),
                           f.platform});
        }
        for (const auto& d : f.gpus->devices) {
            const std::string sm = "sm_" + std::to_string(d.cc_major) + std::to_string(d.cc_minor);
            out.push_back({"gpu", Severity::Info,
                           "GPU " + std::to_string(d.index) + ": " + d.name + ", " + sm + ", " +
                               gib(d.memory_bytes) + ".",
                           ""});
            if (!f.torch_archs) {
                continue;
            }
            const ArchVerdict v = check_arch(d.cc_major, d.cc_minor, *f.torch_archs);
            if (!v.compatible) {
                // With the check off (--no-gpu-check, [native] gpu_check = false) the launch
                // starts anyway: the app fails at its first CUDA operation.
                const std::string off =
                    f.gpu_check ? ""
                                : " The launcher's check is off (--no-gpu-check or [native] "
                                  "gpu_check = false), so AllTalk starts and fails there.";
                std::string list;
                for (const auto& a : *f.torch_archs) {
                    list += (list.empty() ? "" : " ") + a;
                }
                const std::string py = python_cmd(f);
                out.push_back({"gpu-arch", f.gpu_check ? Severity::Error : Severity::Warning,
                               "The installed torch has no kernels for " + d.name + " (" + sm +
                                   "); it was built for: " + list +
                                   ". CUDA operations fail with \"no kernel image is available "
                                   "for execution on the device\"." +
                                   off,
                               torch_reinstall(torch_index_for(d.cc_major, d.cc_minor)), py,
                               f.platform});
            }
        }
    }
}

std::string step_place(const DeepStep& s) {
    if (s.file.empty()) {
        return "";
    }
    return " (" + s.file + (s.line > 0 ? " line " + std::to_string(s.line) : "") + ")";
}

// An exception's message on one line (some span several, or start with a newline), shortened.
std::string one_line(const std::string& text) {
    std::string out;
    for (const auto& line : text::split(text, '\n')) {
        if (std::string_view t = text::trim(line); !t.empty()) {
            out += (out.empty() ? "" : " ") + std::string(t);
        }
    }
    if (out.size() > 300) {
        out = out.substr(0, 297) + "...";
    }
    return out;
}

// The commands a deep step's failure stops, where its child covered several (DeepCheck::also): a
// statement of a further command's script stops that command, one of the first command's files
// the first; the imports the probe adds (no file) concern them all (empty: every command).
std::vector<Command> step_commands(const DeepCheck& d, const DeepStep& s,
                                   const std::vector<Command>& commands) {
    if (!s.command.empty()) {  // from that command's own child: all its steps are its own
        for (Command c : commands) {
            if (to_string(c) == s.command) {
                return {c};
            }
        }
    }
    if (d.also.empty() || s.file.empty() || commands.empty()) {
        return {};
    }
    for (const DeepAlso& a : d.also) {
        const bool server_part = a.command == "server" &&
                                 fs::path(s.file).filename() == "tts_server.py" &&
                                 to_string(commands.front()) != std::string("server");
        if (fs::path(s.file) == a.script || server_part) {
            for (Command c : commands) {
                if (to_string(c) == a.command) {
                    return {c};
                }
            }
        }
    }
    return {commands.front()};
}

// doctor --deep: each step that failed, hung or crashed, with its explanation and fix, each
// labelled with the commands it stops.
void deep_findings(const DeepCheck& d, const std::vector<Command>& commands,
                   std::vector<Finding>& out) {
    if (d.launch_error) {
        out.push_back({"deep-launch", Severity::Error,
                       "The deep check's launch ended before Python ran anything (exit status " +
                           std::to_string(d.launch_status) + "): " + *d.launch_error,
                       "Fix what the launch reports above; `alltalk-launch -v server` shows the "
                       "same start."});
    }
    for (const auto& s : d.steps) {
        if (s.status == StepStatus::Ok) {
            continue;
        }
        const std::size_t before = out.size();
        const std::string what = "`" + s.name + "`" + step_place(s);
        const std::string known =
            s.explanation ? " [" + s.explanation->id + "] " + s.explanation->message : "";
        // The explanation's action, and its fix as rendered from it.
        auto explained = [&](Finding x) {
            if (s.explanation) {
                x.action = s.explanation->action;
                x.fix = s.explanation->fix;
            }
            return x;
        };
        const bool soft = s.optional || s.conditional;
        const std::string why_soft =
            s.optional      ? " The script catches this failure (the import is in a try)."
            : s.conditional ? " The import is inside a module-level `if`, which may not run here."
                            : "";
        if (s.status == StepStatus::TimedOut) {
            out.push_back({"deep-timeout", Severity::Warning,
                           what + " did not finish within " +
                               std::to_string(static_cast<int>(d.timeout_s)) +
                               " s: it hangs, or this machine is very slow to load it. AllTalk "
                               "waits for its server for 240 s at most.",
                           "run the check again with a longer limit: alltalk-launch doctor --deep "
                           "--deep-timeout 300"});
        } else if (s.status == StepStatus::Crashed) {
            out.push_back(explained(
                {"deep-crash", Severity::Error,
                 what + " ended the process (" +
                     (s.failure.exception_code != 0
                          ? exception_description(s.failure.exception_code)
                      : s.failure.signal != 0 ? signal_description(s.failure.signal)
                                              : "exit status " + std::to_string(s.exit_status)) +
                     ")." + known,
                 ""}));
        } else {
            const std::string error =
                text::last_dotted_part(s.failure.exception_type) +
                (s.failure.message.empty() ? "" : ": " + one_line(s.failure.message));
            out.push_back(explained(
                {s.kind == "gpu" ? "deep-gpu" : "deep-import",
                 soft ? Severity::Warning : Severity::Error,
                 what + " failed: " + error + (error.ends_with('.') ? "" : ".") + known + why_soft,
                 ""}));
        }
        for (std::size_t i = before; i < out.size(); ++i) {
            out[i].commands = step_commands(d, s, commands);
        }
    }
}

// The command's overlay: a note of what its view holds, or what is wrong with it.
void overlay_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    if (!f.overlay) {
        return;
    }
    const overlay::Status& s = *f.overlay;
    const std::string sync = "alltalk-launch overlay sync " + s.command;
    switch (s.state) {
        case overlay::State::Current:
            out.push_back({"overlay", Severity::Info,
                           "This check sees " + s.command + "'s view: " + overlay::describe(s) +
                               ", ahead of the env's site-packages.",
                           ""});
            break;
        case overlay::State::Stale:
            out.push_back({"overlay-stale", Severity::Warning,
                           s.command + "'s overlay was made for other requirements or another " +
                               "base env (" + overlay::describe(s) + "); it is still used.",
                           sync});
            break;
        case overlay::State::Missing:
            out.push_back({"overlay-missing", Severity::Warning,
                           s.command + " has an overlay configured, but it has not been made, so " +
                               s.command + " runs with the env's own versions.",
                           sync});
            break;
        case overlay::State::Corrupt:
            out.push_back({"overlay-corrupt", Severity::Error,
                           s.command + "'s overlay is damaged (" + s.problem + "), so `" +
                               "alltalk-launch " + s.command + "` refuses to start.",
                           sync});
            break;
    }
}

// A further command that could not be resolved (its configured env does not exist, say).
void unresolved_findings(const DoctorFacts& f, std::vector<Finding>& out) {
    const LaunchError& e = *f.unresolved;
    ErrorText what = e.text();
    what.fix.clear();
    out.push_back({e.stage() == Stage::Env ? "env-not-found"
                                           : std::string("unresolved-") + to_string(e.stage()),
                   Severity::Error,
                   launch_commands(f) + " cannot start: " + LaunchError::paragraph(what),
                   e.text().fix});
}

}  // namespace

DoctorReport diagnose(const DoctorFacts& facts, const RuleSet& rules) {
    DoctorReport r;
    r.commands = facts.commands;
    if (facts.unresolved) {
        r.unresolved = facts.unresolved->text();
        unresolved_findings(facts, r.findings);
        for (auto& x : r.findings) {
            x.commands = facts.commands;
        }
        return r;
    }
    r.env_source = facts.env_source;
    r.cpu_only = facts.cpu_only;
    r.gpu_check = facts.gpu_check;
    r.cudnn_override = facts.cudnn_override;
    r.cudnn_override_source = facts.cudnn_override_source;
    r.cudnn_majors = facts.cudnn_majors;
    r.root = facts.root.root;
    if (facts.env) {
        r.python_version = facts.env->version.text;
        r.python_prefix = facts.env->dir;
        r.python = facts.env->python;
    }
    r.distributions = facts.scan.dists.size();
    env_findings(facts, r.findings);
    if (facts.env) {
        r.check = check_requirements(facts.scan, facts.markers);
    }
    conflict_findings(facts, r.check, r.findings);
    rule_findings(facts, rules, r.findings);
    torch_release_findings(facts, r.findings);
    overlay_findings(facts, r.findings);
    deepspeed_findings(facts, r.findings);
    finetune_findings(facts, r.findings);
    platform_findings(facts, r.findings);
    native_findings(facts, r.findings);
    if (facts.deep) {
        r.deep = facts.deep;
        deep_findings(*facts.deep, facts.commands, r.findings);
    }
    std::stable_sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
        return static_cast<int>(a.severity) < static_cast<int>(b.severity);
    });
    for (auto& x : r.findings) {
        // finetune.py's own checks concern finetune alone, even in a check shared with server;
        // a deep step's failure is labelled already where the child covered several commands.
        if (!x.commands.empty()) {
            continue;
        }
        x.commands = x.id.rfind("finetune-", 0) == 0 ? std::vector<Command>{Command::Finetune}
                                                     : facts.commands;
    }
    return r;
}

DoctorResult diagnose_all(const std::vector<DoctorFacts>& facts, const RuleSet& rules) {
    DoctorResult out;
    for (const auto& f : facts) {
        out.checks.push_back(diagnose(f, rules));
    }
    for (const auto& check : out.checks) {
        out.commands.insert(out.commands.end(), check.commands.begin(), check.commands.end());
        for (const auto& x : check.findings) {
            // The same finding from another check (a port, the shell, the root): one entry.
            auto same =
                std::find_if(out.findings.begin(), out.findings.end(), [&](const Finding& y) {
                    return y.id == x.id && y.severity == x.severity && y.message == x.message &&
                           y.fix == x.fix;
                });
            if (same == out.findings.end()) {
                out.findings.push_back(x);
            } else {
                same->commands.insert(same->commands.end(), x.commands.begin(), x.commands.end());
            }
        }
    }
    std::stable_sort(out.findings.begin(), out.findings.end(),
                     [](const Finding& a, const Finding& b) {
                         return static_cast<int>(a.severity) < static_cast<int>(b.severity);
                     });
    return out;
}

}  // namespace alltalk
