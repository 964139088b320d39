// Streaming gzip (zlib) for chunked answers, and Accept-Encoding negotiation (no I/O).
#pragma once

#include <memory>
#include <string>

namespace gw {

// A gzip member compressed piece by piece; each piece's output is complete up to it (sync flush).
class GzipStream {
public:
	GzipStream();
	~GzipStream();
	GzipStream(const GzipStream &) = delete;
	GzipStream &operator=(const GzipStream &) = delete;
	// Compresses data and flushes, so the client can decode everything sent so far.
	std::string piece(const std::string &data);
	// Ends the member (the trailer with CRC and length).
	std::string finish();

private:
	struct State;
	std::unique_ptr<State> s_;
	std::string run(const char *data, std::size_t n, int flush);
};

// True when an Accept-Encoding header accepts gzip (q > 0).
bool accepts_gzip(const std::string &accept_encoding);

} // namespace gw
