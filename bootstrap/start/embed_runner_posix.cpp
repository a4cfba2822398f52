// POSIX implementation of embed_runner.hpp: the embed plugin (liballtalk_embed_py3XY.so), loaded
// after the env's libpython (RTLD_GLOBAL), whose Python symbols bind to that library.
#include <string>

#include "base/error.hpp"
#include "start/embed_runner.hpp"
#include "start/interpreter.hpp"

namespace alltalk::embed {

int run(const dynlib::Library& /*libpython*/, const std::filesystem::path& launcher,
        const alltalk_embed_request& request, char* error, std::size_t error_size) {
    const std::filesystem::path plugin_path = find_embed_plugin(launcher);
    std::string err;
    dynlib::Library plugin = dynlib::load(plugin_path, /*global=*/false, err);
    auto* entry =
        plugin ? reinterpret_cast<alltalk_embed_run_fn>(dynlib::symbol(plugin, ALLTALK_EMBED_ENTRY))
               : nullptr;
    if (!entry) {
        throw LaunchError(Stage::Install, "Could not load the launcher's embed plugin " +
                                              plugin_path.string() + ": " +
                                              (err.empty() ? "entry point missing" : err) +
                                              ". Reinstall alltalk-launch.");
    }
    return entry(&request, error, error_size);
}

}  // namespace alltalk::embed
