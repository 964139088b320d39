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

void
Session::read_request()
{
	idle = false;
	cors = {};
	parser_.emplace();
	parser_->header_limit(std::uint32_t(srv.opt.max_header));
	parser_->body_limit(srv.opt.max_body);
	stream.expires_after(std::chrono::milliseconds(srv.opt.header_timeout_ms));
	http::async_read(stream, buffer, *parser_,
	                 [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
}

void
Session::on_request(beast::error_code ec)
{
	if (ec == http::error::header_limit)
		return send(error_response(gateway_error(431, "GW431", "request header fields too large"), 11, false));
	if (ec == http::error::body_limit)
		return send(error_response(gateway_error(413, "GW413", "request body too large"), 11, false));
	if (ec == http::error::end_of_stream || ec)
		return; // closed, timed out, or malformed: drop the connection
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
