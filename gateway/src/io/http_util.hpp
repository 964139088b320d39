// What store-http's HTTP code shares: Beast names, the timeouts, CORS headers on a response, JSON errors.
#pragma once

#include "core/cors.hpp"
#include "core/errors.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace gw {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

constexpr std::size_t chunk_bytes = 64 * 1024;        // a streamed answer is written in chunks of about this size
constexpr std::size_t gzip_min_bytes = 1024;          // smaller whole answers are sent uncompressed
constexpr std::chrono::seconds write_timeout{30};     // a client that takes no data for this long is dropped
constexpr std::chrono::seconds shutdown_deadline{10}; // in-flight requests get this long after SIGTERM
constexpr std::chrono::seconds cut_grace{2};          // then, sockets closed, the requests left get this long
inline const char *const json_type = "application/json; charset=utf-8";

// Adds CORS headers to a response's fields (Vary: Origin is appended to a Vary already there).
template <class Fields>
void
add_headers(Fields &fields, const gw::HeaderList &headers)
{
	for (const auto &[name, value] : headers) {
		auto old = fields[name];
		if (name == "Vary" && !old.empty())
			fields.set(name, std::string(old) + ", " + value);
		else
			fields.set(name, value);
	}
}

// An error response with the JSON body and the headers its status needs.
inline http::response<http::string_body>
error_response(const HttpError &e, unsigned version, bool keep_alive)
{
	http::response<http::string_body> res{static_cast<http::status>(e.status), version};
	res.set(http::field::content_type, json_type);
	res.set(http::field::cache_control, "no-store");
	if (!e.retry_after.empty())
		res.set(http::field::retry_after, e.retry_after);
	if (!e.www_authenticate.empty())
		res.set(http::field::www_authenticate, e.www_authenticate);
	res.keep_alive(keep_alive);
	res.body() = error_body(e);
	return res;
}

} // namespace gw
