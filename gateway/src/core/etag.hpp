// Weak ETags from store versions, per caller, and If-None-Match matching (no I/O).
#pragma once

#include <string>

namespace gw {

// A short stable fingerprint of what decides visibility: the role and the JWT claims.
std::string visibility_fingerprint(const std::string &role, const std::string &claims_json);

// The weak ETag of an answer read at `version` by a caller with `fingerprint`: W/"<version>/<fingerprint>".
std::string make_etag(const std::string &version, const std::string &fingerprint);

// True when an If-None-Match header value matches etag (weak comparison, lists, "*").
bool if_none_match(const std::string &header, const std::string &etag);

} // namespace gw
