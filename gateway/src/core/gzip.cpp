// gzip with zlib: deflate with a gzip wrapper (windowBits 15 + 16), synced after each piece.
#include "core/gzip.hpp"

#include <cctype>
#include <stdexcept>
#include <zlib.h>

namespace gw {

struct GzipStream::State {
	z_stream z{};
};

GzipStream::GzipStream() : s_(new State)
{
	if (deflateInit2(&s_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		throw std::runtime_error("deflateInit2 failed");
}

GzipStream::~GzipStream()
{
	deflateEnd(&s_->z);
}

// Runs deflate over the input with the given flush mode and returns all output produced.
std::string
GzipStream::run(const char *data, std::size_t n, int flush)
{
	std::string out;
	char buf[16384];
	s_->z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data));
	s_->z.avail_in = uInt(n);
	int rc;
	do {
		s_->z.next_out = reinterpret_cast<Bytef *>(buf);
		s_->z.avail_out = sizeof buf;
		rc = deflate(&s_->z, flush);
		if (rc == Z_STREAM_ERROR)
			throw std::runtime_error("deflate failed");
		out.append(buf, sizeof buf - s_->z.avail_out);
	} while (s_->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return out;
}

std::string
GzipStream::piece(const std::string &data)
{
	return run(data.data(), data.size(), Z_SYNC_FLUSH);
}

std::string
GzipStream::finish()
{
	return run(nullptr, 0, Z_FINISH);
}

bool
accepts_gzip(const std::string &header)
{
	std::size_t i = 0;
	while (i < header.size()) {
		std::size_t j = header.find(',', i);
		if (j == std::string::npos)
			j = header.size();
		std::string item = header.substr(i, j - i);
		i = j + 1;
		std::string lower;
		for (char c : item)
			if (!std::isspace(static_cast<unsigned char>(c)))
				lower.push_back(char(std::tolower(static_cast<unsigned char>(c))));
		std::string coding = lower.substr(0, lower.find(';'));
		if (coding != "gzip" && coding != "x-gzip" && coding != "*")
			continue;
		auto q = lower.find(";q=");
		if (q == std::string::npos)
			return true;
		std::string qv = lower.substr(q + 3);
		bool zero = !qv.empty();
		for (char c : qv)
			if (c != '0' && c != '.')
				zero = false;
		return !zero;
	}
	return false;
}

} // namespace gw
