#pragma once
// The cuDNN decision as text (JSON), handed across the launcher's one re-exec
// (start/cudnn_apply_posix.cpp) so that the re-executed launcher does not select again, and kept
// in the decision cache (start/native_cache.hpp).
#include <optional>
#include <string>
#include <string_view>

#include "cudnn/select.hpp"

namespace alltalk {

// JSON; empty when the decision cannot be written (a path that is not UTF-8).
std::string encode_native_decision(const NativeDecision& decision);

// nullopt when the text is not a decision this launcher wrote.
std::optional<NativeDecision> decode_native_decision(std::string_view text);

}  // namespace alltalk
