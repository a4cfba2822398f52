#include "gpu/fatbin.hpp"

#include <algorithm>

namespace alltalk {

namespace {

constexpr std::uint32_t kMagic = 0xBA55ED50;
constexpr std::uint64_t kContainerHeader = 16;
constexpr std::uint64_t kEntryHeader = 32;  // the fields read; real headers are 64 bytes or more
// Zero padding between containers is alignment (a few bytes); this much is a broken file, and
// stopping there keeps a walk over a large zeroed section short.
constexpr std::uint64_t kMaxPadding = 64 * 1024;

std::string at(std::uint64_t offset) {
    return " at offset " + std::to_string(offset);
}

}  // namespace

FatbinWalk walk_fatbin(const ByteSource& src, ByteRange range, std::size_t max_containers) {
    FatbinWalk out;
    if (!in_bounds(src, range.offset, range.size)) {
        out.error = "the fat binary section is past the end of the file";
        return out;
    }
    const std::uint64_t end = range.offset + range.size;
    std::uint64_t pos = range.offset;
    std::uint64_t padding = 0;
    std::string buf;
    while (pos < end && out.containers.size() < max_containers) {
        const std::uint64_t left = end - pos;
        if (left < kContainerHeader) {
            // The section's tail: alignment padding, or a cut-off header.
            read_range(src, pos, left, buf);
            if (std::any_of(buf.begin(), buf.end(), [](char c) { return c != 0; })) {
                out.error = "a fat binary header is cut off by the section's end" + at(pos);
            }
            break;
        }
        if (!read_range(src, pos, kContainerHeader, buf)) {
            out.error = "read error" + at(pos);
            break;
        }
        if (value_at<std::uint32_t>(buf, 0) != kMagic) {
            if (value_at<std::uint64_t>(buf, 0) != 0) {
                out.error = "no fat binary container" + at(pos);
                break;
            }
            pos += 8;  // padding between containers
            if ((padding += 8) > kMaxPadding) {
                out.error = "more than 64 KiB of zeros between fat binary containers" + at(pos);
                break;
            }
            continue;
        }
        padding = 0;
        const std::uint64_t header_size = value_at<std::uint16_t>(buf, 6);
        const std::uint64_t fat_size = value_at<std::uint64_t>(buf, 8);
        if (header_size < kContainerHeader) {
            out.error =
                "a fat binary container's header size is " + std::to_string(header_size) + at(pos);
            break;
        }
        if (header_size > left || fat_size > left - header_size) {
            out.error = "a fat binary container of " + std::to_string(fat_size) + " bytes" +
                        at(pos) + " runs past the section's end";
            break;
        }
        std::uint64_t p = pos + header_size;
        const std::uint64_t cend = p + fat_size;
        std::vector<std::string> here;
        while (out.error.empty() && cend - p >= kEntryHeader) {
            if (!read_range(src, p, kEntryHeader, buf)) {
                out.error = "read error" + at(p);
                break;
            }
            const auto kind = value_at<std::uint16_t>(buf, 0);
            const std::uint64_t entry_header = value_at<std::uint32_t>(buf, 4);
            const std::uint64_t payload = value_at<std::uint64_t>(buf, 8);
            const auto arch = value_at<std::uint32_t>(buf, 28);
            if (entry_header == 0) {
                break;  // the end of the entries (zero fill)
            }
            if (entry_header < kEntryHeader || entry_header > cend - p ||
                payload > cend - p - entry_header) {
                out.error = "a fat binary entry (header " + std::to_string(entry_header) +
                            " bytes, payload " + std::to_string(payload) + " bytes)" + at(p) +
                            " does not fit in its container";
                break;
            }
            if (kind == 1 || kind == 2) {
                std::string a = (kind == 2 ? "sm_" : "compute_") + std::to_string(arch);
                if (std::find(here.begin(), here.end(), a) == here.end()) {
                    here.push_back(std::move(a));
                }
            }
            p += entry_header + payload;
        }
        if (!out.error.empty()) {
            break;
        }
        out.containers.push_back(std::move(here));
        pos = cend;
    }
    return out;
}

}  // namespace alltalk
