#include "discover/config.hpp"

#include <toml++/toml.h>

#include "base/error.hpp"
#include "base/files.hpp"
#include "pypa/pep508.hpp"

namespace fs = std::filesystem;

namespace alltalk {

const CommandConfig* Config::command(const std::string& name) const {
    if (name == "server") {
        return &server;
    }
    if (name == "finetune") {
        return &finetune;
    }
    return nullptr;
}

namespace {

struct Reader {
    fs::path origin;

    std::string where(const toml::node& node) const {
        const auto& src = node.source();
        return origin.string() + ":" + std::to_string(src.begin.line);
    }

    [[noreturn]] void fail(const toml::node& node, const std::string& what) const {
        throw LaunchError(Stage::Config, "Error in " + where(node) + ": " + what +
                                             " Fix the file or remove the entry (see the README, "
                                             "section \"Configuration\").");
    }

    std::string string_of(const toml::node& node, const std::string& key) const {
        if (auto s = node.value<std::string>(); s && node.is_string()) {
            return *s;
        }
        fail(node, "`" + key + "` must be a string, not " + type_name(node) + ".");
    }

    static std::string type_name(const toml::node& node) {
        switch (node.type()) {
            case toml::node_type::table:
                return "a table";
            case toml::node_type::array:
                return "an array";
            case toml::node_type::string:
                return "a string";
            case toml::node_type::integer:
                return "an integer";
            case toml::node_type::floating_point:
                return "a number";
            case toml::node_type::boolean:
                return "a boolean";
            default:
                return "a date or time";
        }
    }

    fs::path path_of(const toml::node& node, const std::string& key) const {
        fs::path p = string_of(node, key);
        if (p.is_relative()) {
            p = origin.parent_path() / p;
        }
        return p.lexically_normal();
    }

    std::map<std::string, std::string> environment_of(const toml::node& node,
                                                      const std::string& key) const {
        const toml::table* table = node.as_table();
        if (!table) {
            fail(node, "`" + key + "` must be a table of NAME = \"value\" entries, not " +
                           type_name(node) + ".");
        }
        std::map<std::string, std::string> out;
        for (const auto& [name, value] : *table) {
            std::string n(name.str());
            if (n.empty() || n.find('=') != std::string::npos) {
                fail(value, "`" + key + "." + n + "` is not a valid environment variable name.");
            }
            out[n] = string_of(value, key + "." + n);
        }
        return out;
    }

    std::vector<std::string> strings_of(const toml::node& node, const std::string& key) const {
        const toml::array* arr = node.as_array();
        if (!arr) {
            fail(node, "`" + key + "` must be an array of strings, not " + type_name(node) + ".");
        }
        std::vector<std::string> out;
        for (const auto& item : *arr) {
            out.push_back(string_of(item, key + "[]"));
        }
        return out;
    }

    // `<command>.overlay`: an array of PEP 508 requirements, each parsed here so that a typo is
    // reported at load, with its line, and not by pip at `overlay sync`.
    std::vector<std::string> overlay_of(const toml::node& node, const std::string& key) const {
        const toml::array* arr = node.as_array();
        if (!arr) {
            fail(node, "`" + key +
                           "` must be an array of requirements such as [\"gradio==3.50.2\", "
                           "\"pydantic<2\"], not " +
                           type_name(node) + ".");
        }
        std::vector<std::string> out;
        for (const auto& item : *arr) {
            std::string text = string_of(item, key + "[]");
            std::string error;
            if (!pep508::parse_requirement(text, &error)) {
                fail(item, "the `" + key + "` entry \"" + text +
                               "\" is not a PEP 508 requirement (" + error +
                               "); write it as pip would take it, such as \"gradio==3.50.2\".");
            }
            out.push_back(std::move(text));
        }
        return out;
    }

    // [torch]: safe_globals, each entry checked (a dangerous one is refused with its line).
    std::vector<SafeGlobal> torch_of(const toml::node& node) const {
        const toml::table* table = node.as_table();
        if (!table) {
            fail(node, "`torch` must be a table ([torch]), not " + type_name(node) + ".");
        }
        std::vector<SafeGlobal> out;
        for (const auto& [k, value] : *table) {
            std::string key(k.str());
            if (key != "safe_globals") {
                fail(value, "unknown key `" + key + "` in [torch]. Known keys: safe_globals.");
            }
            const toml::array* arr = value.as_array();
            if (!arr) {
                fail(value,
                     "`torch.safe_globals` must be an array of strings such as "
                     "[\"mypkg.module.MyClass\"], not " +
                         type_name(value) + ".");
            }
            for (const auto& item : *arr) {
                SafeGlobal g;
                g.source = where(item);
                if (auto error = parse_safe_global(string_of(item, "torch.safe_globals[]"), g)) {
                    fail(item, "the torch.safe_globals entry " + *error + ".");
                }
                out.push_back(std::move(g));
            }
        }
        return out;
    }

    // [native]: cudnn (folder), cudnn_majors (integers), gpu_check and cpu (booleans).
    NativeConfig native_of(const toml::node& node) const {
        const toml::table* table = node.as_table();
        if (!table) {
            fail(node, "`native` must be a table ([native]), not " + type_name(node) + ".");
        }
        NativeConfig out;
        out.source = where(node);
        auto boolean = [&](const toml::node& value, const std::string& key) {
            if (!value.is_boolean()) {
                fail(value,
                     "`native." + key + "` must be true or false, not " + type_name(value) + ".");
            }
            return *value.value<bool>();
        };
        for (const auto& [k, value] : *table) {
            std::string key(k.str());
            if (key == "cudnn") {
                out.cudnn = path_of(value, "native.cudnn");
            } else if (key == "cudnn_majors") {
                const toml::array* arr = value.as_array();
                if (!arr) {
                    fail(value,
                         "`native.cudnn_majors` must be an array of integers such as [8], "
                         "not " +
                             type_name(value) + ".");
                }
                for (const auto& item : *arr) {
                    auto v = item.value<std::int64_t>();
                    if (!item.is_integer() || !v || *v < 1 || *v > 99) {
                        fail(item,
                             "each `native.cudnn_majors` entry must be a cuDNN major version "
                             "such as 8 or 9.");
                    }
                    out.cudnn_majors.push_back(static_cast<int>(*v));
                }
            } else if (key == "gpu_check") {
                out.gpu_check = boolean(value, key);
            } else if (key == "cpu") {
                out.cpu = boolean(value, key);
            } else {
                fail(value, "unknown key `" + key +
                                "` in [native]. Known keys: cudnn, cudnn_majors, gpu_check, cpu.");
            }
        }
        return out;
    }

    CommandConfig command_of(const toml::node& node, const std::string& name) const {
        const toml::table* table = node.as_table();
        if (!table) {
            fail(node,
                 "`" + name + "` must be a table ([" + name + "]), not " + type_name(node) + ".");
        }
        CommandConfig out;
        for (const auto& [k, value] : *table) {
            std::string key(k.str());
            if (key == "script") {
                out.script = string_of(value, name + ".script");
            } else if (key == "args") {
                out.args = strings_of(value, name + ".args");
            } else if (key == "env") {
                out.env = path_of(value, name + ".env");
            } else if (key == "environment") {
                out.environment = environment_of(value, name + ".environment");
            } else if (key == "overlay") {
                out.overlay = overlay_of(value, name + ".overlay");
                out.overlay_source = where(value);
            } else {
                fail(value, "unknown key `" + key + "` in [" + name +
                                "]. Known keys: script, args, env, environment, overlay.");
            }
        }
        return out;
    }
};

}  // namespace

Config parse_config(std::string_view text, const fs::path& origin) {
    Reader reader{origin};
    toml::table root;
    try {
        root = toml::parse(text, origin.string());
    } catch (const toml::parse_error& err) {
        throw LaunchError(Stage::Config,
                          "Error in " + origin.string() + ":" +
                              std::to_string(err.source().begin.line) + ": " +
                              std::string(err.description()) +
                              ". The file must be valid TOML (see the README, section "
                              "\"Configuration\").");
    }
    Config config;
    config.file = origin;
    for (const auto& [k, value] : root) {
        std::string key(k.str());
        if (key == "env") {
            config.env = reader.path_of(value, "env");
        } else if (key == "environment") {
            config.environment = reader.environment_of(value, "environment");
        } else if (key == "server") {
            config.server = reader.command_of(value, "server");
        } else if (key == "finetune") {
            config.finetune = reader.command_of(value, "finetune");
        } else if (key == "torch") {
            config.torch_safe_globals = reader.torch_of(value);
        } else if (key == "native") {
            config.native = reader.native_of(value);
        } else {
            reader.fail(value, "unknown key `" + key +
                                   "`. Known top-level keys: env, environment, [server], "
                                   "[finetune], [torch], [native].");
        }
    }
    return config;
}

Config load_config(const fs::path& file) {
    std::string text;
    if (!files::read_text(file, text)) {
        throw LaunchError(Stage::Config, "Cannot read the configuration file " + file.string() +
                                             ". Check that it exists and is readable, or leave out "
                                             "--config to use <AllTalk>/alltalk-launch.toml.");
    }
    return parse_config(text, file);
}

}  // namespace alltalk
