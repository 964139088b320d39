// SQLSTATE -> HTTP status mapping after PostgREST (docs/references/errors.rst), and error bodies.
#include "core/errors.hpp"

#include <nlohmann/json.hpp>

namespace gw {
namespace {

// True when s starts with prefix.
bool
starts(const std::string &s, const char *prefix)
{
	return s.rfind(prefix, 0) == 0;
}

// "PTxyz" raised by SQL sets the status xyz exactly (PostgREST); 0 when s is not such a code.
int
explicit_status(const std::string &s)
{
	if (s.size() != 5 || !starts(s, "PT"))
		return 0;
	int v = 0;
	for (std::size_t i = 2; i < 5; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 100 && v <= 599 ? v : 0;
}

// A JSON string, or null for an empty one.
nlohmann::ordered_json
or_null(const std::string &s)
{
	return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

// The headers a status needs: Retry-After for a 503, a Bearer challenge for a 401 (RFC 6750 section 3).
void
with_headers(HttpError &e, const char *retry_after)
{
	if (e.status == 503)
		e.retry_after = retry_after;
	if (e.status == 401)
		e.www_authenticate = "Bearer";
}

} // namespace

int
status_for_sqlstate(const std::string &s, bool anonymous)
{
	if (int v = explicit_status(s))
		return v;
	if (starts(s, "PT"))
		return 500; // PTxyz with xyz not a status
	if (s == "42501")
		return anonymous ? 401 : 403;
	if (s == "23503" || s == "23505" || s == "40001" || s == "40P01")
		return 409;
	if (s == "25006")
		return 405;
	if (s == "42P01" || s == "42883" || s == "42704")
		return 404;
	if (s == "57P01" || s == "57P02" || s == "57P03")
		return 503;
	if (starts(s, "08") || starts(s, "53"))
		return 503;
	if (starts(s, "28") || starts(s, "0L") || starts(s, "0P"))
		return 403;
	if (s == "P0001")
		return 400;
	if (starts(s, "09") || starts(s, "0B") || starts(s, "25") || starts(s, "2D") || starts(s, "2F") ||
	    starts(s, "38") || starts(s, "39") || starts(s, "3B") || starts(s, "40") || starts(s, "54") ||
	    starts(s, "55") || starts(s, "57") || starts(s, "58") || starts(s, "F0") || starts(s, "HV") ||
	    starts(s, "P0") || starts(s, "XX") || s == "42P17" || s.size() != 5)
		return 500;
	return 400;
}

HttpError
from_database(const std::string &sqlstate, const std::string &message, const std::string &details,
              const std::string &hint, bool anonymous)
{
	HttpError e{status_for_sqlstate(sqlstate, anonymous), sqlstate, message, details, hint, "", ""};
	with_headers(e, "5");
	return e;
}

std::string
error_body(const HttpError &e)
{
	nlohmann::ordered_json j = {
	    {"code", e.code}, {"message", e.message}, {"details", or_null(e.details)}, {"hint", or_null(e.hint)}};
	return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpError
gateway_error(int status, const std::string &code, const std::string &message, const std::string &hint)
{
	HttpError e{status, code, message, "", hint, "", ""};
	with_headers(e, "1");
	return e;
}

HttpError
unavailable(bool pool_exhausted, const std::string &message)
{
	if (pool_exhausted)
		return gateway_error(503, "GW503", message, "retry later");
	HttpError e = gateway_error(503, "GW503", message, "the database is unreachable; retry later");
	e.retry_after = "5";
	return e;
}

} // namespace gw
