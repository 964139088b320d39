// The live streams of store-http: /store/events (Server-Sent Events) and /store/ws (WebSocket).
#pragma once

#include "core/live.hpp"
#include "io/session.hpp"

#include <chrono>

namespace gw {

// What both live streams share: registration with the server, the newest event not yet sent (merged with
// the ones after it until it is written), one write at a time, and the end: cleanly on shutdown, or when
// the caller's token expires. Subclasses say how an event, an idle keep-alive and the end are written.
class LiveStream : public std::enable_shared_from_this<LiveStream> {
public:
	explicit LiveStream(std::shared_ptr<Session> s) : session(std::move(s)), expiry_(session->srv.io)
	{
		session->srv.live_streams.insert(this);
	}
	virtual ~LiveStream() { session->srv.live_streams.erase(this); }
	// Queues an event (merged into the one not yet sent); sends it when the stream is idle.
	void
	push(const LiveEvent &e)
	{
		pending_ = pending_ ? merge(*pending_, e) : e;
		write_next();
	}
	// Ends the stream cleanly (shutdown) once the current write and the event not yet sent are done.
	void
	end()
	{
		ending_ = true;
		write_next();
	}
	// Ends the stream at exp (the token's, seconds since the epoch; at once when past; none: never), without
	// the events not yet sent: the caller may no longer read them.
	void
	expire_at(std::optional<double> exp)
	{
		if (!exp)
			return;
		double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
		double left = std::max(0.0, *exp - now);
		if (left > 1e9)
			return; // beyond 30 years (and beyond what a timer holds)
		expiry_.expires_after(std::chrono::milliseconds(static_cast<long long>(left * 1000)));
		expiry_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
			if (ec || self->closed_)
				return;
			self->expired_ = true;
			self->write_next();
		});
	}
	// Forgets the stream before it started (the request failed; its error answer goes out instead).
	void
	detach()
	{
		closed_ = true;
		expiry_.cancel();
		session->srv.live_streams.erase(this);
	}
	// Drops the connection.
	void
	close()
	{
		if (closed_)
			return;
		closed_ = true;
		expiry_.cancel();
		session->srv.live_streams.erase(this);
		stop();
	}

	std::shared_ptr<Session> session;

protected:
	// Writes one event, then calls written().
	virtual void send_event(const LiveEvent &e) = 0;
	// Starts writing something when there is no event (a due keep-alive), then calls written(); false: nothing.
	virtual bool
	send_idle()
	{
		return false;
	}
	// Ends the stream (expired: because the token did), then closes.
	virtual void send_end(bool expired) = 0;
	// Cancels the stream's own timers and closes its connection.
	virtual void stop() = 0;
	// The first write is under way: from now on writes follow one another.
	void
	started()
	{
		started_ = writing_ = true;
	}
	// After a write: the next one, or the end on an error.
	void
	written(beast::error_code ec)
	{
		writing_ = false;
		if (ec)
			return close();
		write_next();
	}
	// Writes what is due: the end of an expired stream, the pending event, an idle write, or the end.
	void
	write_next()
	{
		if (!started_ || writing_ || closed_)
			return;
		writing_ = true;
		if (expired_) {
			pending_.reset();
			return send_end(true);
		}
		if (pending_) {
			LiveEvent e = std::move(*pending_);
			pending_.reset();
			return send_event(e);
		}
		if (send_idle())
			return;
		if (ending_)
			return send_end(false);
		writing_ = false;
	}
	bool
	is_closed() const
	{
		return closed_;
	}
	// This stream as its subclass (for the handlers it starts).
	template <class T>
	std::shared_ptr<T>
	self_as()
	{
		return std::static_pointer_cast<T>(shared_from_this());
	}

private:
	asio::steady_timer expiry_;
	std::optional<LiveEvent> pending_;
	bool started_ = false, writing_ = false, closed_ = false, ending_ = false, expired_ = false;
};

// One /store/events stream: events as Server-Sent Events, keep-alive comments; a token's expiry or a
// shutdown ends the stream with the terminating chunk.
class Subscriber : public LiveStream {
public:
	explicit Subscriber(std::shared_ptr<Session> s) : LiveStream(std::move(s)), timer(session->srv.io) {}
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
		started();
		out = std::move(initial);
		auto self = self_as<Subscriber>();
		session->stream.expires_never();
		http::async_write_header(session->stream, *serializer, [self](beast::error_code ec, std::size_t) {
			if (ec)
				return self->close();
			self->write_out();
		});
		watch_close();
		arm_keepalive();
	}

private:
	void
	send_event(const LiveEvent &e) override
	{
		out = sse_event(e);
		write_out();
	}
	bool
	send_idle() override
	{
		if (!keepalive_due)
			return false;
		keepalive_due = false;
		out = sse_comment("keep-alive");
		write_out();
		return true;
	}
	void
	send_end(bool) override
	{
		session->stream.expires_after(write_timeout);
		asio::async_write(session->stream, http::make_chunk_last(),
		                  [self = self_as<Subscriber>()](beast::error_code, std::size_t) { self->close(); });
	}
	void
	stop() override
	{
		timer.cancel();
		beast::error_code ec;
		session->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
		session->stream.socket().close(ec);
	}
	// Writes `out` as one chunk (with a write deadline), then what is due next.
	void
	write_out()
	{
		session->stream.expires_after(write_timeout);
		asio::async_write(session->stream, http::make_chunk(asio::buffer(out)),
		                  [self = self_as<Subscriber>()](beast::error_code ec, std::size_t) {
			                  self->session->stream.expires_never();
			                  self->written(ec);
		                  });
	}
	// A keep-alive comment when nothing was sent for a while.
	void
	arm_keepalive()
	{
		timer.expires_after(std::chrono::milliseconds(session->srv.opt.sse_keepalive_ms));
		timer.async_wait([self = self_as<Subscriber>()](boost::system::error_code ec) {
			if (ec || self->is_closed())
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
		session->stream.socket().async_read_some(
		    asio::buffer(sink), [self = self_as<Subscriber>()](beast::error_code, std::size_t) { self->close(); });
	}

	asio::steady_timer timer;
	std::string out;
	char sink[256];
	bool keepalive_due = false;
	http::response<http::empty_body> head;
	std::optional<http::response_serializer<http::empty_body>> serializer;
};

// One /store/ws connection: the same events as JSON text messages, pings; closes with 1001 (going away)
// on shutdown and 1008 (policy violation, reason "token expired") when the caller's token expires.
class WsSubscriber : public LiveStream {
public:
	static constexpr std::size_t kWsReadMax = 1024;         // the largest message a subscriber may send
	static constexpr std::chrono::seconds kCloseTimeout{5}; // a client that never answers a close frame
	explicit WsSubscriber(std::shared_ptr<Session> s) : LiveStream(std::move(s)) {}
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
		auto self = self_as<WsSubscriber>();
		out = std::move(first);
		ws->async_accept(req, [self](beast::error_code ec) {
			if (ec)
				return self->close();
			self->started();
			self->write_out();
			self->read_loop();
		});
	}

private:
	void
	send_event(const LiveEvent &e) override
	{
		out = event_json(e);
		write_out();
	}
	// The close handshake, bounded by kCloseTimeout (Beast's handshake timeout also times closes).
	void
	send_end(bool expired) override
	{
		websocket::stream_base::timeout t;
		t.handshake_timeout = kCloseTimeout;
		t.idle_timeout = std::chrono::milliseconds(2 * session->srv.opt.sse_keepalive_ms);
		t.keep_alive_pings = true;
		ws->set_option(t);
		websocket::close_reason why =
		    expired ? websocket::close_reason(websocket::close_code::policy_error, "token expired")
		            : websocket::close_reason(websocket::close_code::going_away);
		ws->async_close(why, [self = self_as<WsSubscriber>()](beast::error_code) { self->close(); });
	}
	void
	stop() override
	{
		beast::error_code ec;
		if (ws)
			beast::get_lowest_layer(*ws).socket().close(ec);
	}
	void
	write_out()
	{
		ws->text(true);
		ws->async_write(asio::buffer(out),
		                [self = self_as<WsSubscriber>()](beast::error_code ec, std::size_t) { self->written(ec); });
	}
	// Reads (and ignores) client messages; pongs and the close handshake happen inside.
	void
	read_loop()
	{
		ws->async_read(in, [self = self_as<WsSubscriber>()](beast::error_code ec, std::size_t) {
			if (ec)
				return self->close();
			self->in.consume(self->in.size());
			self->read_loop();
		});
	}

	std::optional<websocket::stream<beast::tcp_stream>> ws;
	beast::flat_buffer in;
	std::string out;
};

} // namespace gw
