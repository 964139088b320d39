// store core: building the NOTIFY payload.
#include "core/payload.hpp"
#include "core/version.hpp"

#include <cstdio>

namespace store::core {

std::string
JsonString(std::string_view text)
{
	std::string out = "\"";
	for (unsigned char c : text) {
		if (c == '"' || c == '\\') {
			out += '\\';
			out += static_cast<char>(c);
		} else if (c < 0x20) {
			char escaped[8];
			std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
			out += escaped;
		} else {
			out += static_cast<char>(c);
		}
	}
	return out + "\"";
}

std::string
NotifyPayload(std::int64_t version, const std::vector<std::string> &keys, std::size_t limit)
{
	const std::string head = "{\"version\":" + FormatVersion(version) + ",\"keys\":";
	std::string list = "[";
	for (std::size_t i = 0; i < keys.size(); i++)
		list += (i ? "," : "") + JsonString(keys[i]);
	list += "]";
	if (head.size() + list.size() + 1 > limit)
		list = "null";
	return head + list + "}";
}

} // namespace store::core
