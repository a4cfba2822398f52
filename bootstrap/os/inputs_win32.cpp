// Windows implementation of inputs.hpp: not supported (no inode or change time through the
// standard library), so nothing is recorded and the caches that rely on it always recompute.
#include <system_error>

#include "base/files.hpp"
#include "os/inputs.hpp"
#include "os/process.hpp"

namespace alltalk::inputs {

bool supported() {
    return false;
}

bool read_small(const std::string& path, std::string& out, std::size_t limit) {
    return files::read_text(process::from_utf8(path), out) && out.size() <= limit;
}

std::filesystem::path canonical(const std::filesystem::path& p) {
    std::error_code ec;
    std::filesystem::path c = std::filesystem::canonical(p, ec);
    return ec ? std::filesystem::path() : c;
}

std::string signature(const std::filesystem::path& /*p*/, std::int64_t* changed_ns) {
    if (changed_ns) {
        *changed_ns = 0;
    }
    return "unsupported";
}

bool signature_is(const std::string& /*path*/, std::string_view /*seen*/) {
    return false;  // nothing is recorded, so nothing holds
}

bool is_folder_signature(std::string_view /*seen*/) {
    return false;
}

std::string first_changed(const std::vector<Observation>& seen) {
    for (const auto& o : seen) {
        if (!still_holds(o)) {
            return o.path;
        }
    }
    return "";
}

}  // namespace alltalk::inputs
