#include "plan_codec.hpp"

#include <toml++/toml.h>
#include <sstream>

#include "error.hpp"

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
    throw LaunchError("child", "unknown command '" + s + "'");
}

EnvKind kind_from(const std::string& s) {
    for (EnvKind k : {EnvKind::Conda, EnvKind::Prefix, EnvKind::Venv}) {
        if (s == to_string(k)) {
            return k;
        }
    }
    throw LaunchError("child", "unknown env kind '" + s + "'");
}

}  // namespace

std::string encode_child_plan(const LaunchPlan& plan) {
    toml::table t{
        {"codec", kCodecVersion},
        {"command", to_string(plan.command)},
        {"root", plan.root.root.string()},
        {"root_is_alltalk", plan.root.is_alltalk},
        {"env", plan.env.dir.string()},
        {"env_kind", to_string(plan.env.kind)},
        {"python_version", plan.env.version.text},
        {"python", plan.env.python.string()},
        {"home", plan.env.home.string()},
        {"base_prefix", plan.env.base_prefix.string()},
        {"libpython", plan.env.libpython.string()},
        {"site_packages", plan.env.site_packages.string()},
        {"launcher", plan.launcher.string()},
    };
    toml::array safe_globals;
    for (const auto& g : plan.torch_safe_globals) {
        safe_globals.push_back(g.spec());
    }
    t.insert("torch_safe_globals", std::move(safe_globals));
    if (plan.config_file) {
        t.insert("config", plan.config_file->string());
    }
    if (plan.script) {
        t.insert("script", plan.script->string());
    }
    if (plan.cudnn_link_dir) {
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
            throw LaunchError("child", "it was written by another version of alltalk-launch");
        }
        auto str = [&](const char* key) -> std::string {
            auto v = t[key].value<std::string>();
            if (!v) {
                throw LaunchError("child", std::string("the entry '") + key + "' is missing");
            }
            return *v;
        };
        LaunchPlan plan;
        plan.command = command_from(str("command"));
        plan.root.root = str("root");
        plan.root.source = "parent launcher";
        plan.root.is_alltalk = t["root_is_alltalk"].value_or(false);
        plan.env_choice.dir = str("env");
        plan.env_choice.source = "parent launcher";
        plan.env.dir = plan.env_choice.dir;
        plan.env.kind = kind_from(str("env_kind"));
        plan.env.version.text = str("python_version");
        plan.env.python = str("python");
        plan.env.home = str("home");
        plan.env.base_prefix = str("base_prefix");
        plan.env.libpython = str("libpython");
        plan.env.site_packages = str("site_packages");
        plan.launcher = str("launcher");
        if (auto c = t["config"].value<std::string>()) {
            plan.config_file = fs::path(*c);
        }
        if (auto s = t["script"].value<std::string>()) {
            plan.script = fs::path(*s);
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
                    throw LaunchError("child", "a torch_safe_globals entry is not valid");
                }
                plan.torch_safe_globals.push_back(std::move(g));
            }
        }
        return plan;
    } catch (const toml::parse_error& err) {
        throw LaunchError("child", std::string(err.description()));
    }
}

}  // namespace alltalk
