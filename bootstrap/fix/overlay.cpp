#include "fix/overlay.hpp"

#include <algorithm>
#include <system_error>

#include "base/error.hpp"
#include "base/text.hpp"
#include "diagnose/doctor.hpp"
#include "fix/apply.hpp"
#include "fix/lock.hpp"
#include "fix/pip.hpp"
#include "fix/plan.hpp"
#include "fix/run_lock.hpp"
#include "fix/state_dir.hpp"
#include "os/durable.hpp"
#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk::fix {

std::vector<NameVersion> overlay_installs(const PipReport& report, const SiteScan& base,
                                          std::vector<NameVersion>* same) {
    std::vector<NameVersion> out;
    for (const auto& item : report.install) {
        const Distribution& d = item.dist;
        const Distribution* have = base.find(d.key.empty() ? d.name : d.key);
        const bool equal = have && (have->version_text == d.version_text ||
                                    (have->version && d.version && *have->version == *d.version));
        if (!equal) {
            out.emplace_back(d.name, d.version_text);
        } else if (same) {
            same->emplace_back(d.name, d.version_text);
        }
    }
    return out;
}

std::vector<std::string> merged_overlay(const std::vector<std::string>& current,
                                        const std::vector<std::string>& wanted) {
    std::vector<std::string> out;
    for (const auto& c : current) {
        const bool replaced = std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
            return requirement_key(w) == requirement_key(c);
        });
        if (!replaced) {
            out.push_back(c);
        }
    }
    out.insert(out.end(), wanted.begin(), wanted.end());
    return out;
}

std::vector<std::string> overlay_install_argv(const std::string& python, const fs::path& dir,
                                              const std::vector<NameVersion>& installs) {
    std::vector<std::string> pins;
    for (const auto& [name, version] : installs) {
        pins.push_back(name + "==" + version);
    }
    return target_install_argv(python, process::to_utf8(dir), pins, false);
}

namespace {

void remove_quietly(const fs::path& p) {
    std::error_code ec;
    fs::remove_all(p, ec);
}

[[noreturn]] void cannot_write(const fs::path& p, const std::error_code& ec) {
    throw LaunchError(Stage::Fix,
                      ErrorText{"The overlay folder " + p.string() + " cannot be written (" +
                                    ec.message() + "); the old overlay, if any, is unchanged.",
                                "", "Check the permissions and free space of the env's folder."});
}

// The env's pip, able to plan (22.2 or newer), or the reason why the overlay cannot be made.
std::string planning_pip(const PythonEnv& env, const SiteScan& base) {
    const std::optional<std::string> pip = pip_version(base);
    if (!pip || !pip_can_plan(*pip)) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{
                "The env " + env.dir.string() +
                    (pip ? " has pip " + *pip + ", older than " + kPipReportSince
                         : std::string(" has no pip")) +
                    ", and an overlay is resolved by the env's own pip (install --dry-run "
                    "--report). Nothing was changed.",
                "",
                "Upgrade its pip: " + text::quote_arg(process::to_utf8(env.python), env.platform) +
                    " -m pip install --upgrade pip"});
    }
    return *pip;
}

// pip's report for the overlay's requirements against the env.
PipReport resolve_overlay(const PythonEnv& env, const std::string& command,
                          const std::vector<std::string>& requirements, const std::string& source,
                          const SiteScan& base, double timeout_s,
                          const std::function<void(const std::string&)>& say) {
    FixRequest request;
    request.install = requirements;
    try {
        // Distributions of the base that the overlay's versions would break in this command's
        // view (typer needing pydantic 2 beside an overlay's pydantic 1) join by name, so that
        // pip puts releases of them that fit into the overlay too (fix/pip.hpp).
        Plan plan = plan_keeping_dependents(env, request, base, marker_env(env), timeout_s,
                                            scratch_root(env, false), say);
        for (const auto& u : plan.unkept) {
            say("warning: pip found no release of " + u.package + " that fits the overlay (" +
                u.package + " " + u.version + " requires " + u.requirement +
                "); `doctor` shows "
                "it in this command's view");
        }
        return std::move(plan.report);
    } catch (const LaunchError& e) {
        throw LaunchError(
            Stage::Fix,
            ErrorText{"The overlay of `" + command + "` (" + source +
                          ") cannot be resolved against the env " + env.dir.string() + ": " +
                          e.text().what,
                      "",
                      "Change the requirements so that pip can resolve them together with the "
                      "env's packages (pip names the conflicting requirements above); the old "
                      "overlay, if any, is unchanged."});
    }
}

// What differs from the env, installed by pip into `fresh`.
void install_overlay(const PythonEnv& env, const std::string& command, const fs::path& fresh,
                     const std::vector<NameVersion>& installs,
                     const std::function<void(const std::string&)>& say) {
    std::vector<std::string> names;
    for (const auto& [name, version] : installs) {
        names.push_back(name + " " + version);
    }
    say("installing into the overlay (" + std::to_string(installs.size()) +
        " distributions that differ from the env): " + text::join(names, ", "));
    const auto argv = overlay_install_argv(process::to_utf8(env.python), fresh, installs);
    std::string why;
    const std::optional<int> status = process::run_attached(argv, {}, why);
    if (!status || *status != 0) {
        remove_quietly(fresh);
        throw LaunchError(
            Stage::Fix,
            ErrorText{"pip could not install the overlay of `" + command + "` (" +
                          (status ? "exit status " + std::to_string(*status) : why) +
                          "; its output is above). The old overlay, if any, is unchanged, "
                          "and the env was not modified.",
                      text::join(argv, " "),
                      "See whether the index is reachable, then run `alltalk-launch overlay "
                      "sync " +
                          command + "` again."});
    }
}

// Into place: the old folder aside, the new one in, the old one gone.
void swap_into_place(const fs::path& fresh, const fs::path& dir, const fs::path& old) {
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        fs::rename(dir, old, ec);
        if (ec) {
            remove_quietly(fresh);
            cannot_write(dir, ec);
        }
    }
    fs::rename(fresh, dir, ec);
    if (ec) {
        std::error_code back;
        fs::rename(old, dir, back);
        remove_quietly(fresh);
        cannot_write(dir, ec);
    }
    remove_quietly(old);
}

}  // namespace

OverlaySync sync_overlay(const PythonEnv& env, const std::string& command,
                         const std::vector<std::string>& requirements, const std::string& source,
                         double timeout_s, const std::function<void(const std::string&)>& say) {
    // Said before anything else, as FixLock::acquire says it again once it holds the lock.
    refuse_while_running(env.dir, "overlay sync " + command, process::environment());
    const SiteScan base = scan_site_packages(env.site_packages);
    const std::string pip = planning_pip(env, base);
    prepare_pip_environment();
    FixLock lock = FixLock::acquire(env, "overlay sync " + command);
    say("resolving " + text::join(requirements, " ") + " against " + env.dir.string() +
        " with its pip " + pip);
    const PipReport report =
        resolve_overlay(env, command, requirements, source, base, timeout_s, say);

    OverlaySync out;
    out.dir = overlay::overlay_dir(env, command);
    const std::vector<NameVersion> installs = overlay_installs(report, base, &out.same);
    out.manifest.requirements = requirements;
    out.manifest.distributions = installs;
    out.manifest.inputs_hash =
        overlay::inputs_hash(requirements, overlay::dist_info_names(env.site_packages));

    const fs::path root = overlay::overlays_root(env);
    const fs::path fresh = root / ("." + command + ".new");
    const fs::path old = root / ("." + command + ".old");
    remove_quietly(fresh);
    remove_quietly(old);
    std::error_code ec;
    fs::create_directories(fresh, ec);
    if (ec) {
        cannot_write(fresh, ec);
    }
    if (!installs.empty()) {
        install_overlay(env, command, fresh, installs, say);
    }
    if ((ec = files::write_file_synced(fresh / overlay::kManifestFile,
                                       overlay::encode_manifest(out.manifest)))) {
        remove_quietly(fresh);
        cannot_write(fresh / overlay::kManifestFile, ec);
    }
    swap_into_place(fresh, out.dir, old);
    files::sync_dir(root);
    return out;
}

bool remove_overlay(const PythonEnv& env, const std::string& command) {
    const fs::path dir = overlay::overlay_dir(env, command);
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        return false;
    }
    FixLock lock = FixLock::acquire(env, "overlay remove " + command);
    // Renamed first, so that a launch never sees half an overlay.
    const fs::path gone = overlay::overlays_root(env) / ("." + command + ".removed");
    remove_quietly(gone);
    fs::rename(dir, gone, ec);
    if (ec) {
        cannot_write(dir, ec);
    }
    remove_quietly(gone);
    return true;
}

}  // namespace alltalk::fix
