#pragma once
// Reading parts of a file whose layout the file itself describes (an ELF or PE header, a table of
// sections), where every offset and size comes from the file and may be wrong. A ByteSource knows
// its real size, and every read names a range that is checked against that size before anything
// is allocated or read: a size from a truncated or malformed file can make a read fail, never
// make it allocate more than the file holds.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace alltalk {

class ByteSource {
  public:
    virtual ~ByteSource() = default;
    // The number of bytes there are; every readable range lies within [0, size()).
    virtual std::uint64_t size() const = 0;
    // Copies [offset, offset + n) to `out`; false when the range is not inside the source or the
    // read fails. Callers use read_range / read_value below, which check the range first.
    virtual bool read_unchecked(std::uint64_t offset, void* out, std::size_t n) const = 0;
};

// Whether [offset, offset + n) lies inside `src` (no overflow).
inline bool in_bounds(const ByteSource& src, std::uint64_t offset, std::uint64_t n) {
    return offset <= src.size() && n <= src.size() - offset;
}

// Reads n bytes at offset into `out` (resized to n only after the range was checked).
bool read_range(const ByteSource& src, std::uint64_t offset, std::uint64_t n, std::string& out);

// A little-endian integer at offset; false when it is not inside the source.
template <typename T>
bool read_value(const ByteSource& src, std::uint64_t offset, T& out) {
    unsigned char b[sizeof(T)];
    if (!in_bounds(src, offset, sizeof(T)) || !src.read_unchecked(offset, b, sizeof(T))) {
        return false;
    }
    T v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;) {
        v = static_cast<T>((v << 8) | static_cast<T>(b[i]));
    }
    out = v;
    return true;
}

// A little-endian integer at `at` in a buffer that read_range filled (the caller checked that
// the buffer holds it).
template <typename T>
T value_at(std::string_view buf, std::size_t at) {
    T v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;) {
        v = static_cast<T>((v << 8) | static_cast<T>(static_cast<unsigned char>(buf[at + i])));
    }
    return v;
}

// Bytes in memory (the tests, the fuzzers).
class MemorySource : public ByteSource {
  public:
    explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
    std::uint64_t size() const override { return bytes_.size(); }
    bool read_unchecked(std::uint64_t offset, void* out, std::size_t n) const override;

  private:
    std::string_view bytes_;
};

// A file, unbuffered: the readers ask for a few dozen bytes at a time, far apart, and a buffered
// stream would read (and copy) a whole buffer for each. Its size is taken when it is opened; a
// file that shrinks after that makes reads fail.
class FileSource : public ByteSource {
  public:
    explicit FileSource(const std::filesystem::path& path);
    // Whether the file could be opened (and its size read).
    bool is_open() const { return open_; }
    std::uint64_t size() const override { return size_; }
    bool read_unchecked(std::uint64_t offset, void* out, std::size_t n) const override;

  private:
    mutable std::ifstream in_;
    std::uint64_t size_ = 0;
    bool open_ = false;
};

}  // namespace alltalk
