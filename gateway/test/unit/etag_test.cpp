// ETags: weak, per version and visibility; If-None-Match lists with weak comparison.
#include "core/etag.hpp"

#include <gtest/gtest.h>

using namespace gw;

TEST(Etag, WeakAndPerCaller)
{
	std::string a = make_etag("0a1b2c3d:748:760:748,751", visibility_fingerprint("alice", "{}"));
	std::string b = make_etag("0a1b2c3d:748:760:748,751", visibility_fingerprint("bob", "{}"));
	std::string c = make_etag("0a1b2c3d:748:760:748,751", visibility_fingerprint("alice", R"({"sub":"1"})"));
	EXPECT_EQ(a.rfind("W/\"0a1b2c3d:748:760:748,751/", 0), 0u) << a;
	EXPECT_NE(a, b);
	EXPECT_NE(a, c);
	EXPECT_EQ(visibility_fingerprint("alice", "{}"), visibility_fingerprint("alice", "{}"));
	EXPECT_NE(visibility_fingerprint("ab", "c"), visibility_fingerprint("a", "bc"));
}

TEST(Etag, IfNoneMatch)
{
	std::string e = make_etag("v:1:2:1,3", "00ff");
	EXPECT_TRUE(if_none_match(e, e));
	EXPECT_TRUE(if_none_match("\"v:1:2:1,3/00ff\"", e)) << "weak comparison ignores W/";
	EXPECT_TRUE(if_none_match("\"x\", " + e, e)) << "a list";
	EXPECT_TRUE(if_none_match("W/\"x\",W/\"v:1:2:1,3/00ff\"", e));
	EXPECT_TRUE(if_none_match("*", e));
	EXPECT_FALSE(if_none_match("W/\"v:1:2:1/00ff\"", e)) << "commas inside tags are not separators";
	EXPECT_FALSE(if_none_match("W/\"v:1:2:1,3/00fe\"", e));
	EXPECT_FALSE(if_none_match("", e));
	EXPECT_FALSE(if_none_match("garbage", e));
	EXPECT_FALSE(if_none_match("W/\"unterminated", e));
	EXPECT_FALSE(if_none_match("W/\"\"", e));
}
