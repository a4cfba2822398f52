#pragma once
// Environment variables as plain values, so that discovery and planning can be tested without
// touching the process environment.
#include <map>
#include <optional>
#include <string>

namespace alltalk {

using EnvMap = std::map<std::string, std::string>;

inline std::optional<std::string> lookup(const EnvMap& env, const std::string& name) {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second;
}

// One change that the launch makes to the environment of the app (value: nullopt = unset).
struct EnvChange {
    std::string name;
    std::optional<std::string> value;
    std::string reason;
};

}  // namespace alltalk
