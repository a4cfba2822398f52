// embed_runner.hpp, the part both platforms share: binding the C API on the loaded library, and
// python's command line (the env's python, the launch's options, then the plan's arguments).
#include "start/embed_runner.hpp"

#include <cstdio>

#include "base/error.hpp"

namespace alltalk::embed {

namespace {

void* lookup(void* context, const char* name) {
    return dynlib::symbol(*static_cast<const dynlib::Library*>(context), name);
}

struct Argv {
    void* fn = nullptr;
    std::vector<std::string> args;
};

embed_runtime::PyStatus give_argv(void* context, void* config) {
    const auto* a = static_cast<const Argv*>(context);
    return set_argv(a->fn, config, a->args);
}

}  // namespace

int run(const dynlib::Library& libpython, const alltalk_embed_request& req, char* error,
        std::size_t error_size) {
    embed_runtime::InitApi init{};
    embed_runtime::Api api{};
    std::string missing;
    void* context = const_cast<dynlib::Library*>(&libpython);
    if (!embed_runtime::bind_init(init, lookup, context, kSetArgvFunction, missing) ||
        !embed_runtime::bind(api, lookup, context, missing)) {
        throw LaunchError(Stage::Python,
                          "The env's Python library does not export " + missing +
                              ", which the launcher calls to start it: it is not a " +
                              kLibraryNoun +
                              ", or one older than 3.8. Recreate the environment with AllTalk's "
                              "installer, or point --env at another one.");
    }
    // argv[0] is the env's python: CPython takes it as the program name and so as the executable,
    // and getpath finds the venv's pyvenv.cfg or the prefix's standard library from it, as for
    // python itself.
    Argv argv{init.set_argv, {}};
    argv.args.emplace_back(req.argc > 0 ? req.argv[0] : req.program_name);
    for (const char* opt : embed_runtime::kLaunchOptions) {
        argv.args.emplace_back(opt);
    }
    for (int i = 1; i < req.argc; ++i) {
        argv.args.emplace_back(req.argv[i]);
    }
    std::string why;
    const int status = embed_runtime::start(api, init, give_argv, &argv, req, why);
    if (status == -1 && !why.empty()) {
        std::snprintf(error, error_size, "%s", why.c_str());
    }
    return status;
}

}  // namespace alltalk::embed
