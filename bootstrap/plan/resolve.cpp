#include "plan/resolve.hpp"

#include "base/files.hpp"

namespace fs = std::filesystem;

namespace alltalk {

const char* to_string(Command c) {
    switch (c) {
        case Command::Server:
            return "server";
        case Command::Finetune:
            return "finetune";
        case Command::Run:
            return "run";
        case Command::Python:
            return "python";
    }
    return "?";
}

const CommandConfig* CommandResolution::command_config() const {
    return config.command(to_string(command));
}

std::vector<std::string> CommandResolution::overlay() const {
    const CommandConfig* cc = command_config();
    return cc ? cc->overlay : std::vector<std::string>{};
}

bool CommandResolution::same_checks_as(const CommandResolution& other) const {
    return env_choice.dir == other.env_choice.dir &&
           native.override_dir == other.native.override_dir &&
           native.configured_majors == other.native.configured_majors &&
           native.system_dirs == other.native.system_dirs && cpu_only == other.cpu_only &&
           gpu_check == other.gpu_check && overlay() == other.overlay();
}

std::optional<fs::path> find_config(const DiscoveryInputs& in, const RootChoice& root) {
    if (in.config_option) {
        return absolute_from(*in.config_option, in.cwd);
    }
    fs::path candidate = root.root / "alltalk-launch.toml";
    if (files::is_file(candidate)) {
        return candidate;
    }
    return std::nullopt;
}

CommandResolution resolve_command(const LaunchRequest& request, const DiscoveryInputs& in,
                                  const PlanContext& ctx, EnvReading reading) {
    CommandResolution r;
    r.command = request.command;
    r.root = find_root(in);
    r.config_file = find_config(in, r.root);
    if (r.config_file) {
        r.config = load_config(*r.config_file);
    }

    // The env: --env, else [command] env, else the global env, else the usual places.
    const CommandConfig* cc = r.command_config();
    std::optional<fs::path> configured_env;
    std::string configured_source;
    if (cc && cc->env) {
        configured_env = cc->env;
        configured_source = r.config_file->string() + " [" + to_string(r.command) + "] env";
    } else if (r.config.env) {
        configured_env = r.config.env;
        configured_source = r.config_file->string() + " env";
    }
    r.env_choice = choose_env(in, r.root, configured_env, configured_source);
    r.want = ctx.want;
    if (reading == EnvReading::Launch) {
        r.env = inspect_env(r.env_choice.dir, ctx.want);
    } else {
        try {
            r.env = inspect_env(r.env_choice.dir, ctx.want);
        } catch (const LaunchError& e) {
            r.env_error = e;
            try {
                r.env = inspect_env(r.env_choice.dir, PythonVersion{});  // any version
            } catch (const LaunchError&) {
                r.env.reset();
            }
        }
    }

    // The cuDNN inputs: --cudnn wins over [native] cudnn.
    if (r.env) {
        r.native.env = *r.env;
    }
    r.native.env_vars = in.env_vars;
    if (request.cudnn) {
        r.native.override_dir = absolute_from(*request.cudnn, in.cwd);
        r.native.override_source = "--cudnn";
    } else if (r.config.native.cudnn) {
        r.native.override_dir = r.config.native.cudnn;
        r.native.override_source = r.config.native.source + " [native] cudnn";
    }
    if (r.env) {
        if (const auto reqs = r.overlay(); !reqs.empty()) {
            r.overlay_status = ctx.check_overlay
                                   ? ctx.check_overlay(*r.env, to_string(r.command), reqs)
                                   : overlay::check(*r.env, to_string(r.command), reqs);
            if (r.overlay_status->state == overlay::State::Current ||
                r.overlay_status->state == overlay::State::Stale) {
                r.native.overlay_dir = r.overlay_status->dir;
            }
        }
    }
    r.native.configured_majors = r.config.native.cudnn_majors;
    r.native.configured_source = r.config.native.source;
    r.native.system_dirs = ctx.system_library_dirs;
    r.cpu_only = request.cpu || r.config.native.cpu.value_or(false);
    r.gpu_check = !request.no_gpu_check && r.config.native.gpu_check.value_or(true);
    return r;
}

}  // namespace alltalk
