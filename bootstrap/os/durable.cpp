// Platform-neutral parts of durable.hpp.
#include "os/durable.hpp"

namespace fs = std::filesystem;

namespace alltalk::files {

std::error_code replace_file_atomically(const fs::path& path, std::string_view data) {
    fs::path tmp = path;
    tmp += ".tmp";
    std::error_code ec = write_file_synced(tmp, data);
    if (!ec) {
        fs::rename(tmp, path, ec);
    }
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        return ec;
    }
    return sync_dir(path.parent_path());
}

}  // namespace alltalk::files
