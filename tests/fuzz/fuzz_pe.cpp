// libFuzzer target: the PE section locator and the fat binary walker on any bytes (built and run
// with clang by tests/integration/test_fatbin.py, -malloc_limit_mb so that an allocation that a
// size from the file drives fails the run).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gpu/fatbin.hpp"
#include "gpu/section.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace alltalk;
    MemorySource src(std::string_view(reinterpret_cast<const char*>(data), size));
    const SectionLookup s = find_pe_section(src, ".nv_fatb");
    if (s.range) {
        if (!in_bounds(src, s.range->offset, s.range->size)) {
            __builtin_trap();  // a range outside the file
        }
        walk_fatbin(src, *s.range, 1u << 20);
    }
    return 0;
}
