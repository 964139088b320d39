// store core: the error type the PostgreSQL-free core throws.
// The glue turns it into ereport(ERROR) with the same SQLSTATE once C++ has unwound.
#pragma once

#include <stdexcept>
#include <string>

namespace store::core {

// An error a user can act on: a five-character SQLSTATE, a message and an optional hint.
class Error : public std::runtime_error {
public:
	Error(const char *sqlstate, const std::string &message, std::string hint = {})
	    : std::runtime_error(message), sqlstate_(sqlstate), hint_(std::move(hint))
	{
	}
	const std::string &
	sqlstate() const
	{
		return sqlstate_;
	}
	const std::string &
	hint() const
	{
		return hint_;
	}

private:
	std::string sqlstate_;
	std::string hint_;
};

// SQLSTATEs the core raises (see PostgreSQL's errcodes.txt).
namespace sqlstate {
constexpr const char *kInvalidParameterValue = "22023";
constexpr const char *kInvalidTextRepresentation = "22P02";
constexpr const char *kNumericValueOutOfRange = "22003";
constexpr const char *kNullValueNotAllowed = "22004";
constexpr const char *kReservedName = "42939";
} // namespace sqlstate

} // namespace store::core
