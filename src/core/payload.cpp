// store core: building the NOTIFY payload.
#include "core/payload.hpp"

#include <cstdio>
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

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

namespace {

// The payload with the key list already rendered (a JSON array, or null).
std::string
PayloadOf(const std::string &version, std::string list, std::size_t limit)
{
	std::string quoted_version = JsonString(version);
	auto payload = [&] { return "{\"version\":" + quoted_version + ",\"keys\":" + list + "}"; };
	if (payload().size() > limit)
		list = "null";
	if (payload().size() > limit)
		quoted_version = "null";
	return payload();
}

} // namespace

std::string
NotifyPayload(const std::string &version, const std::vector<std::string> &keys, std::size_t limit)
{
	std::string list = "[";
	for (std::size_t i = 0; i < keys.size(); i++)
		list += (i ? "," : "") + JsonString(keys[i]);
	return PayloadOf(version, list + "]", limit);
}

std::string
NotifyPayloadWithoutKeys(const std::string &version, std::size_t limit)
{
	return PayloadOf(version, "null", limit);
}

} // namespace store::core
