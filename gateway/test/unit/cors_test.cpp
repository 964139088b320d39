// CORS: the headers answers and preflights carry for pages on other origins, and --cors-origin.
#include "core/cors.hpp"
#include "core/options.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace gw;

namespace {
// The headers as a map (each name once).
std::map<std::string, std::string>
as_map(const HeaderList &h)
{
	return {h.begin(), h.end()};
}
} // namespace

TEST(Cors, OffByDefault)
{
	EXPECT_TRUE(cors_headers("", "http://app.example").empty());
	EXPECT_TRUE(preflight_headers("", "http://app.example").empty());
	EXPECT_FALSE(is_preflight("", "OPTIONS", "http://app.example", "POST"));
}

TEST(Cors, AnyOrigin)
{
	auto h = as_map(cors_headers("*", "null"));
	EXPECT_EQ(h["Access-Control-Allow-Origin"], "*");
	EXPECT_EQ(h["Access-Control-Expose-Headers"], "ETag, X-Store-Version, Location");
	EXPECT_TRUE(cors_headers("*", "").empty()) << "a request without Origin is not cross-origin";
}

TEST(Cors, ListedOrigins)
{
	std::string allowed = "https://a.example, http://127.0.0.1:3000";
	auto h = as_map(cors_headers(allowed, "http://127.0.0.1:3000"));
	EXPECT_EQ(h["Access-Control-Allow-Origin"], "http://127.0.0.1:3000") << "the request's origin, not the list";
	EXPECT_EQ(h["Vary"], "Origin");
	EXPECT_EQ(as_map(cors_headers(allowed, "https://a.example"))["Access-Control-Allow-Origin"], "https://a.example");
	HeaderList vary_only{{"Vary", "Origin"}}; // a cache must not give another origin's answer
	EXPECT_EQ(cors_headers(allowed, "https://evil.example"), vary_only);
	EXPECT_EQ(cors_headers(allowed, "https://a.example.evil"), vary_only) << "exact match only";
	EXPECT_EQ(cors_headers(allowed, "HTTPS://A.EXAMPLE"), vary_only);
	EXPECT_EQ(cors_headers(allowed, ""), vary_only);
}

TEST(Cors, Preflight)
{
	EXPECT_TRUE(is_preflight("*", "OPTIONS", "http://x.example", "PATCH"));
	EXPECT_FALSE(is_preflight("*", "OPTIONS", "", "PATCH")) << "no Origin";
	EXPECT_FALSE(is_preflight("*", "OPTIONS", "http://x.example", "")) << "a plain OPTIONS";
	EXPECT_FALSE(is_preflight("*", "GET", "http://x.example", "GET"));
	auto h = as_map(preflight_headers("http://x.example", "http://x.example"));
	EXPECT_EQ(h["Access-Control-Allow-Origin"], "http://x.example");
	EXPECT_EQ(h["Access-Control-Allow-Methods"], "GET, POST, PUT, PATCH, DELETE");
	EXPECT_EQ(h["Access-Control-Allow-Headers"], "Authorization, Content-Type, If-None-Match, Last-Event-ID");
	EXPECT_EQ(h["Access-Control-Max-Age"], "86400");
	EXPECT_EQ(preflight_headers("http://x.example", "http://y.example"), (HeaderList{{"Vary", "Origin"}}));
}

TEST(Cors, Option)
{
	auto p = parse_options({"--db", "x", "--cors-origin", "https://a.example,http://localhost:8000"}, {});
	ASSERT_EQ(p.error, "");
	EXPECT_EQ(p.options.cors_origin, "https://a.example,http://localhost:8000");
	p = parse_options({"--db", "x"}, {{"STORE_HTTP_CORS_ORIGIN", "*"}});
	ASSERT_EQ(p.error, "");
	EXPECT_EQ(p.options.cors_origin, "*");
	EXPECT_EQ(parse_options({"--db", "x"}, {}).options.cors_origin, "") << "off by default";
	for (const char *bad :
	     {"a.example", "https://", "ftp://a.example", "https://a.example/path", "*, https://a.example"})
		EXPECT_NE(parse_options({"--db", "x", "--cors-origin", bad}, {}).error, "") << bad;
}

// The WebSocket upgrade's Origin check (browsers apply no CORS to WebSockets).
TEST(Cors, OriginAllowed)
{
	EXPECT_TRUE(origin_allowed("*", "https://any.example"));
	EXPECT_TRUE(origin_allowed("https://a.example, https://b.example", "https://b.example"));
	EXPECT_FALSE(origin_allowed("https://a.example", "https://evil.example"));
	EXPECT_FALSE(origin_allowed("https://a.example", "https://a.example.evil.example"));
	EXPECT_FALSE(origin_allowed("https://a.example", "HTTPS://A.EXAMPLE")) << "exact match";
	EXPECT_FALSE(origin_allowed("", "https://a.example")) << "CORS off";
}
