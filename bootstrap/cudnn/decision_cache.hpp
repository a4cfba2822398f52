#pragma once
// The decision cache's pure part: the key of a cuDNN selection (every value analyze_native()
// reads besides the file system) and the text of one cache entry: the key, what the selection
// read from the file system (os/inputs.hpp) and the answer. start/native_cache.hpp stores and
// checks entries in the launcher's private runtime folder. An entry answers only when its key is
// the same and every recorded input still holds; text that is not an entry is no entry.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cudnn/select.hpp"
#include "os/inputs.hpp"

namespace alltalk {

struct CacheEntry {
    std::string key;
    std::vector<inputs::Observation> inputs;
    std::string payload;  // encode_native_decision(), or another answer
};

// `launcher`: what identifies the launcher that selects (its own stat signature), so that another
// build never answers with an older build's logic. Two facts give the same key only when
// analyze_native() would see the same values.
std::string native_cache_key(const NativeFacts& facts, const std::string& launcher);

std::string encode_cache_entry(const CacheEntry& entry);
std::optional<CacheEntry> decode_cache_entry(std::string_view text);

// Why `entry` does not answer `key` now (empty when it does): another key, or the first input
// that no longer holds (checked with `holds`). The launcher compares only the key here and checks
// the inputs as a whole with inputs::first_changed (start/native_cache.cpp).
std::string cache_entry_mismatch(const CacheEntry& entry, const std::string& key,
                                 const std::function<bool(const inputs::Observation&)>& holds);

}  // namespace alltalk
