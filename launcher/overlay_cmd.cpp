#include "overlay_cmd.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "discover/overlay.hpp"
#include "fix/overlay.hpp"
#include "os/process.hpp"
#include "plan/resolve.hpp"

namespace alltalk {

namespace {

// How long pip may take to resolve one overlay.
constexpr double kResolveTimeoutSeconds = 900;

constexpr Command kOverlayCommands[] = {Command::Server, Command::Finetune};

std::string config_name(const CommandResolution& r) {
    return r.config_file ? r.config_file->string() : std::string("alltalk-launch.toml");
}

CommandResolution resolve(const cli::Options& opts, Command c, EnvReading reading) {
    LaunchRequest request = opts.request;
    request.command = c;
    return resolve_command(request, cli::discovery_inputs(opts), PlanContext{}, reading);
}

const PythonEnv& env_of(const CommandResolution& r) {
    if (!r.env) {
        if (r.env_error) {
            throw *r.env_error;
        }
        throw LaunchError(Stage::Env, "The Python environment " +
                                          process::to_utf8(r.env_choice.dir) + " cannot be read.");
    }
    return *r.env;
}

// The command named on the command line, or a one-paragraph error for any other name.
Command command_named(const std::string& name, const std::string& config) {
    for (Command c : kOverlayCommands) {
        if (name == to_string(c)) {
            return c;
        }
    }
    throw LaunchError(Stage::Config,
                      ErrorText{"`" + name +
                                    "` is not a command that can have an overlay: overlays belong "
                                    "to server and finetune, set as `overlay = [...]` in their "
                                    "[server] or [finetune] section of " +
                                    config + ". Nothing was changed.",
                                "", "Run `alltalk-launch overlay sync finetune` (or server)."});
}

const std::vector<std::string>& requirements_of(const CommandResolution& r) {
    static const std::vector<std::string> none;
    const CommandConfig* cc = r.command_config();
    return cc ? cc->overlay : none;
}

int sync(const cli::Options& opts) {
    std::vector<Command> commands;
    const CommandResolution first = resolve(opts, Command::Server, EnvReading::Report);
    if (opts.overlay->command) {
        const Command c = command_named(*opts.overlay->command, config_name(first));
        if (requirements_of(resolve(opts, c, EnvReading::Report)).empty()) {
            throw LaunchError(
                Stage::Config,
                ErrorText{"`" + std::string(to_string(c)) + "` has no overlay in " +
                              config_name(first) + ", so there is nothing to sync.",
                          "",
                          "Add one to its section, such as: [" + std::string(to_string(c)) +
                              "] overlay = [\"gradio==3.50.2\", \"pydantic<2\"]"});
        }
        commands.push_back(c);
    } else {
        for (Command c : kOverlayCommands) {
            if (!requirements_of(resolve(opts, c, EnvReading::Report)).empty()) {
                commands.push_back(c);
            }
        }
        if (commands.empty()) {
            std::printf(
                "No command has an overlay in %s: nothing to sync. An overlay is set as "
                "`overlay = [\"gradio==3.50.2\"]` in [server] or [finetune].\n",
                config_name(first).c_str());
            return 0;
        }
    }
    for (Command c : commands) {
        const CommandResolution r = resolve(opts, c, EnvReading::Launch);
        const PythonEnv& env = env_of(r);
        const std::string name = to_string(c);
        const fix::OverlaySync done = fix::sync_overlay(
            env, name, requirements_of(r), r.command_config()->overlay_source,
            kResolveTimeoutSeconds,
            [&](const std::string& line) { std::printf("%s: %s\n", name.c_str(), line.c_str()); });
        for (const auto& [n, v] : done.same) {
            std::printf("%s: %s %s is already in the env: not copied into the overlay\n",
                        name.c_str(), n.c_str(), v.c_str());
        }
        std::printf("%s: the overlay holds %zu distribution%s, in %s; the env was not changed.\n",
                    name.c_str(), done.manifest.distributions.size(),
                    done.manifest.distributions.size() == 1 ? "" : "s", done.dir.string().c_str());
        std::fflush(stdout);
    }
    return 0;
}

int status(const cli::Options& opts) {
    bool all_current = true, any = false;
    for (Command c : kOverlayCommands) {
        const CommandResolution r = resolve(opts, c, EnvReading::Report);
        const auto& reqs = requirements_of(r);
        if (!r.env) {
            if (!reqs.empty()) {
                std::printf("%s: its env cannot be read, so neither can its overlay\n",
                            to_string(c));
                all_current = false;
                any = true;
            }
            continue;
        }
        if (reqs.empty()) {
            std::error_code ec;
            const auto dir = overlay::overlay_dir(*r.env, to_string(c));
            if (std::filesystem::exists(dir, ec)) {
                std::printf(
                    "%s: no overlay configured, but %s is left from one: `alltalk-launch overlay "
                    "remove %s` deletes it\n",
                    to_string(c), dir.string().c_str(), to_string(c));
                any = true;
            }
            continue;
        }
        any = true;
        const overlay::Status s = overlay::check(*r.env, to_string(c), reqs);
        all_current = all_current && s.state == overlay::State::Current;
        std::printf("%s\n", overlay::describe(s).c_str());
    }
    if (!any) {
        std::puts("No command has an overlay.");
    }
    return all_current ? 0 : 1;
}

int remove(const cli::Options& opts) {
    const CommandResolution first = resolve(opts, Command::Server, EnvReading::Report);
    const Command c = command_named(*opts.overlay->command, config_name(first));
    const CommandResolution r = resolve(opts, c, EnvReading::Report);
    const PythonEnv& env = env_of(r);
    if (fix::remove_overlay(env, to_string(c))) {
        std::printf("Removed the overlay of %s (%s): it runs with the env's own packages%s.\n",
                    to_string(c), overlay::overlay_dir(env, to_string(c)).string().c_str(),
                    requirements_of(r).empty()
                        ? ""
                        : " (its `overlay` is still in the config, so each start warns until "
                          "`overlay sync` makes it again or the entry is taken out)");
    } else {
        std::printf("%s has no overlay to remove.\n", to_string(c));
    }
    return 0;
}

}  // namespace

int run_overlay(const cli::Options& opts) {
    try {
        switch (opts.overlay->action) {
            case cli::OverlayOptions::Action::Sync:
                return sync(opts);
            case cli::OverlayOptions::Action::Status:
                return status(opts);
            case cli::OverlayOptions::Action::Remove:
                return remove(opts);
        }
    } catch (const LaunchError& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "alltalk-launch: error: %s\n", e.what());
        return e.stage() == Stage::Fix ? 1 : 2;
    }
    return 2;
}

}  // namespace alltalk
