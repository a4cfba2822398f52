// The doctor's effects: discovery, reading site-packages, the shell environment, ports and PATH.
// Nothing here runs or imports the env's Python.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/text.hpp"
#include "diagnose/doctor.hpp"
#include "gpu/torch_arch.hpp"
#include "os/process.hpp"
#include "plan/plan.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

using files::is_file;

// A site-packages folder of an env we could not inspect (for the scan only).
std::optional<fs::path> guess_site_packages(const fs::path& env) {
    if (fs::path win = env / "Lib" / "site-packages"; fs::is_directory(win)) {
        return win;
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(env / "lib", ec)) {
        fs::path sp = e.path() / "site-packages";
        if (e.path().filename().string().rfind("python3", 0) == 0 && fs::is_directory(sp, ec)) {
            return sp;
        }
    }
    return std::nullopt;
}

}  // namespace

pep508::MarkerEnv marker_env(const PythonEnv& env) {
    const bool windows = env.platform == Platform::Windows;
    const process::HostInfo host = process::host_info();
    std::string full = env.version.text;
    if (std::count(full.begin(), full.end(), '.') < 2) {
        full += ".0";  // the layout did not tell the patch level
    }
    return {
        {"python_version", env.version.short_text()},
        {"python_full_version", full},
        {"os_name", windows ? "nt" : "posix"},
        {"sys_platform", windows ? "win32" : "linux"},
        {"platform_system", host.system},
        {"platform_release", host.release},
        {"platform_version", host.version},
        {"platform_machine", host.machine},
        {"platform_python_implementation", "CPython"},
        {"implementation_name", "cpython"},
        {"implementation_version", full},
    };
}

namespace {

std::string read_head(const fs::path& p, std::size_t limit = 64 * 1024) {
    std::ifstream in(p, std::ios::binary);
    std::string s(limit, '\0');
    in.read(s.data(), static_cast<std::streamsize>(limit));
    s.resize(static_cast<std::size_t>(in.gcount()));
    return s;
}

// Which of the heavy modules a start-up file imports.
std::string heavy_imports(const std::string& code, bool pth) {
    std::vector<std::string> found;
    std::istringstream in(code);
    std::string line;
    while (std::getline(in, line)) {
        std::size_t b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#') {
            continue;
        }
        line = line.substr(b);
        // A .pth file runs only lines that start with "import"; a .py file runs all of them.
        if (pth && line.rfind("import", 0) != 0) {
            continue;
        }
        for (const char* mod : {"torch", "TTS", "tensorflow"}) {
            const std::string m = mod;
            for (const std::string& pat : {"import " + m, "from " + m, "import(\"" + m,
                                           "import_module(\"" + m, "import_module('" + m}) {
                std::size_t at = line.find(pat);
                if (at == std::string::npos) {
                    continue;
                }
                char after = at + pat.size() < line.size() ? line[at + pat.size()] : '\n';
                if ((std::isalnum(static_cast<unsigned char>(after)) || after == '_')) {
                    continue;  // a longer name (torchaudio, TTS_extra): not this module
                }
                if (std::find(found.begin(), found.end(), m) == found.end()) {
                    found.push_back(m);
                }
            }
        }
    }
    std::string out;
    for (const auto& f : found) {
        out += (out.empty() ? "" : ", ") + f;
    }
    return out;
}

std::vector<StartupHook> startup_hooks(const fs::path& site) {
    std::vector<StartupHook> out;
    for (const char* name : {"sitecustomize.py", "usercustomize.py"}) {
        fs::path p = site / name;
        if (is_file(p)) {
            if (auto imports = heavy_imports(read_head(p), false); !imports.empty()) {
                out.push_back({p, imports});
            }
        }
    }
    std::error_code ec;
    std::vector<fs::path> pths;
    for (const auto& e : fs::directory_iterator(site, ec)) {
        if (e.path().extension() == ".pth") {
            pths.push_back(e.path());
        }
    }
    std::sort(pths.begin(), pths.end());
    for (const auto& p : pths) {
        if (auto imports = heavy_imports(read_head(p), true); !imports.empty()) {
            out.push_back({p, imports});
        }
    }
    return out;
}

std::optional<fs::path> find_program(const std::string& name, const std::vector<fs::path>& first,
                                     const EnvMap& env_vars, Platform platform) {
    const bool windows = platform == Platform::Windows;
    std::vector<fs::path> dirs = first;
    if (auto path = lookup(env_vars, windows ? "Path" : "PATH")) {
        std::string s = *path;
        std::size_t start = 0;
        while (start <= s.size()) {
            std::size_t sep = s.find(process::path_list_separator(), start);
            std::string item = s.substr(start, sep == std::string::npos ? sep : sep - start);
            if (!item.empty()) {
                dirs.push_back(process::from_utf8(item));
            }
            if (sep == std::string::npos) {
                break;
            }
            start = sep + 1;
        }
    }
    for (const auto& d : dirs) {
        fs::path p = d / (windows ? name + ".exe" : name);
        if (is_file(p)) {
            return p;
        }
    }
    return std::nullopt;
}

}  // namespace

namespace {

// A port number as AllTalk's config holds it: a number (v2) or a string of digits (v1).
std::optional<int> port_value(const nlohmann::json& v) {
    if (v.is_number_integer()) {
        const auto n = v.get<long long>();
        return n > 0 && n < 65536 ? std::optional<int>(static_cast<int>(n)) : std::nullopt;
    }
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        if (s.empty() || s.size() > 5 ||
            !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return std::nullopt;
        }
        const int n = std::stoi(s);
        return n > 0 && n < 65536 ? std::optional<int>(n) : std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

namespace {

nlohmann::json read_json(const fs::path& p) {
    if (!is_file(p)) {
        return nullptr;
    }
    return nlohmann::json::parse(read_head(p, 1024 * 1024), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

AllTalkSettings alltalk_settings(const fs::path& root) {
    AllTalkSettings out;
    const fs::path engines = root / "system" / "tts_engines";
    if (const nlohmann::json e = read_json(engines / "tts_engines.json"); e.is_object()) {  // v2
        auto loaded = e.find("engine_loaded");
        if (loaded == e.end() || !loaded->is_string()) {
            return out;
        }
        out.engine = loaded->get<std::string>();
        if (out.engine.empty() || out.engine.find_first_of("/\\.") != std::string::npos) {
            return out;
        }
        const nlohmann::json m = read_json(engines / out.engine / "model_settings.json");
        if (m.is_object()) {
            auto settings = m.find("settings");
            if (settings != m.end() && settings->is_object()) {
                auto on = settings->find("deepspeed_enabled");
                if (on != settings->end() && on->is_boolean() && on->get<bool>()) {
                    out.deepspeed = true;
                    out.deepspeed_where = "system/tts_engines/" + out.engine +
                                          "/model_settings.json settings.deepspeed_enabled";
                }
            }
        }
        return out;
    }
    if (const nlohmann::json c = read_json(root / "confignew.json"); c.is_object()) {  // v1
        auto on = c.find("deepspeed_activate");
        if (on != c.end() && on->is_boolean() && on->get<bool>()) {
            out.deepspeed = true;
            out.deepspeed_where = "confignew.json deepspeed_activate";
        }
    }
    return out;
}

std::vector<std::string> finetune_base_models(const fs::path& root) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root / "models" / "xtts", ec)) {
        if (!e.is_directory(ec)) {
            continue;
        }
        bool all = true;
        for (const char* name : {"config.json", "model.pth", "mel_stats.pth", "speakers_xtts.pth",
                                 "vocab.json", "dvae.pth"}) {
            all = all && fs::exists(e.path() / name, ec);
        }
        if (all) {
            out.push_back(e.path().filename().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

// MemAvailable from /proc/meminfo (what psutil's virtual_memory().available reads on Linux).
std::optional<std::uint64_t> available_ram() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib) {
        std::getline(in, unit);
        if (key == "MemAvailable:") {
            return kib * 1024;
        }
    }
    return std::nullopt;
}

FinetuneFacts finetune_facts(const fs::path& root) {
    FinetuneFacts f;
    f.checked = true;
    std::error_code ec;
    const fs::space_info space = fs::space(root, ec);
    if (!ec && space.available != static_cast<std::uintmax_t>(-1)) {
        f.disk_free = space.available;
    }
    f.ram_available = available_ram();
    f.v2 = fs::is_directory(root / "system" / "tts_engines", ec);
    if (f.v2) {
        f.base_models = finetune_base_models(root);
    }
    // A top-level `import pynvml` / `from pynvml import ...` (AllTalk v2's finetune.py, line 37).
    for (const auto& line : text::split(files::read_all(root / "finetune.py"), '\n')) {
        if (line.rfind("import pynvml", 0) == 0 || line.rfind("from pynvml import", 0) == 0) {
            f.imports_pynvml = true;
            break;
        }
    }
    return f;
}

}  // namespace

std::vector<AllTalkPort> alltalk_ports(const fs::path& root) {
    std::vector<AllTalkPort> out = {{kAllTalkPorts[0], "API", "default"},
                                    {kAllTalkPorts[1], "web UI", "default"},
                                    {kAllTalkPorts[2], "finetuning UI", "finetune.py"}};
    const fs::path config = root / "confignew.json";
    if (!is_file(config)) {
        return out;
    }
    const nlohmann::json doc = nlohmann::json::parse(read_head(config, 1024 * 1024), nullptr,
                                                     /*allow_exceptions=*/false);
    if (!doc.is_object()) {
        return out;
    }
    auto take = [&](AllTalkPort& p, const nlohmann::json* v, const char* key) {
        if (v) {
            if (auto n = port_value(*v)) {
                p.port = *n;
                p.source = std::string("confignew.json ") + key;
            }
        }
    };
    auto member = [](const nlohmann::json& obj, const char* key) -> const nlohmann::json* {
        auto it = obj.find(key);
        return it == obj.end() ? nullptr : &*it;
    };
    if (const auto* api = member(doc, "api_def"); api && api->is_object()) {  // v2
        take(out[0], member(*api, "api_port_number"), "api_def.api_port_number");
        take(out[1], member(doc, "gradio_port_number"), "gradio_port_number");
    } else if (const auto* v1 = member(doc, "port_number")) {  // v1: one port, API and page
        take(out[0], v1, "port_number");
        out.erase(out.begin() + 1);
    }
    return out;
}

namespace {

// The script a command starts (its [command] script, else AllTalk's), as the launch plans it.
fs::path command_script(const CommandResolution& res, Command c) {
    const CommandConfig* cc = res.config.command(to_string(c));
    const std::string fallback = c == Command::Finetune ? "finetune.py" : "script.py";
    return absolute_from(cc && cc->script ? *cc->script : fallback, res.root.root);
}

// doctor --deep's further commands for one check (DoctorFacts::deep_also): its commands after the
// first whose scripts' imports one child can run as they would run in their own launch, which
// holds where the script sits in the first's folder (the child puts that first on sys.path) and
// its [command] environment is the first's.
std::vector<DeepAlso> deep_also(const CommandResolution& res, const std::vector<Command>& cmds) {
    std::vector<DeepAlso> out;
    if (cmds.size() < 2) {
        return out;
    }
    const fs::path first = command_script(res, cmds.front());
    const CommandConfig* first_cc = res.config.command(to_string(cmds.front()));
    for (std::size_t i = 1; i < cmds.size(); ++i) {
        const fs::path script = command_script(res, cmds[i]);
        const CommandConfig* cc = res.config.command(to_string(cmds[i]));
        const bool same_env =
            (cc ? cc->environment : std::map<std::string, std::string>{}) ==
            (first_cc ? first_cc->environment : std::map<std::string, std::string>{});
        if ((cmds[i] == Command::Server || cmds[i] == Command::Finetune) && same_env &&
            script.parent_path() == first.parent_path() && files::is_file(script)) {
            out.push_back({to_string(cmds[i]), script});
        }
    }
    return out;
}

}  // namespace

std::vector<DoctorCheck> doctor_checks(const DoctorRequest& request, const DiscoveryInputs& in,
                                       const PlanContext& ctx) {
    const bool by_default = request.commands.empty();
    const std::vector<Command> commands =
        by_default ? std::vector<Command>{Command::Server, Command::Finetune} : request.commands;
    std::vector<DoctorCheck> checks;
    for (Command c : commands) {
        LaunchRequest r = request.overrides;
        r.command = c;
        std::optional<CommandResolution> res;
        try {
            res = resolve_command(r, in, ctx, EnvReading::Report);
        } catch (const LaunchError& e) {
            if (checks.empty()) {
                throw;  // nothing to check: the doctor cannot run
            }
            checks.push_back({{c}, std::nullopt, e});
            continue;
        }
        auto same = std::find_if(checks.begin(), checks.end(), [&](const DoctorCheck& k) {
            return k.resolution && k.resolution->same_checks_as(*res);
        });
        if (same != checks.end()) {
            same->commands.push_back(c);
        } else {
            checks.push_back({{c}, std::move(res), std::nullopt});
        }
    }
    return checks;
}

DoctorFacts gather_facts(const DoctorCheck& check, const DiscoveryInputs& in) {
    DoctorFacts f;
    f.commands = check.commands;
    f.env_vars = in.env_vars;
    if (!check.resolution) {
        f.unresolved = check.unresolved;
        return f;
    }
    const CommandResolution& res = *check.resolution;
    f.root = res.root;
    f.deep_also = deep_also(res, f.commands);
    const EnvChoice& choice = res.env_choice;
    f.env_dir = choice.dir;
    f.env_source = choice.source;
    f.env = res.env;
    if (res.env_error) {
        f.env_error = res.env_error->text();
    }
    f.launcher_python = res.want;
    f.cudnn_override = res.native.override_dir;
    f.cudnn_override_source = res.native.override_source;
    f.cudnn_majors = res.native.configured_majors;
    f.cpu_only = res.cpu_only;
    f.gpu_check = res.gpu_check;
    f.platform = f.env ? f.env->platform : layout_platform(choice.dir);
    std::optional<fs::path> site =
        f.env ? std::optional<fs::path>(f.env->site_packages) : guess_site_packages(choice.dir);
    if (site) {
        f.scan = scan_site_packages(*site);
        f.base_scan = f.scan;
        f.startup_hooks = startup_hooks(*site);
    }
    if (f.env && res.overlay_status) {
        // The command's view: what it imports with its overlay ahead of site-packages.
        f.overlay = res.overlay_status;
        if (res.native.overlay_dir) {
            f.scan = layered(scan_site_packages(*res.native.overlay_dir), f.scan);
        }
    }
    if (f.env) {
        f.markers = marker_env(*f.env);
        f.ffmpeg =
            find_program("ffmpeg", activation_path(*f.env, f.platform), in.env_vars, f.platform);
        f.ffmpeg_checked = true;
        NativeFacts nf = res.native;  // the launch's own cuDNN inputs
        nf.scan = &f.scan;
        f.native = analyze_native(nf);
        if (!f.cpu_only) {  // the launch hides the GPUs and probes none
            f.gpus = probe_gpus(cudart_candidates(*f.env));
        }
        TorchArchs t = read_torch_arch_facts(f.env->site_packages);
        f.torch_archs = std::move(t.archs);
        f.torch_arch_files = std::move(t.files);
        f.torch_arch_error = std::move(t.error);
    }
    if (f.root.is_alltalk) {
        f.alltalk = alltalk_settings(f.root.root);
        if (std::find(f.commands.begin(), f.commands.end(), Command::Finetune) !=
            f.commands.end()) {
            f.finetune = finetune_facts(f.root.root);
        }
    }
    for (const AllTalkPort& p : alltalk_ports(f.root.root)) {
        if (process::tcp_port_in_use(p.port)) {
            f.ports_in_use.push_back(p);
        }
    }
    return f;
}

std::vector<DoctorFacts> gather_doctor_facts(const DoctorRequest& request,
                                             const DiscoveryInputs& in, const PlanContext& ctx) {
    std::vector<DoctorFacts> out;
    for (const DoctorCheck& check : doctor_checks(request, in, ctx)) {
        out.push_back(gather_facts(check, in));
    }
    return out;
}

}  // namespace alltalk
