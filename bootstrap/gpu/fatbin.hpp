#pragma once
// The CUDA fat binary section of an executable (ELF .nv_fatbin, PE .nv_fatb): a run of fatbin
// containers, one per compiled translation unit, 8-byte aligned with zero padding between them.
// A container is a 16-byte header (magic 0xBA55ED50, version u16, header size u16 at +6, size of
// its entries u64 at +8) and its entries; an entry is a header (kind u16 at +0: 1 PTX, 2 cubin;
// header size u32 at +4; payload size u64 at +8; the architecture's number u32 at +28) and its
// payload. Pure: walks a ByteSource, reading only headers, each checked against the section's end
// first, and every step advances by at least 8 bytes.
#include <cstddef>
#include <string>
#include <vector>

#include "gpu/section.hpp"

namespace alltalk {

struct FatbinWalk {
    // Each container's architectures, "sm_86" (cubin) and "compute_90" (PTX), in entry order,
    // each once.
    std::vector<std::vector<std::string>> containers;
    std::string error;  // non-empty: the section is malformed (what and where)
};

// The first `max_containers` containers of the section at `range` in `src`.
FatbinWalk walk_fatbin(const ByteSource& src, ByteRange range, std::size_t max_containers);

}  // namespace alltalk
