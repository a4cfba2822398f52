#include "plan/child_codec.hpp"

#include <toml++/toml.h>
#include <sstream>

#include "base/error.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

constexpr int kCodecVersion = 1;

Command command_from(const std::string& s) {
    for (Command c : {Command::Server, Command::Finetune, Command::Run, Command::Python}) {
        if (s == to_string(c)) {
            return c;
        }
    }
    throw LaunchError(Stage::Child, "unknown command '" + s + "'");
}

EnvKind kind_from(const std::string& s) {
    for (EnvKind k : {EnvKind::Conda, EnvKind::Prefix, EnvKind::Venv}) {
        if (s == to_string(k)) {
            return k;
        }
    }
    throw LaunchError(Stage::Child, "unknown env kind '" + s + "'");
}

// Paths travel as UTF-8 text: a std::string given to std::filesystem::path is read in the ANSI
// code page on Windows, which is not UTF-8 everywhere (older Windows, wine).
std::string utf8(const fs::path& p) {
    return process::to_utf8(p);
}

}  // namespace

std::string encode_child_plan(const LaunchPlan& plan, const StartOutcome& outcome) {
    toml::table t{
        {"codec", kCodecVersion},
        {"command", to_string(plan.command)},
        {"root", utf8(plan.root.root)},
        {"root_is_alltalk", plan.root.is_alltalk},
        {"env", utf8(plan.env.dir)},
        {"env_kind", to_string(plan.env.kind)},
        {"platform", plan.env.platform == Platform::Windows ? "windows" : "posix"},
        {"python_version", plan.env.version.text},
        {"python", utf8(plan.env.python)},
        {"home", utf8(plan.env.home)},
        {"base_prefix", utf8(plan.env.base_prefix)},
        {"libpython", utf8(plan.env.libpython)},
        {"site_packages", utf8(plan.env.site_packages)},
        {"launcher", utf8(plan.launcher)},
    };
    toml::array safe_globals;
    for (const auto& g : plan.torch_safe_globals) {
        safe_globals.push_back(g.spec());
    }
    t.insert("torch_safe_globals", std::move(safe_globals));
    if (plan.config_file) {
        t.insert("config", utf8(*plan.config_file));
    }
    if (plan.script) {
        t.insert("script", utf8(*plan.script));
    }
    if (plan.overlay_dir) {
        t.insert("overlay_dir", utf8(*plan.overlay_dir));
    }
    if (plan.cudnn_link_dir && outcome.cudnn_links) {
        t.insert("cudnn_link_dir", plan.cudnn_link_dir->string());
    }
    std::ostringstream os;
    os << t;
    return os.str();
}

LaunchPlan decode_child_plan(std::string_view text) {
    try {
        toml::table t = toml::parse(text, std::string_view{"ALLTALK_LAUNCH_CHILD"});
        if (t["codec"].value_or(0) != kCodecVersion) {
            throw LaunchError(Stage::Child, "it was written by another version of alltalk-launch");
        }
        auto str = [&](const char* key) -> std::string {
            auto v = t[key].value<std::string>();
            if (!v) {
                throw LaunchError(Stage::Child, std::string("the entry '") + key + "' is missing");
            }
            return *v;
        };
        auto path = [&](const char* key) { return process::from_utf8(str(key)); };
        LaunchPlan plan;
        plan.command = command_from(str("command"));
        plan.root.root = path("root");
        plan.root.source = "parent launcher";
        plan.root.is_alltalk = t["root_is_alltalk"].value_or(false);
        plan.env_choice.dir = path("env");
        plan.env_choice.source = "parent launcher";
        plan.env.dir = plan.env_choice.dir;
        plan.env.kind = kind_from(str("env_kind"));
        plan.env.platform = t["platform"].value_or(std::string()) == "windows" ? Platform::Windows
                                                                               : Platform::Posix;
        plan.env.version.text = str("python_version");
        plan.env.python = path("python");
        plan.env.home = path("home");
        plan.env.base_prefix = path("base_prefix");
        plan.env.libpython = path("libpython");
        plan.env.site_packages = path("site_packages");
        plan.launcher = path("launcher");
        if (auto c = t["config"].value<std::string>()) {
            plan.config_file = process::from_utf8(*c);
        }
        if (auto s = t["script"].value<std::string>()) {
            plan.script = process::from_utf8(*s);
        }
        if (auto o = t["overlay_dir"].value<std::string>()) {
            plan.overlay_dir = process::from_utf8(*o);
        }
        if (auto d = t["cudnn_link_dir"].value<std::string>()) {
            plan.cudnn_link_dir = fs::path(*d);
        }
        if (const toml::array* arr = t["torch_safe_globals"].as_array()) {
            for (const auto& item : *arr) {
                SafeGlobal g;
                g.source = "parent launcher";
                auto spec = item.value<std::string>();
                if (!spec || parse_safe_global(*spec, g)) {
                    throw LaunchError(Stage::Child, "a torch_safe_globals entry is not valid");
                }
                plan.torch_safe_globals.push_back(std::move(g));
            }
        }
        return plan;
    } catch (const toml::parse_error& err) {
        throw LaunchError(Stage::Child, std::string(err.description()));
    }
}

LaunchPlan make_child_plan(const LaunchPlan& parent, const std::vector<std::string>& args,
                           const EnvMap& env_vars) {
    LaunchPlan child = parent;
    child.python_argv.assign(1, parent.env.python.string());
    child.python_argv.insert(child.python_argv.end(), args.begin(), args.end());
    child.env_changes.clear();
    if (parent.cudnn_link_dir) {
        child.env_changes.push_back(
            library_path_with({*parent.cudnn_link_dir}, "cuDNN links", env_vars, Platform::Posix));
    }
    return child;
}

}  // namespace alltalk
