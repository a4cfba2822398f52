// ELF64 (little-endian): the ELF header gives the section header table (e_shoff, e_shentsize,
// e_shnum) and the index of the section holding the section names (e_shstrndx); each 64-byte
// section header gives its name's offset in that table (sh_name, +0), its type (+4), its file
// offset (+0x18) and size (+0x20).
#include <cstring>

#include "gpu/section.hpp"

namespace alltalk {

namespace {

constexpr std::uint32_t kShtNobits = 8;        // a section with no bytes in the file (.bss)
constexpr std::uint64_t kMaxNames = 1u << 20;  // the section names: a few KB in real files
constexpr std::uint16_t kShdrSize = 64;        // sizeof(Elf64_Shdr)

}  // namespace

SectionLookup find_elf_section(const ByteSource& file, std::string_view name) {
    SectionLookup out;
    std::string h;
    if (!read_range(file, 0, 64, h) || h.compare(0, 4,
                                                 "\x7f"
                                                 "ELF") != 0) {
        return out;  // not an ELF file (or shorter than its header)
    }
    out.is_format = true;
    if (h[4] != 2 || h[5] != 1) {
        out.error = "not a 64-bit little-endian ELF file";
        return out;
    }
    const auto shoff = value_at<std::uint64_t>(h, 0x28);
    const auto shentsize = value_at<std::uint16_t>(h, 0x3A);
    const auto shnum = value_at<std::uint16_t>(h, 0x3C);
    const auto shstrndx = value_at<std::uint16_t>(h, 0x3E);
    if (shnum == 0) {
        out.error = "no section headers";
        return out;
    }
    if (shentsize != kShdrSize) {
        out.error = "section header size " + std::to_string(shentsize) + ", not 64";
        return out;
    }
    // At most 65535 * 64 bytes (4 MB), and only when the file holds them.
    std::string sh;
    if (!read_range(file, shoff, std::uint64_t(shnum) * kShdrSize, sh)) {
        out.error = "the section header table (" + std::to_string(shnum) + " entries at offset " +
                    std::to_string(shoff) + ") is past the end of the file";
        return out;
    }
    if (shstrndx >= shnum) {
        out.error =
            "the section name table's index " + std::to_string(shstrndx) + " is not a section";
        return out;
    }
    const std::size_t names_at = std::size_t(shstrndx) * kShdrSize;
    const auto names_off = value_at<std::uint64_t>(sh, names_at + 0x18);
    const auto names_size = value_at<std::uint64_t>(sh, names_at + 0x20);
    std::string names;
    if (names_size > kMaxNames || !read_range(file, names_off, names_size, names)) {
        out.error = "the section name table (" + std::to_string(names_size) + " bytes at offset " +
                    std::to_string(names_off) + ") is too large or past the end of the file";
        return out;
    }
    for (std::size_t i = 0; i < shnum; ++i) {
        const std::size_t at = i * kShdrSize;
        const auto name_at = value_at<std::uint32_t>(sh, at);
        if (name_at >= names.size() || names.size() - name_at <= name.size() ||
            names.compare(name_at, name.size(), name) != 0 ||
            names[name_at + name.size()] != '\0') {
            continue;
        }
        const auto type = value_at<std::uint32_t>(sh, at + 4);
        const auto off = value_at<std::uint64_t>(sh, at + 0x18);
        const auto size = value_at<std::uint64_t>(sh, at + 0x20);
        if (type == kShtNobits) {
            out.error = std::string(name) + " has no bytes in the file";
            return out;
        }
        if (!in_bounds(file, off, size)) {
            out.error = std::string(name) + " (" + std::to_string(size) + " bytes at offset " +
                        std::to_string(off) + ") is past the end of the file";
            return out;
        }
        out.range = ByteRange{off, size};
        return out;
    }
    return out;  // no such section
}

}  // namespace alltalk
