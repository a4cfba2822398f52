#include "diagnose/import_failure.hpp"

#include <algorithm>
#include <utility>

#include "base/text.hpp"
#include "diagnose/explain.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}
bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The text between the first pair of single quotes after `from`, or empty.
std::string quoted(std::string_view text, std::size_t from, std::size_t* end = nullptr) {
    std::size_t a = text.find('\'', from);
    std::size_t b = a == std::string_view::npos ? a : text.find('\'', a + 1);
    if (b == std::string_view::npos) {
        return {};
    }
    if (end) {
        *end = b + 1;
    }
    return std::string(text.substr(a + 1, b - a - 1));
}

// The last frame of the last traceback in `text` that is not importlib's own machinery.
void last_frame(std::string_view text, std::string& file, int& line) {
    std::size_t from = text.rfind("Traceback (most recent call last):");
    if (from == std::string_view::npos) {
        from = 0;
    }
    for (const auto& raw : text::split(text.substr(from), '\n')) {
        std::string_view l = text::trim(raw);
        if (!starts_with(l, "File \"")) {
            continue;
        }
        std::size_t close = l.find('"', 6);
        if (close == std::string_view::npos) {
            continue;
        }
        std::string_view f = l.substr(6, close - 6);
        if (starts_with(f, "<frozen ") || ends_with(f, "importlib/__init__.py") ||
            ends_with(f, "importlib\\__init__.py")) {
            continue;
        }
        file = std::string(f);
        std::size_t at = l.find(", line ", close);
        line = at == std::string_view::npos ? 0 : text::leading_int(l.substr(at + 7));
    }
}

// The usual mismatches between a module's name and the PyPI project that provides it.
constexpr std::pair<std::string_view, std::string_view> kUsualProjects[] = {
    {"yaml", "pyyaml"},
    {"PIL", "pillow"},
    {"cv2", "opencv-python"},
    {"sklearn", "scikit-learn"},
    {"skimage", "scikit-image"},
    {"bs4", "beautifulsoup4"},
    {"dateutil", "python-dateutil"},
    {"dotenv", "python-dotenv"},
    {"jwt", "pyjwt"},
    {"serial", "pyserial"},
    {"Crypto", "pycryptodome"},
    {"OpenSSL", "pyopenssl"},
    {"magic", "python-magic"},
    {"docx", "python-docx"},
    {"attr", "attrs"},
    {"fitz", "pymupdf"},
    {"pkg_resources", "setuptools"},
    {"distutils", "setuptools"},
    {"google.protobuf", "protobuf"},
    {"speech_recognition", "SpeechRecognition"},
    {"whisper", "openai-whisper"},
    {"TTS", "coqui-tts"},
    {"trainer", "coqui-tts-trainer"},
    {"coqpit", "coqpit-config"},
    {"win32api", "pywin32"},
    {"mpl_toolkits", "matplotlib"},
    {"_cffi_backend", "cffi"},
};

// Standard-library modules that exist only on one platform, or only when Python was built with
// the C library behind them: nothing on PyPI provides them.
constexpr std::string_view kWindowsOnly[] = {"winreg",      "msvcrt", "_winapi", "winsound",
                                             "_overlapped", "nt",     "_msi"};
constexpr std::string_view kPosixOnly[] = {
    "fcntl", "termios", "pwd", "grp", "resource",         "posix",
    "crypt", "syslog",  "tty", "pty", "_posixsubprocess", "readline"};
constexpr std::string_view kBuiltWith[] = {
    "_tkinter", "tkinter", "_ctypes", "_sqlite3", "sqlite3", "_lzma",   "lzma",
    "_bz2",     "bz2",     "_ssl",    "ssl",      "_curses", "curses",  "_dbm",
    "_gdbm",    "_uuid",   "zlib",    "_hashlib", "pyexpat", "_decimal"};

bool listed(std::string_view name, const auto& table) {
    return std::find(std::begin(table), std::end(table), name) != std::end(table);
}

// Whether a file of a RECORD (relative, '/'-separated) belongs to module `module` ("a.b"): the
// module's own file, an extension module of that name, or anything in its package folder.
bool file_of_module(std::string_view file, const std::string& module) {
    std::string base = module;
    std::replace(base.begin(), base.end(), '.', '/');
    const bool code = ends_with(file, ".py") || ends_with(file, ".so") || ends_with(file, ".pyd");
    if (file == base + ".py") {
        return true;
    }
    if (starts_with(file, base + "/")) {
        return code;
    }
    return starts_with(file, base + ".") && code;  // an extension module: b.cpython-311-...so
}

const InstalledModules::Entry* provider_of(const InstalledModules& m, const std::string& module) {
    const std::string top = module.substr(0, module.find('.'));
    for (const auto& e : m.dists) {
        if (top == module &&
            std::find(e.top_level.begin(), e.top_level.end(), module) != e.top_level.end()) {
            return &e;
        }
        for (const auto& f : e.files) {
            if (file_of_module(f, module)) {
                return &e;
            }
        }
    }
    return nullptr;
}

const InstalledModules::Entry* owner_of(const InstalledModules& m, const std::string& file) {
    if (file.empty() || m.site_packages.empty()) {
        return nullptr;
    }
    const fs::path rel = fs::path(file).lexically_normal().lexically_relative(m.site_packages);
    const std::string r = rel.generic_string();
    if (r.empty() || starts_with(r, "..")) {
        return nullptr;
    }
    for (const auto& e : m.dists) {
        if (std::find(e.files.begin(), e.files.end(), r) != e.files.end()) {
            return &e;
        }
    }
    return nullptr;
}

std::string dist_text(const Distribution& d) {
    return d.name + " " + d.version_text;
}

// `importer`'s requirement on `project` (as written, without a marker), and the extras it is
// declared in when only there.
struct Declared {
    std::string requirement;
    std::vector<std::string> extras;
    bool unconditional = false;
};

std::optional<Declared> requirement_on(const Distribution& importer, const std::string& project,
                                       const InstalledFacts& facts) {
    const std::string key = normalize_name(project);
    std::optional<Declared> out;
    for (const auto& text : importer.requires_dist) {
        auto req = pep508::parse_requirement(text);
        if (!req || req->key != key) {
            continue;
        }
        if (!out) {
            out.emplace();
        }
        std::string spec = text.substr(0, text.find(';'));
        spec = std::string(text::trim(spec));
        if (req->marker.empty() || req->marker.evaluate(facts.markers, "").value_or(false)) {
            out->unconditional = true;
            out->requirement = spec;
            continue;
        }
        // A requirement only in extras: find which, by trying each declared extra.
        for (const auto& extra : importer.provides_extra) {
            if (req->marker.evaluate(facts.markers, extra).value_or(false) &&
                std::find(out->extras.begin(), out->extras.end(), extra) == out->extras.end()) {
                out->extras.push_back(extra);
                if (out->requirement.empty()) {
                    out->requirement = spec;
                }
            }
        }
    }
    return out;
}

std::string where(const ImportFailure& f, const InstalledModules::Entry* owner) {
    if (f.importer.empty()) {
        return "";
    }
    std::string out = " (imported by " + f.importer;
    if (f.importer_line > 0) {
        out += " line " + std::to_string(f.importer_line);
    }
    if (owner) {
        out += ", part of " + dist_text(*owner->dist);
    }
    return out + ")";
}

// The explanation's fix: `action`, and the text rendered from it.
void set_fix(ImportExplanation& e, FixAction action, const std::string& python, Platform platform) {
    e.action = std::move(action);
    e.fix = render_fix(e.action, python, platform);
}

std::optional<ImportExplanation> explain_no_module(const ImportFailure& f,
                                                   const InstalledModules& m,
                                                   const InstalledFacts& facts,
                                                   const std::string& python) {
    const std::string top = f.module.substr(0, f.module.find('.'));
    const auto* importer = owner_of(m, f.importer);
    ImportExplanation e;
    e.id = "import-missing";
    e.key = "import-missing:" + f.module;
    const std::string lead = "Python found no module '" + f.module + "'" + where(f, importer);
    if (const auto* p = provider_of(m, f.module)) {
        e.message = lead + ", although " + dist_text(*p->dist) +
                    " lists its files: that install is damaged or incomplete.";
        FixAction a;
        a.install = {p->dist->name + "==" + p->dist->version_text};
        a.options = {"--force-reinstall", "--no-deps"};
        set_fix(e, std::move(a), python, facts.platform);
        return e;
    }
    if (top != f.module) {
        if (const auto* p = provider_of(m, top)) {
            e.message = lead + ": " + dist_text(*p->dist) + " provides '" + top +
                        "' but has no module '" + f.module + "'.";
            std::optional<Declared> d;
            if (importer) {
                d = requirement_on(*importer->dist, p->dist->name, facts);
            }
            if (d && !d->requirement.empty()) {
                e.message += " " + dist_text(*importer->dist) + " requires " + d->requirement +
                             ": a release of " + p->dist->name + " that has " + f.module +
                             " is needed.";
                FixAction a;
                a.install = {d->requirement};
                a.note = "if that keeps " + p->dist->version_text + ", pick the release of " +
                         p->dist->name + " that has " + f.module;
                set_fix(e, std::move(a), python, facts.platform);
            } else {
                e.message += " A release of " + p->dist->name + " that has it is needed.";
                FixAction a;
                a.note = "find the release of " + p->dist->name + " that has " + f.module +
                         " and install it: " + python + " -m pip install " +
                         text::quote_arg(p->dist->name + "==<that version>", facts.platform);
                set_fix(e, std::move(a), python, facts.platform);
            }
            return e;
        }
    }
    // The standard library's: no package to install.
    const bool windows = facts.platform == Platform::Windows;
    if ((listed(top, kWindowsOnly) && !windows) || (listed(top, kPosixOnly) && windows)) {
        e.message = lead + ": " + top + " is a module of Python's standard library on " +
                    (windows ? "Linux and macOS" : "Windows") +
                    " only, so this code path cannot run on this system (no package provides it).";
        FixAction a;
        a.note = "run this part on " + std::string(windows ? "Linux" : "Windows") +
                 ", or skip it on this system (check sys.platform before the import)";
        set_fix(e, std::move(a), python, facts.platform);
        return e;
    }
    if (listed(top, kBuiltWith)) {
        e.message = lead + ": " + top +
                    " is part of Python's standard library, but this Python was built without the "
                    "C library behind it (no package on PyPI provides it).";
        FixAction a;
        a.note = top == "_tkinter" || top == "tkinter"
                     ? std::string(
                           "install Tk support for this Python (Debian/Ubuntu: sudo apt "
                           "install python3-tk; a conda env: conda install tk), or "
                           "recreate the env with AllTalk's installer")
                     : std::string(
                           "recreate the env from a complete Python build (AllTalk's "
                           "installer sets up one)");
        set_fix(e, std::move(a), python, facts.platform);
        return e;
    }
    // Nothing installed provides it: the usual PyPI name, else the module's own.
    std::string project = usual_project_for(f.module);
    if (project.empty()) {
        project = usual_project_for(top);
    }
    const bool usual = !project.empty();
    if (!usual) {
        project = top;
    }
    e.message = lead + ", and no installed distribution provides it.";
    std::string what = project;
    std::optional<Declared> declared;
    if (importer) {
        declared = requirement_on(*importer->dist, project, facts);
    }
    if (declared && declared->unconditional) {  // the importer names the package itself
        e.message += " " + dist_text(*importer->dist) + " requires " + declared->requirement +
                     ", but it is not installed.";
        what = declared->requirement;
    } else {
        e.message += usual ? " It comes from the PyPI package " + project + "."
                           : " The PyPI package of that name (" + project +
                                 ") is the usual source; check its name on pypi.org if that fails.";
        if (declared && !declared->extras.empty()) {
            e.message += " " + dist_text(*importer->dist) + " declares it only in its extra(s) [" +
                         text::join(declared->extras, ", ") + "], so a plain install of " +
                         importer->dist->name + " leaves it out.";
            what = declared->requirement;
        }
    }
    FixAction a;
    if (pep508::parse_requirement(what)) {
        a.install = {what};
    } else {  // a module name that is no project name ("_private"): nothing pip could take
        a.note = "install the package that provides " + top;
    }
    set_fix(e, std::move(a), python, facts.platform);
    return e;
}

std::optional<ImportExplanation> explain_no_name(const ImportFailure& f, const InstalledModules& m,
                                                 const InstalledFacts& facts,
                                                 const std::string& python) {
    const auto* owner = owner_of(m, f.module_file);
    if (!owner) {
        owner = provider_of(m, f.module);
    }
    if (!owner) {
        return std::nullopt;  // a local module or the standard library: nothing to install
    }
    const auto* importer = owner_of(m, f.importer);
    const Distribution& d = *owner->dist;
    ImportExplanation e;
    e.id = "import-name";
    e.key = "import-name:" + f.module + ":" + f.name;
    e.message = "'" + f.name + "' cannot be imported from " + f.module + where(f, importer) +
                ": the installed " + dist_text(d) + " does not have it.";
    std::string range;
    if (importer && importer->dist != owner->dist) {
        if (auto req = requirement_on(*importer->dist, d.name, facts);
            req && !req->requirement.empty()) {
            range = req->requirement;
            e.message += " " + dist_text(*importer->dist) + " requires " + range + ".";
        } else {
            e.message +=
                " " + dist_text(*importer->dist) + " declares no requirement on " + d.name + ".";
        }
    }
    e.message += " A release of " + d.name + " that still has " + f.name +
                 " is needed (an older one when " + d.name +
                 " removed it, a newer one when it "
                 "was added later).";
    // A bare name ("requires packaging") bounds nothing.
    const bool bounded = range.find_first_of("<>=!~") != std::string::npos;
    FixAction a;
    a.note = "find the release of " + d.name + (bounded ? " within " + range : "") + " that has " +
             f.name + " and install it: " + python + " -m pip install " +
             text::quote_arg(d.name + "==<that version>", facts.platform) +
             " (alltalk-launch fix --deep finds it by trial)";
    set_fix(e, std::move(a), python, facts.platform);
    return e;
}

}  // namespace

std::string usual_project_for(std::string_view module) {
    for (const auto& [m, p] : kUsualProjects) {
        if (m == module) {
            return std::string(p);
        }
    }
    return {};
}

std::optional<ImportFailure> parse_import_failure(const FailureInfo& failure) {
    const std::string type = text::last_dotted_part(failure.exception_type);
    const std::string& msg = failure.message;
    ImportFailure f;
    if (type == "ModuleNotFoundError" && starts_with(msg, "No module named ")) {
        f.kind = ImportFailure::Kind::NoModule;
        f.module = quoted(msg, 0);
    } else if ((type == "ImportError" || type == "ModuleNotFoundError") &&
               starts_with(msg, "cannot import name ") &&
               msg.find("partially initialized module") == std::string::npos) {
        f.kind = ImportFailure::Kind::NoName;
        std::size_t end = 0;
        f.name = quoted(msg, 0, &end);
        const std::size_t from = msg.find(" from ", end);
        if (from == std::string::npos) {
            return std::nullopt;
        }
        f.module = quoted(msg, from, &end);
        const std::size_t open = msg.find(" (", end);
        const std::size_t close = msg.rfind(')');
        if (open != std::string::npos && close != std::string::npos && close > open + 2) {
            std::string file = msg.substr(open + 2, close - open - 2);
            f.module_file = file == "unknown location" ? "" : file;
        }
    } else {
        return std::nullopt;
    }
    if (f.module.empty() || (f.kind == ImportFailure::Kind::NoName && f.name.empty())) {
        return std::nullopt;
    }
    last_frame(failure.traceback, f.importer, f.importer_line);
    return f;
}

InstalledModules read_installed_modules(const SiteScan& scan, const fs::path& site_packages) {
    InstalledModules m;
    m.site_packages = site_packages.lexically_normal();
    for (const auto& d : scan.dists) {
        InstalledModules::Entry e;
        e.dist = &d;
        e.files = installed_files(d);
        e.top_level = top_level_names(d);
        m.dists.push_back(std::move(e));
    }
    return m;
}

std::optional<ImportExplanation> explain_import_failure(const ImportFailure& failure,
                                                        const InstalledModules& modules,
                                                        const InstalledFacts& facts,
                                                        const std::string& python) {
    return failure.kind == ImportFailure::Kind::NoModule
               ? explain_no_module(failure, modules, facts, python)
               : explain_no_name(failure, modules, facts, python);
}

const Distribution* module_owner(const ImportFailure& failure, const InstalledModules& modules) {
    const auto* owner = owner_of(modules, failure.module_file);
    if (!owner) {
        owner = provider_of(modules, failure.module);
    }
    return owner ? owner->dist : nullptr;
}

}  // namespace alltalk
