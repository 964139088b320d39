// The live streams of store-http: /store/events (Server-Sent Events) and /store/ws (WebSocket).
#pragma once

#include "core/live.hpp"
#include "io/session.hpp"

namespace gw {

// One /store/events stream: the newest event not yet sent (coalesced), keep-alive comments.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
public:
	Subscriber(std::shared_ptr<Session> s) : session(std::move(s)), timer(session->srv.io)
	{
		session->srv.subscribers.insert(this);
	}
	~Subscriber() { session->srv.subscribers.erase(this); }
	// Queues an event (merged into the one not yet sent); sends it when the stream is idle.
	void
	push(const LiveEvent &e)
	{
		pending = pending ? merge(*pending, e) : e;
		write_next();
	}
	// Writes the response head and the first events, then follows.
	void
	start(unsigned http_version, std::string initial)
	{
		head = http::response<http::empty_body>{http::status::ok, http_version};
		head.set(http::field::content_type, "text/event-stream");
		head.set(http::field::cache_control, "no-store");
		head.set("X-Accel-Buffering", "no");
		add_headers(head, session->cors);
		head.keep_alive(false);
		head.chunked(true);
		serializer.emplace(head);
		started = writing = true;
		out = std::move(initial);
		auto self = shared_from_this();
		session->stream.expires_never();
		http::async_write_header(session->stream, *serializer, [self](beast::error_code ec, std::size_t) {
			if (ec)
				return self->close();
			self->write_out();
		});
		watch_close();
		arm_keepalive();
	}
	// Ends the stream cleanly (shutdown): the terminating chunk once the current write is done.
	void
	end()
	{
		ending = true;
		write_next();
	}
	// Forgets the stream before it started (the request failed; its error answer goes out instead).
	void
	detach()
	{
		closed = true;
		session->srv.subscribers.erase(this);
	}
	// Drops the stream.
	void
	close()
	{
		if (closed)
			return;
		closed = true;
		timer.cancel();
		session->srv.subscribers.erase(this);
		beast::error_code ec;
		session->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
		session->stream.socket().close(ec);
	}

	std::shared_ptr<Session> session;

private:
	// Writes `out` as one chunk (with a write deadline), then what is due next.
	void
	write_out()
	{
		auto self = shared_from_this();
		session->stream.expires_after(write_timeout);
		asio::async_write(session->stream, http::make_chunk(asio::buffer(out)),
		                  [self](beast::error_code ec, std::size_t) {
			                  self->session->stream.expires_never();
			                  self->writing = false;
			                  if (ec)
				                  return self->close();
			                  self->write_next();
		                  });
	}
	// Sends the pending event, a due keep-alive, or the end.
	void
	write_next()
	{
		if (!started || writing || closed)
			return;
		if (pending) {
			out = sse_event(*pending);
			pending.reset();
		} else if (keepalive_due) {
			out = sse_comment("keep-alive");
		} else if (ending) {
			auto self = shared_from_this();
			writing = true;
			asio::async_write(session->stream, http::make_chunk_last(),
			                  [self](beast::error_code, std::size_t) { self->close(); });
			return;
		} else
			return;
		keepalive_due = false;
		writing = true;
		write_out();
	}
	// A keep-alive comment when nothing was sent for a while.
	void
	arm_keepalive()
	{
		timer.expires_after(std::chrono::milliseconds(session->srv.opt.sse_keepalive_ms));
		timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
			if (ec || self->closed)
				return;
			self->keepalive_due = true;
			self->write_next();
			self->arm_keepalive();
		});
	}
	// Clients send nothing on an event stream: any read completion (EOF) means it went away.
	void
	watch_close()
	{
		auto self = shared_from_this();
		session->stream.socket().async_read_some(asio::buffer(sink),
		                                         [self](beast::error_code, std::size_t) { self->close(); });
	}

	asio::steady_timer timer;
	std::optional<LiveEvent> pending;
	std::string out;
	char sink[256];
	bool started = false, writing = false, closed = false, ending = false, keepalive_due = false;
	http::response<http::empty_body> head;
	std::optional<http::response_serializer<http::empty_body>> serializer;
};

// One /store/ws connection: the same events as JSON text messages, pings, close 1001 on shutdown.
class WsSubscriber : public std::enable_shared_from_this<WsSubscriber> {
public:
	static constexpr std::size_t kWsReadMax = 1024; // the largest message a subscriber may send
	WsSubscriber(std::shared_ptr<Session> s) : session(std::move(s)) { session->srv.ws_subscribers.insert(this); }
	~WsSubscriber() { session->srv.ws_subscribers.erase(this); }
	// Completes the handshake, sends the first message, then follows.
	void
	start(http::request<http::string_body> req, std::string first)
	{
		ws.emplace(std::move(session->stream)); // the connection is the WebSocket's from now on
		websocket::stream_base::timeout t;
		t.handshake_timeout = std::chrono::seconds(30);
		t.idle_timeout = std::chrono::milliseconds(2 * session->srv.opt.sse_keepalive_ms);
		t.keep_alive_pings = true; // a ping after half the idle timeout; no pong in time closes
		ws->set_option(t);
		ws->read_message_max(kWsReadMax); // clients only send control frames: no 16 MB messages held
		beast::get_lowest_layer(*ws).expires_never();
		auto self = shared_from_this();
		out = std::move(first);
		ws->async_accept(req, [self](beast::error_code ec) {
			if (ec)
				return self->close();
			self->started = true;
			self->writing = true;
			self->write_out();
			self->read_loop();
		});
	}
	// Queues an event (merged into the one not yet sent).
	void
	push(const LiveEvent &e)
	{
		pending = pending ? merge(*pending, e) : e;
		write_next();
	}
	// Closes with 1001 (going away) once the current write is done.
	void
	end()
	{
		ending = true;
		write_next();
	}
	// Forgets the connection before the handshake (the request failed; its error answer goes out instead).
	void
	detach()
	{
		closed = true;
		session->srv.ws_subscribers.erase(this);
	}
	// Drops the connection.
	void
	close()
	{
		if (closed)
			return;
		closed = true;
		session->srv.ws_subscribers.erase(this);
		beast::error_code ec;
		if (ws)
			beast::get_lowest_layer(*ws).socket().close(ec);
	}

	std::shared_ptr<Session> session;

private:
	void
	write_out()
	{
		auto self = shared_from_this();
		ws->text(true);
		ws->async_write(asio::buffer(out), [self](beast::error_code ec, std::size_t) {
			self->writing = false;
			if (ec)
				return self->close();
			self->write_next();
		});
	}
	void
	write_next()
	{
		if (!started || writing || closed)
			return;
		if (pending) {
			out = event_json(*pending);
			pending.reset();
			writing = true;
			return write_out();
		}
		if (ending) {
			writing = true;
			auto self = shared_from_this();
			ws->async_close(websocket::close_code::going_away, [self](beast::error_code) { self->close(); });
		}
	}
	// Reads (and ignores) client messages; pongs and the close handshake happen inside.
	void
	read_loop()
	{
		auto self = shared_from_this();
		ws->async_read(in, [self](beast::error_code ec, std::size_t) {
			if (ec)
				return self->close();
			self->in.consume(self->in.size());
			self->read_loop();
		});
	}

	std::optional<websocket::stream<beast::tcp_stream>> ws;
	beast::flat_buffer in;
	std::optional<LiveEvent> pending;
	std::string out;
	bool started = false, writing = false, closed = false, ending = false;
};

} // namespace gw
