#pragma once
// Where a named section's bytes lie in an executable file: an ELF shared object
// (libtorch_cuda.so, elf_section.cpp) or a PE/COFF DLL (torch_cuda.dll, pe_section.cpp). Every
// offset and size read from the file is checked against the file's real size before it is used;
// a malformed file gives a reason, never a read outside the file or an allocation it drives.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "os/bounded_read.hpp"

namespace alltalk {

struct ByteRange {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
};

struct SectionLookup {
    bool is_format = false;          // the file starts like this format (ELF / PE)
    std::optional<ByteRange> range;  // the section, inside the file; nullopt: none (or error)
    std::string error;               // non-empty: the file is of the format but malformed
};

// A 64-bit little-endian ELF file's section `name` (its section headers and their names).
SectionLookup find_elf_section(const ByteSource& file, std::string_view name);

// A PE/COFF image's section `name` (at most 8 bytes, as in the section table; ".nv_fatb" is
// ".nv_fatbin" cut to that length by the linker). The range is the section's initialised data in
// the file: min(VirtualSize, SizeOfRawData) bytes at PointerToRawData.
SectionLookup find_pe_section(const ByteSource& file, std::string_view name);

}  // namespace alltalk
