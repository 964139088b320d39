// JWT validation: accepted tokens give their role and claims; every bad token is a 401 with a challenge.
#include "core/auth.hpp"
#include "test_keys.hpp"

#include <gtest/gtest.h>
#include <jwt/jwt.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

using namespace gw;

namespace {

const std::string secret = "0123456789abcdef0123456789abcdef-secret";

// Seconds since the epoch, now.
long
now()
{
	return long(
	    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// A token with the given claims signed with alg and key.
std::string
sign(const nlohmann::json &claims, const std::string &alg, const std::string &key)
{
	jwt::jwt_object obj{jwt::params::algorithm(alg), jwt::params::secret(key)};
	for (auto it = claims.begin(); it != claims.end(); ++it) {
		if (it.value().is_string())
			obj.add_claim(it.key(), it.value().get<std::string>());
		else if (it.value().is_number_integer())
			obj.add_claim(it.key(), it.value().get<long>());
	}
	return obj.signature();
}

// base64url without padding.
std::string
b64url(const std::string &s)
{
	static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	std::string out;
	std::size_t i = 0;
	for (; i + 2 < s.size(); i += 3) {
		unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
		for (int k = 18; k >= 0; k -= 6)
			out.push_back(abc[(v >> k) & 63]);
	}
	if (s.size() - i == 1) {
		unsigned v = (unsigned char)s[i] << 16;
		out += {abc[(v >> 18) & 63], abc[(v >> 12) & 63]};
	} else if (s.size() - i == 2) {
		unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
		out += {abc[(v >> 18) & 63], abc[(v >> 12) & 63], abc[(v >> 6) & 63]};
	}
	return out;
}

// An HS256 token for a payload given as JSON text (any claim types; cpp-jwt's add_claim takes scalars only).
std::string
sign_raw(const std::string &payload)
{
	std::string unsigned_part = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload);
	auto sig = jwt::HMACSign<jwt::algo::HS256>::sign(secret, unsigned_part);
	return unsigned_part + "." + b64url(sig.first);
}

AuthConfig
hs_config()
{
	AuthConfig c;
	c.secret = secret;
	c.anon_role = "anon";
	return c;
}

AuthConfig
rs_config()
{
	AuthConfig c;
	c.public_key = test_rsa_public;
	c.anon_role = "anon";
	return c;
}

// Expects a 401 refusal with a Bearer challenge.
void
expect_invalid(const AuthResult &r)
{
	EXPECT_FALSE(r.ok);
	EXPECT_EQ(r.status, 401);
	EXPECT_EQ(r.code, "GW301");
	EXPECT_EQ(r.www_authenticate.rfind("Bearer error=\"invalid_token\"", 0), 0u) << r.www_authenticate;
}

} // namespace

TEST(Auth, NoTokenIsTheAnonymousRole)
{
	AuthResult r = authenticate(hs_config(), "");
	EXPECT_TRUE(r.ok);
	EXPECT_TRUE(r.anonymous);
	EXPECT_EQ(r.role, "anon");
	EXPECT_EQ(r.claims_json, "{}");
}

TEST(Auth, NoTokenWithoutAnonymousRoleIs401)
{
	AuthConfig c = hs_config();
	c.anon_role = "";
	AuthResult r = authenticate(c, "");
	EXPECT_FALSE(r.ok);
	EXPECT_EQ(r.status, 401);
	EXPECT_EQ(r.code, "GW302");
	EXPECT_EQ(r.www_authenticate, "Bearer");
}

TEST(Auth, ValidHs256TokenGivesItsRoleAndClaims)
{
	std::string t = sign({{"role", "alice"}, {"sub", "42"}, {"exp", now() + 600}}, "HS256", secret);
	AuthResult r = authenticate(hs_config(), "Bearer " + t);
	ASSERT_TRUE(r.ok) << r.message;
	EXPECT_FALSE(r.anonymous);
	EXPECT_EQ(r.role, "alice");
	auto claims = nlohmann::json::parse(r.claims_json);
	EXPECT_EQ(claims["sub"], "42");
	EXPECT_TRUE(authenticate(hs_config(), "bearer " + t).ok) << "the scheme is case-insensitive";
}

TEST(Auth, TokenWithoutRoleIsTheAnonymousRole)
{
	std::string t = sign({{"sub", "42"}}, "HS256", secret);
	AuthResult r = authenticate(hs_config(), "Bearer " + t);
	ASSERT_TRUE(r.ok);
	EXPECT_TRUE(r.anonymous);
	EXPECT_EQ(r.role, "anon");
	EXPECT_NE(r.claims_json.find("\"sub\""), std::string::npos);
}

TEST(Auth, NestedRoleClaim)
{
	AuthConfig c = hs_config();
	c.role_claim = "app.role";
	std::string payload = R"({"app":{"role":"bob"}})";
	std::string head = R"({"alg":"HS256","typ":"JWT"})";
	// Sign a nested payload by hand: cpp-jwt's add_claim takes scalars only.
	std::string unsigned_part = b64url(head) + "." + b64url(payload);
	auto sig = jwt::HMACSign<jwt::algo::HS256>::sign(secret, unsigned_part);
	ASSERT_FALSE(sig.second);
	std::string t = unsigned_part + "." + b64url(sig.first);
	AuthResult r = authenticate(c, "Bearer " + t);
	ASSERT_TRUE(r.ok) << r.message;
	EXPECT_EQ(r.role, "bob");
}

// "none" would run the request as the authenticator (SET ROLE NONE); a NUL would cut the name
// short in libpq's C strings: both refused.
TEST(Auth, RoleNoneOrWithNulIs401)
{
	expect_invalid(authenticate(hs_config(), "Bearer " + sign({{"role", "none"}}, "HS256", secret)));
	std::string head = R"({"alg":"HS256","typ":"JWT"})";
	std::string unsigned_part = b64url(head) + "." + b64url(R"({"role":"alice\u0000zzz"})");
	auto sig = jwt::HMACSign<jwt::algo::HS256>::sign(secret, unsigned_part);
	ASSERT_FALSE(sig.second);
	expect_invalid(authenticate(hs_config(), "Bearer " + unsigned_part + "." + b64url(sig.first)));
	AuthResult ok = authenticate(hs_config(), "Bearer " + sign({{"role", "nonesuch"}}, "HS256", secret));
	EXPECT_TRUE(ok.ok) << ok.message;
}

TEST(Auth, WrongSignatureIs401)
{
	std::string t = sign({{"role", "alice"}}, "HS256", "another-secret-another-secret-xx");
	expect_invalid(authenticate(hs_config(), "Bearer " + t));
}

TEST(Auth, AlgNoneIs401)
{
	std::string t = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(R"({"role":"postgres"})") + ".";
	expect_invalid(authenticate(hs_config(), "Bearer " + t));
	expect_invalid(authenticate(rs_config(), "Bearer " + t));
}

TEST(Auth, OtherAlgorithmIs401)
{
	std::string t = sign({{"role", "alice"}}, "HS512", secret);
	expect_invalid(authenticate(hs_config(), "Bearer " + t));
	std::string rs = sign({{"role", "alice"}}, "RS256", test_rsa_private);
	expect_invalid(authenticate(hs_config(), "Bearer " + rs));
}

TEST(Auth, Rs256TokensAreVerifiedWithThePublicKey)
{
	std::string good = sign({{"role", "alice"}}, "RS256", test_rsa_private);
	AuthResult r = authenticate(rs_config(), "Bearer " + good);
	ASSERT_TRUE(r.ok) << r.message;
	EXPECT_EQ(r.role, "alice");
	std::string other = sign({{"role", "alice"}}, "RS256", other_rsa_private);
	expect_invalid(authenticate(rs_config(), "Bearer " + other));
}

TEST(Auth, Hs256SignedWithThePublicKeyIs401)
{
	// Key confusion: an HS256 token whose secret is the RS256 public key must not pass.
	std::string t = sign({{"role", "postgres"}}, "HS256", test_rsa_public);
	expect_invalid(authenticate(rs_config(), "Bearer " + t));
}

TEST(Auth, ExpiredTokenIs401ButLeewayApplies)
{
	std::string expired = sign({{"role", "alice"}, {"exp", now() - 3600}}, "HS256", secret);
	AuthResult r = authenticate(hs_config(), "Bearer " + expired);
	expect_invalid(r);
	EXPECT_EQ(r.message, "token expired");
	std::string just = sign({{"role", "alice"}, {"exp", now() - 5}}, "HS256", secret);
	EXPECT_TRUE(authenticate(hs_config(), "Bearer " + just).ok) << "30 s of clock skew are allowed";
	std::string future = sign({{"role", "alice"}, {"nbf", now() + 3600}}, "HS256", secret);
	expect_invalid(authenticate(hs_config(), "Bearer " + future));
}

TEST(Auth, NonNumericTimesAre401)
{
	for (const char *c : {"exp", "nbf", "iat"}) {
		expect_invalid(
		    authenticate(hs_config(), "Bearer " + sign_raw(std::string(R"({"role":"alice",")") + c + R"(":"never"})")));
		expect_invalid(
		    authenticate(hs_config(), "Bearer " + sign_raw(std::string(R"({"role":"alice",")") + c + R"(":null})")));
	}
}

// RFC 7519 NumericDate: "a JSON numeric value", fractions allowed; they were refused as malformed.
TEST(Auth, FractionalTimesAreAccepted)
{
	std::string claims = R"({"role":"alice","exp":)" + std::to_string(now() + 600) + R"(.5,"nbf":)" +
	                     std::to_string(now() - 10) + R"(.25,"iat":)" + std::to_string(now() - 10) + ".75}";
	AuthResult r = authenticate(hs_config(), "Bearer " + sign_raw(claims));
	ASSERT_TRUE(r.ok) << r.message;
	EXPECT_EQ(r.role, "alice");
	ASSERT_TRUE(r.expires_at);
	EXPECT_DOUBLE_EQ(*r.expires_at, double(now() + 600) + 0.5 + 30); // exp + the leeway
	AuthResult far = authenticate(hs_config(), "Bearer " + sign_raw(R"({"role":"alice","exp":1893456000.5})"));
	EXPECT_TRUE(far.ok) << far.message;
	AuthResult old = authenticate(hs_config(), "Bearer " + sign_raw(R"({"role":"alice","exp":1000000000.5})"));
	expect_invalid(old);
	EXPECT_EQ(old.message, "token expired");
	AuthResult early = authenticate(
	    hs_config(), "Bearer " + sign_raw(R"({"role":"alice","nbf":)" + std::to_string(now() + 3600) + ".5}"));
	expect_invalid(early);
	EXPECT_EQ(early.message, "token not yet valid");
}

TEST(Auth, ExpiryIsCarriedOnlyWhenTheTokenHasOne)
{
	EXPECT_FALSE(authenticate(hs_config(), "").expires_at);
	EXPECT_FALSE(authenticate(hs_config(), "Bearer " + sign({{"role", "alice"}}, "HS256", secret)).expires_at);
	AuthResult r =
	    authenticate(hs_config(), "Bearer " + sign({{"role", "alice"}, {"exp", now() + 60}}, "HS256", secret));
	ASSERT_TRUE(r.expires_at);
	EXPECT_DOUBLE_EQ(*r.expires_at, double(now() + 60 + 30)); // exp + the leeway: when it stops being accepted
}

// A role claim that is there but not a string ran as the anonymous role: refused instead.
TEST(Auth, RoleClaimThatIsNotAStringIs401)
{
	for (const char *v : {"5", "1.5", R"({"name":"alice"})", R"(["alice"])", "true", "false", "null"}) {
		AuthResult r = authenticate(hs_config(), "Bearer " + sign_raw(std::string(R"({"role":)") + v + "}"));
		expect_invalid(r);
		EXPECT_EQ(r.message, "the token's role claim is not a string") << v;
	}
	AuthConfig c = hs_config();
	c.role_claim = "app.role";
	expect_invalid(authenticate(c, "Bearer " + sign_raw(R"({"app":{"role":7}})")));
	AuthResult absent = authenticate(c, "Bearer " + sign_raw(R"({"app":{}})"));
	EXPECT_TRUE(absent.ok && absent.anonymous) << "an absent role claim is still the anonymous role";
}

TEST(Auth, MalformedTokensAre401)
{
	for (std::string t : std::vector<std::string>{"abc", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.e30", "x y z",
	                                              b64url(R"({"alg":5})") + ".e30.sig", b64url("[1]") + ".e30.sig",
	                                              b64url("{") + ".e30.x"})
		expect_invalid(authenticate(hs_config(), "Bearer " + t));
	expect_invalid(authenticate(hs_config(), "Basic dXNlcjpwYXNz"));
	expect_invalid(authenticate(hs_config(), "Bearer"));
	expect_invalid(authenticate(hs_config(), "Bearer "));
}

TEST(Auth, TokensRefusedWhenNoKeyIsConfigured)
{
	AuthConfig c;
	c.anon_role = "anon";
	std::string t = sign({{"role", "alice"}}, "HS256", secret);
	expect_invalid(authenticate(c, "Bearer " + t));
}

TEST(Auth, Audience)
{
	AuthConfig c = hs_config();
	c.audience = "store";
	EXPECT_TRUE(authenticate(c, "Bearer " + sign({{"role", "a"}}, "HS256", secret)).ok) << "no aud passes";
	EXPECT_TRUE(authenticate(c, "Bearer " + sign({{"role", "a"}, {"aud", "store"}}, "HS256", secret)).ok);
	expect_invalid(authenticate(c, "Bearer " + sign({{"role", "a"}, {"aud", "other"}}, "HS256", secret)));
}

TEST(Auth, ClaimString)
{
	EXPECT_EQ(claim_string(R"({"a":{"b":"x"}})", "a.b"), "x");
	EXPECT_EQ(claim_string(R"({"a":{"b":1}})", "a.b"), "");
	EXPECT_EQ(claim_string(R"({"a":"x"})", "a.b"), "");
	EXPECT_EQ(claim_string("not json", "a"), "");
}
