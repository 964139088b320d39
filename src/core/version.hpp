// store core: versions (history cursors) as clients see and send them back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace store::core {

// Largest version handed out: every version is exact as a JavaScript number.
constexpr std::int64_t kMaxVersion = (std::int64_t{1} << 53) - 1;

// Parses a cursor a client passed back ("0", "42"); throws Error when malformed or out of range.
std::int64_t ParseVersion(std::string_view text);

// Renders a version the way snapshots and payloads show it.
std::string FormatVersion(std::int64_t version);

} // namespace store::core
