// A session's request loop: idle wait, header and body read with limits, CORS preflight, then an Exchange.
#include "io/session.hpp"

#include "io/exchange.hpp"

namespace gw {

void
Session::wait_request()
{
	idle = true;
	if (srv.stopping)
		return next(false);
	if (buffer.size() > 0)
		return read_request();
	stream.expires_after(std::chrono::milliseconds(srv.opt.idle_timeout_ms));
	stream.async_read_some(buffer.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
		if (ec)
			return; // idle timeout, closed by the client, or shutdown
		self->buffer.commit(n);
		self->read_request();
	});
}

// Reads a request's headers within --header-timeout, then its body (if any) within --body-timeout.
void
Session::read_request()
{
	idle = false;
	cors = {};
	parser_.emplace();
	parser_->header_limit(std::uint32_t(srv.opt.max_header));
	parser_->body_limit(srv.opt.max_body);
	stream.expires_never();
	arm_read_deadline(srv.opt.header_timeout_ms);
	http::async_read_header(stream, buffer, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
		if (ec || self->parser_->is_done())
			return self->on_request(ec);
		self->read_body();
	});
}

// The body, with its own (longer) deadline: a large body on a slow link is not a slow header.
void
Session::read_body()
{
	arm_read_deadline(srv.opt.body_timeout_ms);
	http::async_read(stream, buffer, *parser_,
	                 [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
}

void
Session::arm_read_deadline(int ms)
{
	unsigned phase = ++read_phase_;
	reading_ = true;
	timed_out_ = false;
	read_deadline_.expires_after(std::chrono::milliseconds(ms));
	read_deadline_.async_wait([self = shared_from_this(), phase](boost::system::error_code ec) {
		if (ec || phase != self->read_phase_ || !self->reading_)
			return;
		self->timed_out_ = true;
		beast::error_code ignored;
		self->stream.socket().cancel(ignored);
	});
}

void
Session::disarm_read_deadline()
{
	reading_ = false;
	read_deadline_.cancel();
}

// An error answer to a request that could not be read, then the connection closes.
void
Session::refuse(int status, const std::string &code, const std::string &message)
{
	send(error_response(gateway_error(status, code, message), 11, false));
}

void
Session::on_request(beast::error_code ec)
{
	disarm_read_deadline();
	if (ec == http::error::header_limit)
		return refuse(431, "GW431", "request header fields too large");
	if (ec == http::error::body_limit)
		return refuse(413, "GW413", "request body too large");
	if (timed_out_) // something was received (the idle wait got it): say why the connection ends
		return refuse(408, "GW408",
		              parser_->is_header_done() ? "the request body did not arrive in time (--body-timeout)"
		                                        : "the request headers did not arrive in time (--header-timeout)");
	if (ec && ec.category() == beast::http::make_error_code(http::error::bad_target).category() &&
	    ec != http::error::end_of_stream && ec != http::error::partial_message)
		return refuse(400, "GW400", "malformed request: " + ec.message());
	if (ec)
		return; // closed by the client (before or in the middle of a request), or shutdown
	stream.expires_never();
	auto &req = parser_->get();
	std::string origin(req[http::field::origin]);
	std::string request_method(req["Access-Control-Request-Method"]);
	if (is_preflight(srv.opt.cors_origin, std::string(req.method_string()), origin, request_method)) {
		cors = {};
		http::response<http::string_body> res{http::status::no_content, req.version()};
		add_headers(res, preflight_headers(srv.opt.cors_origin, origin));
		res.keep_alive(req.keep_alive());
		return send(std::move(res));
	}
	cors = cors_headers(srv.opt.cors_origin, origin);
	auto ex = std::make_shared<Exchange>(shared_from_this(), parser_->release());
	ex->handle();
}

} // namespace gw
