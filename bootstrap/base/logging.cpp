#include "base/logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace alltalk::logging {

void init_console(bool verbose, bool quiet) {
    auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    console->set_pattern("alltalk-launch: %v");
    console->set_level(verbose ? spdlog::level::debug
                       : quiet ? spdlog::level::warn
                               : spdlog::level::info);
    auto logger = std::make_shared<spdlog::logger>("alltalk-launch", console);
    // The logger's own level is the lowest its sinks take, so that a message no sink shows is
    // never formatted (about 45 debug messages in a launch without -v or a log file).
    logger->set_level(console->level());
    spdlog::set_default_logger(logger);
}

void add_file(const std::filesystem::path& file) {
    constexpr std::size_t kMaxSize = 1024 * 1024;
    constexpr std::size_t kMaxFiles = 3;
    try {
        auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file.string(), kMaxSize,
                                                                           kMaxFiles);
        sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [pid %P] [%l] %v");
        sink->set_level(spdlog::level::debug);
        spdlog::default_logger()->sinks().push_back(sink);
        spdlog::default_logger()->set_level(spdlog::level::debug);
    } catch (const spdlog::spdlog_ex& e) {
        spdlog::warn("warning: no log file: cannot write {} ({}). Continuing without it.",
                     file.string(), e.what());
    }
}

void close() {
    auto logger = spdlog::default_logger();
    logger->flush();
    auto& sinks = logger->sinks();
    if (sinks.size() > 1) {
        sinks.resize(1);  // drop the file sink, keep the console
        logger->set_level(sinks.front()->level());
    }
}

}  // namespace alltalk::logging
