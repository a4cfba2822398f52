#include "os/bounded_read.hpp"

#include <system_error>

namespace alltalk {

bool read_range(const ByteSource& src, std::uint64_t offset, std::uint64_t n, std::string& out) {
    if (!in_bounds(src, offset, n)) {
        return false;
    }
    out.assign(static_cast<std::size_t>(n), '\0');
    return n == 0 || src.read_unchecked(offset, out.data(), static_cast<std::size_t>(n));
}

bool MemorySource::read_unchecked(std::uint64_t offset, void* out, std::size_t n) const {
    if (!in_bounds(*this, offset, n)) {
        return false;
    }
    std::memcpy(out, bytes_.data() + offset, n);
    return true;
}

FileSource::FileSource(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return;
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        return;
    }
    in_.rdbuf()->pubsetbuf(nullptr, 0);
    in_.open(path, std::ios::binary);
    size_ = size;
    open_ = static_cast<bool>(in_);
}

bool FileSource::read_unchecked(std::uint64_t offset, void* out, std::size_t n) const {
    if (!open_ || !in_bounds(*this, offset, n)) {
        return false;
    }
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
    return static_cast<std::size_t>(in_.gcount()) == n;
}

}  // namespace alltalk
