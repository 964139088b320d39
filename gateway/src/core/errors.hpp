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
};

// The HTTP status for a PostgreSQL SQLSTATE; anonymous says the request ran as the anonymous role.
int status_for_sqlstate(const std::string &sqlstate, bool anonymous);

// An HttpError from a database error's fields.
HttpError from_database(const std::string &sqlstate, const std::string &message, const std::string &details,
                        const std::string &hint, bool anonymous);

// The JSON body {"code","message","details","hint"} of an error.
std::string error_body(const HttpError &e);

// The gateway's own errors (code prefix GW).
HttpError gateway_error(int status, const std::string &code, const std::string &message, const std::string &hint = "");

} // namespace gw
