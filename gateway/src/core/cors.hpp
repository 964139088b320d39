// Cross-origin requests (CORS) for browser pages on other origins: which headers an answer carries.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gw {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The headers of an answer to a request from `origin` (its Origin header) when --cors-origin is
// `allowed` ("*", or origins separated by commas): Access-Control-Allow-Origin, Expose-Headers and
// Vary: Origin; none when CORS is off or the request has no Origin; only Vary: Origin (for caches)
// when the origin is not one of a list.
HeaderList cors_headers(const std::string &allowed, const std::string &origin);

// True when a request is a CORS preflight that the gateway answers itself (204): OPTIONS with an
// Origin and Access-Control-Request-Method while CORS is on.
bool is_preflight(const std::string &allowed, const std::string &method, const std::string &origin,
                  const std::string &request_method);

// The headers of a preflight's answer: cors_headers plus the methods and request headers allowed
// and how long the browser may keep them; none when the origin is not allowed.
HeaderList preflight_headers(const std::string &allowed, const std::string &origin);

// True when --cors-origin `allowed` lets pages on `origin` in ("*", or one of its origins exactly); false
// when CORS is off or there is no origin.
bool origin_allowed(const std::string &allowed, const std::string &origin);

// Whether an --cors-origin value is well formed ("*", or http(s)://host[:port] origins separated by commas).
bool valid_cors_origin(const std::string &allowed);

} // namespace gw
