// JWT validation rules: who a request runs as (no I/O).
#pragma once

#include <optional>
#include <string>

namespace gw {

struct AuthConfig {
	std::string secret;     // HS256 secret; tokens must be HS256
	std::string public_key; // RS256 public key (PEM); tokens must be RS256
	std::string role_claim = "role";
	std::string audience;  // when set, aud (string or array) must contain it; an absent aud passes
	std::string anon_role; // the role without a token; empty: a token is required
	long leeway_seconds = 30;
};

// Who the request is: a role and the claims (JSON object text; "{}" for no token), or an error.
struct AuthResult {
	bool ok = false;
	bool anonymous = false;
	std::string role;
	std::string claims_json;
	std::optional<double> expires_at; // when the token stops being accepted (exp + leeway, seconds since the epoch)
	int status = 401;                 // when !ok
	std::string code;                 // when !ok: GW301 bad token, GW302 no token and no anonymous role
	std::string message;              // when !ok
	std::string www_authenticate;     // when !ok: the WWW-Authenticate header
};

// Authenticates from the Authorization header value ("" when absent).
AuthResult authenticate(const AuthConfig &cfg, const std::string &authorization);

// The value at a dotted path (a.b.c) of a JSON object text, as a string when it is one; "" otherwise.
std::string claim_string(const std::string &claims_json, const std::string &path);

} // namespace gw
