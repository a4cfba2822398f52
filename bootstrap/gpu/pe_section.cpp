// PE/COFF images (Microsoft's PE format): the DOS header's e_lfanew (+0x3C) points to "PE\0\0",
// then the 20-byte COFF header (NumberOfSections at +2, SizeOfOptionalHeader at +16), the optional
// header, and the section table: 40 bytes a section, its 8-byte name at +0, VirtualSize +8,
// SizeOfRawData +16, PointerToRawData +20.
#include <algorithm>

#include "gpu/section.hpp"

namespace alltalk {

namespace {
constexpr std::uint64_t kSectionEntry = 40;
}  // namespace

SectionLookup find_pe_section(const ByteSource& file, std::string_view name) {
    SectionLookup out;
    std::string dos;
    if (!read_range(file, 0, 64, dos) || dos[0] != 'M' || dos[1] != 'Z') {
        return out;  // not a PE file (or shorter than its DOS header)
    }
    out.is_format = true;
    const auto lfanew = value_at<std::uint32_t>(dos, 0x3C);
    std::string coff;
    if (!read_range(file, lfanew, 24, coff) || coff.compare(0, 4, std::string("PE\0\0", 4)) != 0) {
        out.error = "no PE header at offset " + std::to_string(lfanew);
        return out;
    }
    const auto nsections = value_at<std::uint16_t>(coff, 4 + 2);
    const auto optional_size = value_at<std::uint16_t>(coff, 4 + 16);
    const std::uint64_t table = std::uint64_t(lfanew) + 24 + optional_size;
    // At most 65535 * 40 bytes (2.6 MB), and only when the file holds them.
    std::string sections;
    if (!read_range(file, table, nsections * kSectionEntry, sections)) {
        out.error = "the section table (" + std::to_string(nsections) + " entries at offset " +
                    std::to_string(table) + ") is past the end of the file";
        return out;
    }
    if (name.size() > 8) {
        return out;  // no section table name is longer
    }
    for (std::size_t i = 0; i < nsections; ++i) {
        const std::string_view entry = std::string_view(sections).substr(i * kSectionEntry, 40);
        std::string_view sname = entry.substr(0, 8);
        sname = sname.substr(0, std::min(sname.find('\0'), sname.size()));
        if (sname != name) {
            continue;
        }
        const auto virtual_size = value_at<std::uint32_t>(entry, 8);
        const auto raw_size = value_at<std::uint32_t>(entry, 16);
        const auto raw_at = value_at<std::uint32_t>(entry, 20);
        // SizeOfRawData is rounded up to the file alignment; VirtualSize is what the section
        // holds (0 in some linkers' output: then the raw size is all there is).
        const std::uint64_t size = virtual_size == 0 ? raw_size : std::min(virtual_size, raw_size);
        if (!in_bounds(file, raw_at, size)) {
            out.error = std::string(name) + " (" + std::to_string(size) + " bytes at offset " +
                        std::to_string(raw_at) + ") is past the end of the file";
            return out;
        }
        out.range = ByteRange{raw_at, size};
        return out;
    }
    return out;  // no such section
}

}  // namespace alltalk
