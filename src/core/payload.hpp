// store core: the NOTIFY payload listeners receive on channel "store".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace store::core {

// PostgreSQL refuses payloads of 8000 bytes or more.
constexpr std::size_t kPayloadLimit = 7999;

// {"version":"<cursor>","keys":["a","b"]}. What does not fit the limit becomes null: first the
// key list (read store_history to learn which keys changed), then the version.
std::string NotifyPayload(const std::string &version, const std::vector<std::string> &keys,
                          std::size_t limit = kPayloadLimit);

// The same with the key list unknown (null): what a notifier that did not see the changes sends.
std::string NotifyPayloadWithoutKeys(const std::string &version, std::size_t limit = kPayloadLimit);

// A JSON string literal for text (quotes, backslashes and control characters escaped).
std::string JsonString(std::string_view text);

} // namespace store::core
