#pragma once
// Small ELF and PE files with a CUDA fat binary section, laid out as the real ones are
// (gpu/section.hpp, gpu/fatbin.hpp), for the readers' tests; each field can be broken afterwards.
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace fatbin_files {

inline void put(std::string& b, std::size_t at, std::uint64_t v, int bytes) {
    if (b.size() < at + bytes) {
        b.resize(at + bytes, '\0');
    }
    for (int i = 0; i < bytes; ++i) {
        b[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    }
}

struct Entry {
    int kind;  // 1 PTX, 2 cubin
    unsigned arch;
    std::size_t payload = 40;
};

// One container: a 16-byte header and 64-byte entry headers, each followed by its payload.
inline std::string container(const std::vector<Entry>& entries) {
    std::string body;
    for (const auto& e : entries) {
        std::string h(64, '\0');
        put(h, 0, e.kind, 2);
        put(h, 2, 0x0101, 2);
        put(h, 4, 64, 4);
        put(h, 8, e.payload, 8);
        put(h, 28, e.arch, 4);
        body += h + std::string(e.payload, 'x');
    }
    std::string c(16, '\0');
    put(c, 0, 0xBA55ED50, 4);
    put(c, 4, 1, 2);
    put(c, 6, 16, 2);
    put(c, 8, body.size(), 8);
    return c + body;
}

// Containers, each padded with zeros to 8 bytes.
inline std::string fatbin(const std::vector<std::vector<Entry>>& containers) {
    std::string out;
    for (const auto& c : containers) {
        out += container(c);
        out.resize((out.size() + 7) / 8 * 8, '\0');
    }
    return out;
}

inline std::string typical_fatbin() {
    return fatbin({{{2, 86}, {2, 90}, {1, 90}}, {{2, 86}, {2, 90}, {1, 90}, {2, 120}}});
}

struct Layout {
    std::string bytes;
    std::size_t section_at = 0;  // the fat binary's offset
    std::size_t table_at = 0;    // the section table's (ELF: section headers; PE: section table)
};

// ELF64: header, .shstrtab, the sections' bytes, then the section headers
// ([0] null, [1] .shstrtab, [2...] `sections`).
inline Layout elf(const std::vector<std::pair<std::string, std::string>>& sections) {
    Layout l;
    std::string& b = l.bytes;
    b.assign(64, '\0');
    b.replace(0, 4,
              "\x7f"
              "ELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    std::string names(1, '\0');
    std::vector<std::size_t> name_at;
    for (const auto& s : std::vector<std::string>{".shstrtab"}) {
        name_at.push_back(names.size());
        names += s + '\0';
    }
    for (const auto& s : sections) {
        name_at.push_back(names.size());
        names += s.first + '\0';
    }
    const std::size_t names_off = b.size();
    b += names;
    std::vector<std::pair<std::size_t, std::size_t>> where;
    for (const auto& s : sections) {
        b.resize((b.size() + 7) / 8 * 8, '\0');
        where.push_back({b.size(), s.second.size()});
        if (s.first == ".nv_fatbin") {
            l.section_at = b.size();
        }
        b += s.second;
    }
    b.resize((b.size() + 7) / 8 * 8, '\0');
    l.table_at = b.size();
    const std::size_t n = 2 + sections.size();
    std::string sh(64 * n, '\0');
    put(sh, 64 + 0, name_at[0], 4);
    put(sh, 64 + 4, 3, 4);  // SHT_STRTAB
    put(sh, 64 + 0x18, names_off, 8);
    put(sh, 64 + 0x20, names.size(), 8);
    for (std::size_t i = 0; i < sections.size(); ++i) {
        const std::size_t at = 64 * (i + 2);
        put(sh, at, name_at[i + 1], 4);
        put(sh, at + 4, 1, 4);  // SHT_PROGBITS
        put(sh, at + 0x18, where[i].first, 8);
        put(sh, at + 0x20, where[i].second, 8);
    }
    b += sh;
    put(b, 0x28, l.table_at, 8);
    put(b, 0x3A, 64, 2);
    put(b, 0x3C, n, 2);
    put(b, 0x3E, 1, 2);
    return l;
}

// PE32+: DOS header (e_lfanew 0x40), "PE\0\0", the COFF header, a 240-byte optional header, the
// section table (40 bytes a section), then the sections' bytes (512-byte file alignment).
inline Layout pe(const std::vector<std::pair<std::string, std::string>>& sections) {
    Layout l;
    std::string& b = l.bytes;
    b.assign(64, '\0');
    b[0] = 'M';
    b[1] = 'Z';
    put(b, 0x3C, 0x40, 4);
    b += std::string("PE\0\0", 4);
    std::string coff(20, '\0');
    put(coff, 0, 0x8664, 2);
    put(coff, 2, sections.size(), 2);
    put(coff, 16, 240, 2);
    b += coff;
    std::string opt(240, '\0');
    put(opt, 0, 0x20B, 2);
    b += opt;
    l.table_at = b.size();
    b += std::string(40 * sections.size(), '\0');
    for (std::size_t i = 0; i < sections.size(); ++i) {
        b.resize((b.size() + 511) / 512 * 512, '\0');
        const std::size_t at = l.table_at + 40 * i;
        b.replace(at, std::min<std::size_t>(8, sections[i].first.size()),
                  sections[i].first.substr(0, 8));
        const std::size_t raw = (sections[i].second.size() + 511) / 512 * 512;
        put(b, at + 8, sections[i].second.size(), 4);  // VirtualSize
        put(b, at + 16, raw, 4);                       // SizeOfRawData
        put(b, at + 20, b.size(), 4);                  // PointerToRawData
        if (sections[i].first == ".nv_fatb") {
            l.section_at = b.size();
        }
        b += sections[i].second;
        b.resize(b.size() + (raw - sections[i].second.size()), '\0');
    }
    return l;
}

inline Layout typical_elf() {
    return elf({{".text", std::string(100, '\x90')}, {".nv_fatbin", typical_fatbin()}});
}
inline Layout typical_pe() {
    return pe({{".text", std::string(100, '\x90')}, {".nv_fatb", typical_fatbin()}});
}

}  // namespace fatbin_files
