// store core: the rules for store keys (the names under which tables appear in the JSON).
#pragma once

#include <cstddef>
#include <string_view>

namespace store::core {

// Longest key: "store_<key>_truncate" must still fit a 63-byte trigger name.
constexpr std::size_t kMaxKeyLength = 48;

// True for a lower-case identifier: a letter, then letters, digits or underscores.
bool IsWellFormedKey(std::string_view key);

// True for names the JSON and URL shapes already use ("version"; "history", "changes", "events", "ws": store-http).
bool IsReservedKey(std::string_view key);

// Throws Error unless key may be registered.
void CheckKey(std::string_view key);

} // namespace store::core
