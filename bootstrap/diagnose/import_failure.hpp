#pragma once
// The generic explanation of a failed import, for failures no rule of rules.toml knows:
//   ModuleNotFoundError: No module named 'X'
//   ImportError: cannot import name 'N' from 'M' (path)
// It names the missing module, the file that imported it (the traceback's last frame), the
// installed distribution that owns that file (its RECORD) and the PyPI name to install (what an
// installed distribution's RECORD / top_level.txt says provides the module, else a table of the
// usual mismatches such as yaml/pyyaml, else the module's own name). Pure: the installed files are
// read by the caller (read_installed_modules) and only after a failure.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "diagnose/rules.hpp"

namespace alltalk {

struct FailureInfo;

struct ImportFailure {
    enum class Kind { NoModule, NoName };
    Kind kind = Kind::NoModule;
    std::string module;  // NoModule: the module not found ("a.b"); NoName: the one imported from
    std::string name;    // NoName: the name not found in `module`
    std::string module_file;  // NoName: the file Python names in parentheses, if any
    std::string importer;     // the file of the traceback's last frame outside importlib, if any
    int importer_line = 0;
};

// The import failure the exception describes, if it is one (circular imports are not).
std::optional<ImportFailure> parse_import_failure(const FailureInfo& failure);

// The installed files of each distribution, read only after a failure.
struct InstalledModules {
    struct Entry {
        const Distribution* dist = nullptr;
        std::vector<std::string> files;      // relative to site_packages, '/'-separated
        std::vector<std::string> top_level;  // top_level.txt, when there is one
    };
    std::filesystem::path site_packages;
    std::vector<Entry> dists;
};

// Effects: reads every distribution's RECORD (or installed-files.txt) and top_level.txt.
InstalledModules read_installed_modules(const SiteScan& scan,
                                        const std::filesystem::path& site_packages);

// The PyPI project that usually provides top-level module `module` when its name differs
// ("yaml" -> "pyyaml", "PIL" -> "pillow", "cv2" -> "opencv-python"); empty when not known.
std::string usual_project_for(std::string_view module);

struct ImportExplanation {
    std::string key;      // for "once per process": "import-missing:yaml", "import-name:M:N"
    std::string id;       // "import-missing" or "import-name"
    std::string message;  // what is missing, who imports it, which distributions are involved
    std::string fix;      // a command (or advice) for this env: render_fix(action)
    FixAction action;     // the fix as data (something to install where a package is known)
};

// `python` is the env's python, quoted. nullopt when there is nothing useful to say (a name
// missing from a module that no distribution owns: a local module, the standard library).
std::optional<ImportExplanation> explain_import_failure(const ImportFailure& failure,
                                                        const InstalledModules& modules,
                                                        const InstalledFacts& facts,
                                                        const std::string& python);

// The installed distribution that owns the module a NoName failure imports from (the file Python
// named, else the module's provider); nullptr: none (a local module, the standard library).
const Distribution* module_owner(const ImportFailure& failure, const InstalledModules& modules);

}  // namespace alltalk
