// Streaming gzip: the pieces decompress to the input, each piece flushed; Accept-Encoding negotiation.
#include "core/gzip.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

using namespace gw;

namespace {

// Inflates a gzip stream (possibly incomplete); returns what it decodes.
std::string
gunzip(const std::string &in, bool *ended = nullptr)
{
	z_stream z{};
	inflateInit2(&z, 15 + 16);
	z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
	z.avail_in = uInt(in.size());
	std::string out;
	char buf[4096];
	int rc;
	do {
		z.next_out = reinterpret_cast<Bytef *>(buf);
		z.avail_out = sizeof buf;
		rc = inflate(&z, Z_NO_FLUSH);
		out.append(buf, sizeof buf - z.avail_out);
	} while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
	if (ended)
		*ended = rc == Z_STREAM_END;
	inflateEnd(&z);
	return out;
}

} // namespace

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
