// The CUDA fat binary readers (gpu/section.hpp, gpu/fatbin.hpp) on well-formed and malformed ELF
// and PE files: a malformed file is an error with a reason, never a read outside the file, an
// allocation larger than the file, or a loop that does not end. Also built alone under
// AddressSanitizer and UndefinedBehaviorSanitizer (tests/CMakeLists.txt: reader_tests_sanitized).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "fatbin_files.hpp"
#include "gpu/fatbin.hpp"
#include "gpu/section.hpp"

using namespace alltalk;
using namespace fatbin_files;

namespace {

// Records the largest read asked of it (read_range allocates exactly that, after its check).
class Watched : public MemorySource {
  public:
    using MemorySource::MemorySource;
    bool read_unchecked(std::uint64_t offset, void* out, std::size_t n) const override {
        largest = std::max(largest, n);
        ++reads;
        return MemorySource::read_unchecked(offset, out, n);
    }
    mutable std::size_t largest = 0;
    mutable std::size_t reads = 0;
};

struct Read {
    SectionLookup section;
    FatbinWalk walk;
    std::size_t largest = 0;
};

Read read_elf(const std::string& bytes, std::size_t max = 64) {
    Watched src(bytes);
    Read r;
    r.section = find_elf_section(src, ".nv_fatbin");
    if (r.section.range) {
        r.walk = walk_fatbin(src, *r.section.range, max);
    }
    r.largest = src.largest;
    return r;
}

Read read_pe(const std::string& bytes, std::size_t max = 64) {
    Watched src(bytes);
    Read r;
    r.section = find_pe_section(src, ".nv_fatb");
    if (r.section.range) {
        r.walk = walk_fatbin(src, *r.section.range, max);
    }
    r.largest = src.largest;
    return r;
}

std::vector<std::vector<std::string>> typical_containers() {
    return {{"sm_86", "sm_90", "compute_90"}, {"sm_86", "sm_90", "compute_90", "sm_120"}};
}

// Whatever was found lies inside the file.
void check_bounded(const Read& r, std::size_t file_size) {
    if (r.section.range) {
        CHECK(r.section.range->offset <= file_size);
        CHECK(r.section.range->size <= file_size - r.section.range->offset);
    }
    CHECK(r.largest <= std::max<std::size_t>(file_size, 64));
}

}  // namespace

TEST_CASE("fatbin readers: the section of a well-formed ELF and PE file, and its containers") {
    for (const bool is_pe : {false, true}) {
        CAPTURE(is_pe);
        const Layout l = is_pe ? typical_pe() : typical_elf();
        const Read r = is_pe ? read_pe(l.bytes) : read_elf(l.bytes);
        CHECK(r.section.is_format);
        CHECK(r.section.error == "");
        REQUIRE(r.section.range);
        CHECK(r.section.range->offset == l.section_at);
        CHECK(r.section.range->size == typical_fatbin().size());
        CHECK(r.walk.error == "");
        CHECK(r.walk.containers == typical_containers());
        // The other format's locator does not take it for its own.
        Watched src(l.bytes);
        CHECK_FALSE((is_pe ? find_elf_section(src, ".nv_fatbin") : find_pe_section(src, ".nv_fatb"))
                        .is_format);
        // max_containers stops the walk.
        CHECK((is_pe ? read_pe(l.bytes, 1) : read_elf(l.bytes, 1)).walk.containers.size() == 1);
    }
}

TEST_CASE("fatbin readers: a file without the section, and files of neither format") {
    const Layout e = elf({{".text", "abc"}});
    Read r = read_elf(e.bytes);
    CHECK(r.section.is_format);
    CHECK(r.section.error == "");
    CHECK_FALSE(r.section.range);
    const Layout p = pe({{".text", "abc"}, {".nv_fat", "x"}});
    r = read_pe(p.bytes);
    CHECK(r.section.is_format);
    CHECK_FALSE(r.section.range);
    for (const std::string& junk : {std::string(),
                                    std::string("\x7f"
                                                "EL"),
                                    std::string("MZ"), std::string(200, 'A')}) {
        CHECK_FALSE(read_elf(junk).section.range);
        CHECK_FALSE(read_pe(junk).section.range);
    }
    // A name that is a prefix of another does not match it.
    r = read_elf(elf({{".nv_fatbin_x", typical_fatbin()}}).bytes);
    CHECK_FALSE(r.section.range);
}

TEST_CASE("fatbin readers: every truncation of a well-formed file is an error or a partial read") {
    for (const bool is_pe : {false, true}) {
        const std::string full = (is_pe ? typical_pe() : typical_elf()).bytes;
        for (std::size_t n = 0; n < full.size(); ++n) {
            CAPTURE(n);
            const std::string cut = full.substr(0, n);
            const Read r = is_pe ? read_pe(cut) : read_elf(cut);
            check_bounded(r, n);
            if (!is_pe) {
                CHECK_FALSE(r.section.range);  // the ELF's section headers are at its end
            }
        }
    }
}

TEST_CASE("fatbin readers: the 148-byte ELF header whose tables would need 4 GB") {
    // The libFuzzer find of the old reader: e_shentsize and e_shnum at 0xFFFF (4 GB of section
    // headers), e_shoff 64, in a file of 148 bytes.
    std::string b(148, '\0');
    b.replace(0, 4,
              "\x7f"
              "ELF");
    b[4] = 2;
    b[5] = 1;
    put(b, 0x28, 64, 8);
    put(b, 0x3A, 0xFFFF, 2);
    put(b, 0x3C, 0xFFFF, 2);
    put(b, 0x3E, 1, 2);
    Read r = read_elf(b);
    CHECK(r.section.error == "section header size 65535, not 64");
    CHECK(r.largest <= 148);
    // With the right entry size, 65535 entries (4 MB) are still past the end of 148 bytes.
    put(b, 0x3A, 64, 2);
    r = read_elf(b);
    CHECK(r.section.error ==
          "the section header table (65535 entries at offset 64) is past the end of the file");
    CHECK(r.largest <= 148);
    // Read from a file, as torch/lib/libtorch_cuda.so would be.
    const auto path = std::filesystem::temp_directory_path() / "alltalk-test-148.so";
    std::ofstream(path, std::ios::binary) << b;
    FileSource file(path);
    REQUIRE(file.is_open());
    CHECK(file.size() == 148);
    CHECK(find_elf_section(file, ".nv_fatbin").error != "");
    std::filesystem::remove(path);
}

TEST_CASE("fatbin readers: ELF tables and sections past the end of the file") {
    Layout l = typical_elf();
    SUBCASE("section headers past the end") {
        put(l.bytes, 0x28, l.bytes.size() - 64, 8);
        CHECK(read_elf(l.bytes).section.error.find("past the end") != std::string::npos);
        put(l.bytes, 0x28, ~0ull - 10, 8);  // offset + size overflows
        CHECK(read_elf(l.bytes).section.error.find("past the end") != std::string::npos);
    }
    SUBCASE("the name table's index is not a section") {
        put(l.bytes, 0x3E, 9, 2);
        CHECK(read_elf(l.bytes).section.error.find("is not a section") != std::string::npos);
    }
    SUBCASE("the name table is huge") {
        put(l.bytes, l.table_at + 64 + 0x20, 1ull << 40, 8);
        const Read r = read_elf(l.bytes);
        CHECK(r.section.error.find("too large or past the end") != std::string::npos);
        CHECK(r.largest <= l.bytes.size());
    }
    SUBCASE("the fat binary section is huge, or starts past the end") {
        put(l.bytes, l.table_at + 3 * 64 + 0x20, 1ull << 32, 8);
        CHECK(read_elf(l.bytes).section.error == ".nv_fatbin (4294967296 bytes at offset " +
                                                     std::to_string(l.section_at) +
                                                     ") is past the end of the file");
        put(l.bytes, l.table_at + 3 * 64 + 0x20, 16, 8);
        put(l.bytes, l.table_at + 3 * 64 + 0x18, ~0ull, 8);
        CHECK(read_elf(l.bytes).section.error.find("past the end") != std::string::npos);
    }
    SUBCASE("a section with no bytes in the file") {
        put(l.bytes, l.table_at + 3 * 64 + 4, 8, 4);  // SHT_NOBITS
        CHECK(read_elf(l.bytes).section.error == ".nv_fatbin has no bytes in the file");
    }
    SUBCASE("no section headers; a 32-bit file") {
        put(l.bytes, 0x3C, 0, 2);
        CHECK(read_elf(l.bytes).section.error == "no section headers");
        l.bytes[4] = 1;
        CHECK(read_elf(l.bytes).section.error == "not a 64-bit little-endian ELF file");
    }
    SUBCASE("a name offset past the name table") {
        put(l.bytes, l.table_at + 3 * 64, 0xFFFFFFFF, 4);
        const Read r = read_elf(l.bytes);
        CHECK(r.section.error == "");
        CHECK_FALSE(r.section.range);
    }
}

TEST_CASE("fatbin readers: PE headers and sections past the end of the file") {
    Layout l = typical_pe();
    SUBCASE("e_lfanew past the end") {
        put(l.bytes, 0x3C, 0xFFFFFFF0, 4);
        CHECK(read_pe(l.bytes).section.error == "no PE header at offset 4294967280");
    }
    SUBCASE("65535 sections") {
        put(l.bytes, 0x40 + 4 + 2, 0xFFFF, 2);
        const Read r = read_pe(l.bytes);
        CHECK(r.section.error.find("the section table (65535 entries") == 0);
        CHECK(r.largest <= l.bytes.size());
    }
    SUBCASE("an optional header size that moves the table past the end") {
        put(l.bytes, 0x40 + 4 + 16, 0xFFFF, 2);
        CHECK(read_pe(l.bytes).section.error.find("past the end") != std::string::npos);
    }
    SUBCASE("the section's raw data past the end") {
        put(l.bytes, l.table_at + 40 + 20, 0xFFFFFF00, 4);
        CHECK(read_pe(l.bytes).section.error.find(".nv_fatb (") == 0);
        put(l.bytes, l.table_at + 40 + 20, l.section_at, 4);
        put(l.bytes, l.table_at + 40 + 8, 0xFFFFFFFF, 4);   // VirtualSize
        put(l.bytes, l.table_at + 40 + 16, 0xFFFFFFFF, 4);  // SizeOfRawData
        CHECK(read_pe(l.bytes).section.error.find("past the end") != std::string::npos);
    }
    SUBCASE("VirtualSize 0: the raw size is the section") {
        put(l.bytes, l.table_at + 40 + 8, 0, 4);
        const Read r = read_pe(l.bytes);
        REQUIRE(r.section.range);
        CHECK(r.section.range->size % 512 == 0);
        CHECK(r.walk.error == "");  // the rest is zero padding
        CHECK(r.walk.containers == typical_containers());
    }
    SUBCASE("two sections of the name, overlapping: the first is read") {
        Layout two = pe({{".nv_fatb", typical_fatbin()}, {".nv_fatb", "junk"}});
        put(two.bytes, two.table_at + 40 + 20, two.section_at, 4);
        const Read r = read_pe(two.bytes);
        CHECK(r.walk.containers == typical_containers());
    }
}

TEST_CASE("fatbin readers: malformed containers and entries") {
    auto walk = [](const std::string& fb) {
        const Layout l = elf({{".nv_fatbin", fb}});
        return read_elf(l.bytes, 1000).walk;
    };
    const std::string good = container({{2, 86}, {1, 90}});
    SUBCASE("a container size far past the section") {
        std::string fb = good;
        put(fb, 8, 1ull << 62, 8);
        CHECK(walk(fb).error.find("runs past the section's end") != std::string::npos);
        put(fb, 8, ~0ull, 8);  // header + size overflows
        CHECK(walk(fb).error.find("runs past the section's end") != std::string::npos);
    }
    SUBCASE("a header size of 0 or past the section") {
        std::string fb = good;
        put(fb, 6, 0, 2);
        CHECK(walk(fb).error.find("header size is 0") != std::string::npos);
        put(fb, 6, 0xFFFF, 2);
        CHECK(walk(fb).error.find("runs past") != std::string::npos);
    }
    SUBCASE("a container of size 0 holds nothing, and the walk goes on") {
        std::string empty(16, '\0');
        put(empty, 0, 0xBA55ED50, 4);
        put(empty, 6, 16, 2);
        const FatbinWalk w = walk(empty + good);
        CHECK(w.error == "");
        CHECK(w.containers == std::vector<std::vector<std::string>>{{}, {"sm_86", "compute_90"}});
    }
    SUBCASE("an entry header of 0 ends the container's entries") {
        std::string fb = good;
        put(fb, 16, 0, 4 + 4);  // kind, version, header size of the first entry
        const FatbinWalk w = walk(fb);
        CHECK(w.error == "");
        CHECK(w.containers == std::vector<std::vector<std::string>>{{}});
    }
    SUBCASE("entries that do not fit in their container") {
        std::string fb = good;
        put(fb, 16 + 8, 1ull << 40, 8);  // payload
        CHECK(walk(fb).error.find("does not fit in its container") != std::string::npos);
        fb = good;
        put(fb, 16 + 4, 8, 4);  // a header shorter than its fields
        CHECK(walk(fb).error.find("does not fit") != std::string::npos);
        fb = good;
        put(fb, 16 + 4, 0xFFFFFFFF, 4);
        CHECK(walk(fb).error.find("does not fit") != std::string::npos);
    }
    SUBCASE("overlapping: a container whose size takes in the next one") {
        std::string fb = good + good;
        put(fb, 8, good.size() - 16 + 40, 8);  // reaches 40 bytes into the second container
        const FatbinWalk w = walk(fb);
        CHECK(w.error != "");  // the second container's header read as an entry
    }
    SUBCASE("zero padding: a little is alignment, a lot is an error, garbage is one at once") {
        CHECK(walk(std::string(64, '\0') + good).containers.size() == 1);
        CHECK(walk(good + std::string(5, '\0')).error == "");
        CHECK(walk(std::string(70000, '\0') + good).error.find("64 KiB of zeros") !=
              std::string::npos);
        CHECK(walk(std::string(8, '\1') + good).error.find("no fat binary container") == 0);
        CHECK(walk(good + std::string(5, '\1')).error.find("cut off") != std::string::npos);
    }
    SUBCASE("a range outside the source") {
        MemorySource src(good);
        CHECK(walk_fatbin(src, {8, good.size()}, 10).error ==
              "the fat binary section is past the end of the file");
    }
}

TEST_CASE("fatbin readers: random damage to well-formed files never reads outside them") {
    std::mt19937 rng(1234);
    for (const bool is_pe : {false, true}) {
        const std::string full = (is_pe ? typical_pe() : typical_elf()).bytes;
        for (int round = 0; round < 3000; ++round) {
            std::string b = full;
            const int flips = 1 + static_cast<int>(rng() % 8);
            for (int i = 0; i < flips; ++i) {
                const std::size_t at = rng() % b.size();
                b[at] = static_cast<char>(rng() % 3 == 0 ? 0xFF : rng());
            }
            if (rng() % 4 == 0) {
                b.resize(rng() % b.size());
            }
            const Read r = is_pe ? read_pe(b, 1000) : read_elf(b, 1000);
            check_bounded(r, b.size());
            CHECK(r.walk.containers.size() <= b.size() / 16);
        }
    }
}
