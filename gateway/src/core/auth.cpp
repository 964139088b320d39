// JWT validation: one algorithm per gateway (HS256 or RS256; cpp-jwt checks signatures), exp/nbf with leeway, aud.
#include "core/auth.hpp"

#include <jwt/jwt.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>

namespace gw {
namespace {

// A refused token: 401 with an RFC 6750 challenge.
AuthResult
invalid(const std::string &message)
{
	AuthResult r;
	r.status = 401;
	r.code = "GW301";
	r.message = message;
	r.www_authenticate = "Bearer error=\"invalid_token\", error_description=\"" + message + "\"";
	return r;
}

// The token of an Authorization header ("Bearer" in any letter case); "" when there is none.
bool
bearer_token(const std::string &header, std::string &token)
{
	if (header.size() < 7)
		return false;
	std::string scheme = header.substr(0, 6);
	for (char &c : scheme)
		c = char(std::tolower(static_cast<unsigned char>(c)));
	if (scheme != "bearer" || header[6] != ' ')
		return false;
	std::size_t i = 7;
	while (i < header.size() && header[i] == ' ')
		i++;
	token = header.substr(i);
	while (!token.empty() && token.back() == ' ')
		token.pop_back();
	return !token.empty();
}

// The algorithm named in a token's header, when the header is a JSON object with a string "alg".
bool
header_alg(const std::string &token, std::string &alg)
{
	auto dot = token.find('.');
	if (dot == std::string::npos || std::count(token.begin(), token.end(), '.') != 2)
		return false;
	for (char c : token)
		if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
			return false;
	std::string head = jwt::base64_uri_decode(token.data(), dot);
	auto j = nlohmann::json::parse(head, nullptr, false);
	if (!j.is_object() || !j.contains("alg") || !j["alg"].is_string())
		return false;
	alg = j["alg"].get<std::string>();
	return true;
}

// True when the claims carry no aud, or aud (a string or an array of strings) contains audience.
bool
audience_ok(const nlohmann::json &claims, const std::string &audience)
{
	if (audience.empty() || !claims.contains("aud"))
		return true;
	const auto &aud = claims["aud"];
	if (aud.is_string())
		return aud.get<std::string>() == audience;
	if (aud.is_array())
		for (const auto &a : aud)
			if (a.is_string() && a.get<std::string>() == audience)
				return true;
	return false;
}

// Seconds since the epoch, now (with its fraction: NumericDate may have one).
double
now_seconds()
{
	return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// exp/nbf/iat, when present, must be NumericDates: numbers, integral or not (RFC 7519 section 2).
bool
times_well_typed(const nlohmann::json &claims)
{
	for (const char *c : {"exp", "nbf", "iat"})
		if (claims.contains(c) && (!claims[c].is_number() || !std::isfinite(claims[c].get<double>())))
			return false;
	return true;
}

// Checks exp and nbf against the clock with the leeway; "" when the token is current, else the reason.
std::string
check_times(const AuthConfig &cfg, const nlohmann::json &claims)
{
	double now = now_seconds(), leeway = double(cfg.leeway_seconds);
	if (claims.contains("exp") && now > claims["exp"].get<double>() + leeway)
		return "token expired";
	if (claims.contains("nbf") && claims["nbf"].get<double>() - leeway > now)
		return "token not yet valid";
	return "";
}

// Verifies the signature (the last part) of header.payload with cpp-jwt; "" on success, else the reason.
// The times are checked here, not by cpp-jwt: it reads them as whole unsigned numbers.
std::string
verify_signature(const AuthConfig &cfg, const std::string &token, const std::string &alg)
{
	const std::string &key = alg == "HS256" ? cfg.secret : cfg.public_key;
	auto last = token.rfind('.');
	if (last + 1 >= token.size())
		return "invalid signature";
	try {
		jwt::jwt_header head{alg == "HS256" ? jwt::algorithm::HS256 : jwt::algorithm::RS256};
		jwt::jwt_signature sig{key};
		auto res = sig.verify(head, jwt::string_view(token).substr(0, last), jwt::string_view(token).substr(last + 1));
		return !res.second && res.first ? "" : "invalid signature";
	} catch (const std::exception &) {
		return "malformed token";
	}
}

// The value at a dotted path (a.b.c) of a JSON value; nullptr when the path does not lead to one.
const nlohmann::json *
claim_at(const nlohmann::json &claims, const std::string &path)
{
	const nlohmann::json *cur = &claims;
	std::size_t i = 0;
	while (true) {
		std::size_t dot = path.find('.', i);
		std::string part = path.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
		if (!cur->is_object() || !cur->contains(part))
			return nullptr;
		cur = &(*cur)[part];
		if (dot == std::string::npos)
			return cur;
		i = dot + 1;
	}
}

} // namespace

std::string
claim_string(const std::string &claims_json, const std::string &path)
{
	auto claims = nlohmann::json::parse(claims_json, nullptr, false);
	const nlohmann::json *v = claim_at(claims, path);
	return v && v->is_string() ? v->get<std::string>() : "";
}

AuthResult
authenticate(const AuthConfig &cfg, const std::string &authorization)
{
	AuthResult r;
	std::string token;
	if (authorization.empty()) {
		if (cfg.anon_role.empty()) {
			r.status = 401;
			r.code = "GW302";
			r.message = "anonymous access is disabled: send a token";
			r.www_authenticate = "Bearer";
			return r;
		}
		r.ok = r.anonymous = true;
		r.role = cfg.anon_role;
		r.claims_json = "{}";
		return r;
	}
	if (!bearer_token(authorization, token))
		return invalid("expected \"Authorization: Bearer <token>\"");
	const std::string want = !cfg.secret.empty() ? "HS256" : !cfg.public_key.empty() ? "RS256" : "";
	if (want.empty())
		return invalid("this server accepts no tokens (no JWT key configured)");
	std::string alg;
	if (!header_alg(token, alg))
		return invalid("malformed token");
	if (alg != want)
		return invalid("algorithm not accepted");
	std::string why = verify_signature(cfg, token, alg);
	if (!why.empty())
		return invalid(why);
	auto dot = token.find('.');
	std::string payload = jwt::base64_uri_decode(token.data() + dot + 1, token.find('.', dot + 1) - dot - 1);
	auto claims = nlohmann::json::parse(payload, nullptr, false);
	if (!claims.is_object() || !times_well_typed(claims))
		return invalid("malformed token");
	why = check_times(cfg, claims);
	if (!why.empty())
		return invalid(why);
	if (!audience_ok(claims, cfg.audience))
		return invalid("token audience not accepted");
	r.claims_json = claims.dump();
	// A role claim that is there but not a string is a mistake of the issuer, not "no role": refused.
	const nlohmann::json *role = claim_at(claims, cfg.role_claim);
	if (role && !role->is_string())
		return invalid("the token's role claim is not a string");
	r.role = role ? role->get<std::string>() : "";
	if (claims.contains("exp")) // the moment requests with it stop being accepted: streams end then too
		r.expires_at = claims["exp"].get<double>() + double(cfg.leeway_seconds);
	// set_config('role', 'none') resets to the authenticator itself; a NUL would cut the name short
	if (r.role == "none" || r.role.find('\0') != std::string::npos)
		return invalid("the token's role claim names no role a request may take");
	r.anonymous = r.role.empty();
	if (r.role.empty())
		r.role = cfg.anon_role;
	if (r.role.empty()) {
		r.status = 401;
		r.code = "GW302";
		r.message = "the token names no role and anonymous access is disabled";
		r.www_authenticate = "Bearer";
		return r;
	}
	r.ok = true;
	return r;
}

} // namespace gw
