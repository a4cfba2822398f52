#include "pypa/pip_report.hpp"

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace alltalk {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& what) {
    throw LaunchError(Stage::Fix,
                      ErrorText{"pip's installation report could not be read: " + what + ".", "",
                                "Upgrade pip in the env (python -m pip install --upgrade pip) "
                                "and run the fix again; if it persists, report it with the "
                                "output of `alltalk-launch doctor --report FILE`."});
}

std::string text_of(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> strings_of(const json& obj, const char* key) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it != obj.end() && it->is_array()) {
        for (const auto& v : *it) {
            if (v.is_string()) {
                out.push_back(v.get<std::string>());
            }
        }
    }
    return out;
}

}  // namespace

PipReport parse_pip_report(std::string_view json_text) {
    json doc = json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        bad("it is not a JSON object");
    }
    PipReport r;
    r.version = text_of(doc, "version");
    r.pip_version = text_of(doc, "pip_version");
    if (r.version != "0" && r.version != "1") {
        bad("its format version is \"" + r.version + "\" (this alltalk-launch reads 0 and 1)");
    }
    auto install = doc.find("install");
    if (install == doc.end() || !install->is_array()) {
        bad("it has no \"install\" list");
    }
    for (const auto& item : *install) {
        if (!item.is_object()) {
            bad("an \"install\" entry is not an object");
        }
        auto meta = item.find("metadata");
        if (meta == item.end() || !meta->is_object()) {
            bad("an \"install\" entry has no metadata");
        }
        ReportItem x;
        x.dist.name = text_of(*meta, "name");
        x.dist.version_text = text_of(*meta, "version");
        if (x.dist.name.empty() || x.dist.version_text.empty()) {
            bad("an \"install\" entry has no name or version");
        }
        x.dist.key = normalize_name(x.dist.name);
        x.dist.version = pep440::parse(x.dist.version_text);
        x.dist.requires_dist = strings_of(*meta, "requires_dist");
        x.dist.provides_extra = strings_of(*meta, "provides_extra");
        if (std::string rp = text_of(*meta, "requires_python"); !rp.empty()) {
            x.dist.requires_python = rp;
        }
        if (auto it = item.find("requested"); it != item.end() && it->is_boolean()) {
            x.requested = it->get<bool>();
        }
        if (auto it = item.find("is_direct"); it != item.end() && it->is_boolean()) {
            x.is_direct = it->get<bool>();
        }
        if (auto it = item.find("download_info"); it != item.end() && it->is_object()) {
            x.url = text_of(*it, "url");
        }
        r.install.push_back(std::move(x));
    }
    return r;
}

}  // namespace alltalk
