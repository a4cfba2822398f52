#include "cudnn/file_names.hpp"

#include <algorithm>

#include "base/text.hpp"

namespace alltalk {

CudnnFileName classify_cudnn_file(std::string_view raw, Platform platform) {
    CudnnFileName info;
    const std::string name = text::lower(raw);
    std::string stem;
    if (platform == Platform::Posix) {
        const auto so = name.find(".so.");
        if (!name.starts_with("libcudnn") || so == std::string::npos) {
            return info;
        }
        stem = name.substr(0, so);
        if (const auto dash = stem.find('-'); dash != std::string::npos) {
            stem.erase(dash);  // libcudnn-1a2b3c4d -> libcudnn
            info.bundled = true;
        }
        info.major = text::leading_int(std::string_view(name).substr(so + 4));
        const std::string tail = name.substr(so + 4);
        if (stem == "libcudnn" && std::count(tail.begin(), tail.end(), '.') >= 1) {
            info.full_version = tail;
        }
    } else {
        const auto at = name.rfind("64_");
        if (!name.starts_with("cudnn") || !name.ends_with(".dll") || at == std::string::npos) {
            return info;
        }
        stem = name.substr(0, at);
        info.major = text::leading_int(std::string_view(name).substr(at + 3));
    }
    if (info.major <= 0) {
        return CudnnFileName{};
    }
    info.library = stem;
    const std::string base = platform == Platform::Posix ? stem.substr(3) : stem;  // no "lib"
    info.main = base == "cudnn";
    info.ops = base == "cudnn_ops" || base == "cudnn_ops_infer";
    return info;
}

}  // namespace alltalk
