// store core: parsing and rendering versions.
#include "core/version.hpp"
#include "core/error.hpp"

namespace store::core {

namespace {

// Quotes a client's cursor for an error message, shortened so a huge input stays readable.
std::string
QuoteForMessage(std::string_view text)
{
	constexpr std::size_t kShown = 40;
	std::string shown(text.substr(0, kShown));
	if (text.size() > kShown)
		shown += "...";
	return "\"" + shown + "\"";
}

} // namespace

std::int64_t
ParseVersion(std::string_view text)
{
	const char *hint = "pass a version exactly as store_snapshot() or store_history() returned it, e.g. '0'";
	if (text.empty())
		throw Error(sqlstate::kInvalidTextRepresentation, "version must not be empty", hint);
	std::int64_t value = 0;
	for (char c : text) {
		if (c < '0' || c > '9')
			throw Error(sqlstate::kInvalidTextRepresentation, "malformed version " + QuoteForMessage(text), hint);
		value = value * 10 + (c - '0');
		if (value > kMaxVersion)
			throw Error(sqlstate::kNumericValueOutOfRange, "version " + QuoteForMessage(text) + " is out of range",
			            "versions are below 2^53");
	}
	return value;
}

std::string
FormatVersion(std::int64_t version)
{
	return std::to_string(version);
}

} // namespace store::core
