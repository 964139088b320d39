// One client connection of store-http: reads requests one after the other and answers each.
#pragma once

#include "io/http_util.hpp"
#include "io/server.hpp"

#include <optional>

namespace gw {

// One client connection: reads requests one after the other and answers each.
class Session : public std::enable_shared_from_this<Session> {
public:
	Session(tcp::socket s, Server &srv) : stream(std::move(s)), srv(srv), read_deadline_(srv.io)
	{
		srv.session_started(this);
	}
	~Session() { srv.session_ended(this); }
	// Waits for the first request.
	void
	start()
	{
		wait_request();
	}
	// Closes the connection when it is between requests (shutdown).
	void
	close_if_idle()
	{
		if (idle)
			beast::get_lowest_layer(stream).socket().cancel();
	}
	// Closes the connection whatever it is doing (the shutdown deadline passed): its handlers end.
	void
	cut()
	{
		beast::error_code ec;
		stream.socket().shutdown(tcp::socket::shutdown_both, ec);
		stream.socket().close(ec);
	}
	// After a response: reads the next request, or closes.
	void
	next(bool keep_alive)
	{
		if (!keep_alive || srv.stopping) {
			beast::error_code ec;
			stream.socket().shutdown(tcp::socket::shutdown_send, ec);
			return;
		}
		wait_request();
	}
	// Sends a whole response, then goes on with the connection. head_only (a HEAD request): the headers
	// alone, with the body's length when known_length.
	void
	send(http::response<http::string_body> res, bool head_only = false, bool known_length = true)
	{
		auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
		if (srv.stopping)
			sp->keep_alive(false);
		add_headers(*sp, cors);
		sp->prepare_payload();
		if (head_only) {
			std::size_t length = sp->body().size();
			sp->body().clear();
			if (known_length)
				sp->content_length(length);
			else
				sp->erase(http::field::content_length);
		}
		stream.expires_after(write_timeout);
		http::async_write(stream, *sp, [self = shared_from_this(), sp](beast::error_code ec, std::size_t) {
			if (!ec)
				self->next(sp->keep_alive());
		});
	}

	beast::tcp_stream stream;
	beast::flat_buffer buffer;
	Server &srv;
	bool idle = false;
	gw::HeaderList cors; // the CORS headers of the current request's answers (--cors-origin)

private:
	void wait_request();
	void read_request();
	void read_body();
	void on_request(beast::error_code ec);
	void refuse(int status, const std::string &code, const std::string &message);
	void arm_read_deadline(int ms);
	void disarm_read_deadline();
	std::optional<http::request_parser<http::string_body>> parser_;
	// The deadline of reading a request's headers, then of its body: it cancels the read (the stream's own
	// timeout would close the socket, and a 408 could not be sent).
	asio::steady_timer read_deadline_;
	unsigned read_phase_ = 0; // counts armings: a deadline that fires after its read completed does nothing
	bool reading_ = false, timed_out_ = false;
};

} // namespace gw
