// store core: validating store keys.
#include "core/key.hpp"
#include "core/error.hpp"

#include <string>
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

bool
IsWellFormedKey(std::string_view key)
{
	if (key.empty() || key.size() > kMaxKeyLength || key[0] < 'a' || key[0] > 'z')
		return false;
	for (char c : key) {
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
		if (!ok)
			return false;
	}
	return true;
}

bool
IsReservedKey(std::string_view key)
{
	return key == "version" || key == "history" || key == "changes" || key == "events" || key == "ws";
}

void
CheckKey(std::string_view key)
{
	if (!IsWellFormedKey(key)) {
		std::string shown(key.substr(0, kMaxKeyLength + 1));
		throw Error(sqlstate::kInvalidParameterValue, "malformed store key \"" + shown + "\"",
		            "a key is a lower-case identifier of at most 48 characters: a letter, then letters, digits or "
		            "underscores");
	}
	if (IsReservedKey(key))
		throw Error(sqlstate::kReservedName, "store key \"" + std::string(key) + "\" is reserved",
		            "\"version\", \"history\", \"changes\", \"events\" and \"ws\" are used by the snapshot and the "
		            "HTTP gateway's URLs; choose another key");
}

} // namespace store::core
