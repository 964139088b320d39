// Errors as HTTP answers: PostgREST's SQLSTATE -> status mapping and its JSON error body (no I/O).
#pragma once

#include <string>

namespace gw {

// An error to send: status, and the body's fields (empty details/hint become null).
struct HttpError {
	int status = 500;
	std::string code;
	std::string message;
	std::string details;
	std::string hint;
	std::string retry_after;      // 503: the Retry-After header (seconds)
	std::string www_authenticate; // 401: the WWW-Authenticate header (RFC 7235 requires one)
};

// The HTTP status for a PostgreSQL SQLSTATE; anonymous says the request ran as the anonymous role.
int status_for_sqlstate(const std::string &sqlstate, bool anonymous);

// An HttpError from a database error's fields (a 503 retries after 5 s; a 401 challenges "Bearer").
HttpError from_database(const std::string &sqlstate, const std::string &message, const std::string &details,
                        const std::string &hint, bool anonymous);

// The JSON body {"code","message","details","hint"} of an error.
std::string error_body(const HttpError &e);

// The gateway's own errors (code prefix GW; a 503 retries after 1 s, a 401 challenges "Bearer").
HttpError gateway_error(int status, const std::string &code, const std::string &message, const std::string &hint = "");

// No database connection for a request: GW503 either way; the pool exhausted (retry after 1 s) or the
// database unreachable (retry after 5 s), told apart by the hint.
HttpError unavailable(bool pool_exhausted, const std::string &message);

} // namespace gw
