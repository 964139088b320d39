// For the unit tests: inflates a gzip stream that may be incomplete.
#pragma once

#include <string>
#include <zlib.h>

// What in decodes to; *ended is true when a whole member ended exactly at the end of in.
inline std::string
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
	} while (rc == Z_OK);
	if (ended)
		*ended = rc == Z_STREAM_END && z.avail_in == 0;
	inflateEnd(&z);
	return out;
}
