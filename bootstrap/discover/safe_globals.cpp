#include "discover/safe_globals.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <iterator>
#include <set>

#include "base/error.hpp"
#include "discover/safe_globals_data.hpp"

namespace alltalk {

namespace {

bool is_identifier(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || static_cast<unsigned char>(c) >= 0x80;
    });
}

std::vector<std::string_view> split_dots(std::string_view s) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = s.find('.', start);
        parts.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) {
            return parts;
        }
        start = dot + 1;
    }
}

bool dotted_identifier(std::string_view s) {
    auto parts = split_dots(s);
    return std::all_of(parts.begin(), parts.end(), is_identifier);
}

// Modules whose every global can run code, read or write files, or load another pickle.
constexpr std::array kDangerousModules = {
    "os",         "posix",     "nt",      "subprocess",  "_posixsubprocess", "sys",
    "shutil",     "pickle",    "_pickle", "marshal",     "importlib",        "runpy",
    "code",       "codeop",    "ctypes",  "pty",         "socket",           "multiprocessing",
    "webbrowser", "pdb",       "timeit",  "cProfile",    "profile",          "trace",
    "asyncio",    "dill",      "joblib",  "cloudpickle", "shelve",           "io",
    "_io",        "tempfile",  "pathlib", "glob",        "commands",         "popen2",
    "types",      "inspect",   "ast",     "gc",          "operator",         "_operator",
    "signal",     "threading", "_thread", "platform",    "zipimport",        "copyreg",
};

// Builtins that only build plain data; every other builtin (eval, exec, getattr, __import__,
// open, compile, ...) is refused.
constexpr std::array kDataBuiltins = {
    "bool",  "int",  "float", "complex",   "str",   "bytes", "bytearray", "list",
    "tuple", "dict", "set",   "frozenset", "slice", "range", "NoneType",
};

// Names that call, load or evaluate whatever module they come from.
constexpr std::array kDangerousNames = {
    "eval",         "exec",          "compile", "getattr",    "setattr",       "delattr",
    "__import__",   "import_module", "system",  "popen",      "load",          "loads",
    "open",         "execfile",      "apply",   "partial",    "partialmethod", "attrgetter",
    "methodcaller", "reduce",        "call",    "check_call", "check_output",  "spawn",
    "run",          "runcall",       "globals", "locals",     "vars",          "breakpoint",
};

template <std::size_t N>
bool contains(const std::array<const char*, N>& list, std::string_view s) {
    return std::any_of(list.begin(), list.end(), [&](const char* x) { return s == x; });
}

std::optional<std::string> danger(const SafeGlobal& g) {
    std::string_view top = split_dots(g.module).front();
    if (top == "builtins" || top == "__builtin__") {
        if (g.module == top && contains(kDataBuiltins, g.qualname)) {
            return std::nullopt;
        }
        return "builtins other than plain data types (bool, int, float, str, bytes, list, tuple, "
               "dict, set, ...) can run code";
    }
    if (contains(kDangerousModules, top)) {
        return "everything in the module `" + std::string(top) +
               "` can run commands, touch files or load further pickles";
    }
    for (auto part : split_dots(g.qualname)) {
        if (contains(kDangerousNames, part) || (part.size() > 4 && part.substr(0, 2) == "__" &&
                                                part.substr(part.size() - 2) == "__")) {
            return "`" + std::string(part) + "` can call, load or evaluate arbitrary code";
        }
        if (part.substr(0, 4) == "exec" || part.substr(0, 5) == "spawn") {
            return "`" + std::string(part) + "` starts programs";
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_safe_global(std::string_view text, SafeGlobal& out) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    std::size_t colon = text.find(':');
    SafeGlobal g;
    if (colon != std::string_view::npos) {
        g.module = text.substr(0, colon);
        g.qualname = text.substr(colon + 1);
    } else {
        std::size_t dot = text.rfind('.');
        if (dot == std::string_view::npos) {
            return quoted + " is not of the form \"package.module.Class\"";
        }
        g.module = text.substr(0, dot);
        g.qualname = text.substr(dot + 1);
    }
    if (!dotted_identifier(g.module) || !dotted_identifier(g.qualname)) {
        return quoted +
               " is not of the form \"package.module.Class\" (or "
               "\"package.module:Outer.Inner\" for a nested class)";
    }
    if (auto why = danger(g)) {
        return quoted + " would let a checkpoint run code when it is loaded: " + *why +
               ". It cannot be allow-listed; a checkpoint that needs it is not a plain weights "
               "file";
    }
    g.source = out.source;
    out = std::move(g);
    return std::nullopt;
}

std::vector<SafeGlobal> parse_default_safe_globals(std::string_view toml_text) {
    std::vector<SafeGlobal> out;
    try {
        toml::table t = toml::parse(toml_text, std::string_view{"torch_safe_globals.toml"});
        const toml::array* arr = t["safe_globals"].as_array();
        if (!arr) {
            throw LaunchError(Stage::Install,
                              "the default torch allow-list has no safe_globals array");
        }
        for (const auto& item : *arr) {
            auto text = item.value<std::string>();
            SafeGlobal g;
            g.source = "default";
            std::optional<std::string> error =
                text ? parse_safe_global(*text, g) : std::optional<std::string>("not a string");
            if (error) {
                throw LaunchError(Stage::Install,
                                  "the default torch allow-list is broken at line " +
                                      std::to_string(item.source().begin.line) + ": " + *error +
                                      ". Reinstall alltalk-launch.");
            }
            out.push_back(std::move(g));
        }
    } catch (const toml::parse_error& err) {
        throw LaunchError(Stage::Install, "the default torch allow-list is not valid TOML: " +
                                              std::string(err.description()) +
                                              ". Reinstall alltalk-launch.");
    }
    return out;
}

std::vector<SafeGlobal> default_safe_globals_from_entries() {
    std::vector<SafeGlobal> out;
    out.reserve(std::size(data::kTorchSafeGlobalEntries));
    for (std::string_view text : data::kTorchSafeGlobalEntries) {
        SafeGlobal g;
        g.source = "default";
        // Each entry was checked by parse_safe_global where the list is made: the unit tests hold
        // these entries equal, one by one, to parse_default_safe_globals() of the same file. At
        // start a "module:qualname" entry is only split (the checks cost more than the rest of
        // a bare venv's plan); any other shape takes the full parse and its error.
        const std::size_t colon = text.find(':');
        if (colon != std::string_view::npos && colon > 0 && colon + 1 < text.size()) {
            g.module = text.substr(0, colon);
            g.qualname = text.substr(colon + 1);
            out.push_back(std::move(g));
            continue;
        }
        if (auto error = parse_safe_global(std::string(text), g)) {
            throw LaunchError(Stage::Install, "the default torch allow-list is broken at \"" +
                                                  std::string(text) + "\": " + *error +
                                                  ". Reinstall alltalk-launch.");
        }
        out.push_back(std::move(g));
    }
    return out;
}

const std::vector<SafeGlobal>& default_safe_globals() {
    static const std::vector<SafeGlobal> list = default_safe_globals_from_entries();
    return list;
}

std::vector<SafeGlobal> merge_safe_globals(const std::vector<SafeGlobal>& defaults,
                                           const std::vector<SafeGlobal>& user) {
    if (user.empty()) {
        return defaults;  // the compiled-in list has no duplicates (tests/unit/test_safe_globals)
    }
    std::vector<SafeGlobal> out;
    std::set<std::string> seen;
    for (const auto* list : {&defaults, &user}) {
        for (const auto& g : *list) {
            if (seen.insert(g.spec()).second) {
                out.push_back(g);
            }
        }
    }
    return out;
}

}  // namespace alltalk
