// Streaming gzip: the pieces decompress to the input, each piece flushed; Accept-Encoding negotiation.
#include "core/gzip.hpp"

#include "gunzip.hpp"

#include <gtest/gtest.h>

using namespace gw;

TEST(Gzip, PiecesConcatenateToOneMember)
{
	GzipStream g;
	std::string a(100000, 'a'), b = "{\"k\":[1,2,3]}", all;
	all += g.piece(a);
	bool ended = true;
	EXPECT_EQ(gunzip(all, &ended), a) << "each piece is decodable as soon as it is sent";
	EXPECT_FALSE(ended);
	all += g.piece(b);
	all += g.piece("");
	all += g.finish();
	EXPECT_EQ(gunzip(all, &ended), a + b);
	EXPECT_TRUE(ended);
}

TEST(Gzip, AcceptEncoding)
{
	EXPECT_TRUE(accepts_gzip("gzip"));
	EXPECT_TRUE(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
	EXPECT_TRUE(accepts_gzip("br, GZIP"));
	EXPECT_TRUE(accepts_gzip("*"));
	EXPECT_FALSE(accepts_gzip(""));
	EXPECT_FALSE(accepts_gzip("identity"));
	EXPECT_FALSE(accepts_gzip("gzip;q=0"));
	EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
	EXPECT_FALSE(accepts_gzip("gzipx"));
}
