// store-http's sessions and request handling: reads of the store, one transaction per request.
#include "io/server.hpp"

#include "core/cors.hpp"
#include "core/errors.hpp"
#include "core/etag.hpp"
#include "core/gzip.hpp"
#include "core/live.hpp"
#include "core/openapi.hpp"
#include "core/route.hpp"
#include "core/sql.hpp"
#include "core/writes.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdlib>
#include <iostream>

namespace gw {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t chunk_bytes = 64 * 1024;        // a streamed answer is written in chunks of about this size
constexpr std::size_t gzip_min_bytes = 1024;          // smaller whole answers are sent uncompressed
constexpr std::chrono::seconds write_timeout{30};     // a client that takes no data for this long is dropped
constexpr std::chrono::seconds shutdown_deadline{10}; // in-flight requests get this long after SIGTERM
const char *const json_type = "application/json; charset=utf-8";

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

} // namespace

// One client connection: reads requests one after the other and answers each.
class Session : public std::enable_shared_from_this<Session> {
public:
	Session(tcp::socket s, Server &srv) : stream(std::move(s)), srv(srv) { srv.session_started(this); }
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
	// Sends a whole response, then goes on with the connection.
	void
	send(http::response<http::string_body> res)
	{
		auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
		if (srv.stopping)
			sp->keep_alive(false);
		add_headers(*sp, cors);
		sp->prepare_payload();
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
	void on_request(beast::error_code ec);
	std::optional<http::request_parser<http::string_body>> parser_;
};

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

void
Server::broadcast(const LiveEvent &e)
{
	std::vector<std::shared_ptr<Subscriber>> all;
	for (Subscriber *s : subscribers)
		all.push_back(s->shared_from_this());
	for (auto &s : all)
		s->push(e);
	std::vector<std::shared_ptr<WsSubscriber>> ws_all;
	for (WsSubscriber *w : ws_subscribers)
		ws_all.push_back(w->shared_from_this());
	for (auto &w : ws_all)
		w->push(e);
}

namespace {

// An error response with the JSON body and the headers its status needs.
http::response<http::string_body>
error_response(const HttpError &e, unsigned version, bool keep_alive, const std::string &www_authenticate = "")
{
	http::response<http::string_body> res{static_cast<http::status>(e.status), version};
	res.set(http::field::content_type, json_type);
	res.set(http::field::cache_control, "no-store");
	if (e.status == 503)
		res.set(http::field::retry_after, e.code == "GW503" ? "1" : "5");
	if (!www_authenticate.empty())
		res.set(http::field::www_authenticate, www_authenticate);
	res.keep_alive(keep_alive);
	res.body() = error_body(e);
	return res;
}

// One request being answered: its route, caller, database connection and (for streams) writer state.
class Exchange : public std::enable_shared_from_this<Exchange> {
public:
	Exchange(std::shared_ptr<Session> s, http::request<http::string_body> r) : session(std::move(s)), req(std::move(r))
	{
	}
	void handle();

private:
	// Sends an error; a connection in a transaction is rolled back first.
	void fail(const HttpError &e, const std::string &www = "");
	void
	fail_db(const PgOutcome &o)
	{
		fail(from_database(o.sqlstate, o.message, o.detail, o.hint, auth.anonymous));
	}
	// Runs the statement, then `next` on success or answers the error.
	void step(const std::string &sql, std::vector<std::optional<std::string>> params,
	          std::function<void(PgOutcome &)> next);
	void begin();
	void acquire();
	void open(const char *begin_sql, std::function<void()> next);
	bool retried = false;
	void after_version(PgOutcome &o);
	void read_whole();
	void start_stream();
	void pull();
	void flush();
	void write_chunk(std::string data, bool last);
	void end_stream();
	void abort_stream();
	void finish_whole(std::string body, const std::string &version);
	void not_modified();
	void release();
	void events_initial();
	void write();
	void write_applied(std::string answer);
	void write_respond(int status, std::string body, const std::string &location);
	bool
	is_write() const
	{
		return route.kind == RouteKind::ChangeSet || route.kind == RouteKind::Create ||
		       route.kind == RouteKind::Replace || route.kind == RouteKind::Update || route.kind == RouteKind::Delete;
	}
	void events_start(std::optional<LiveEvent> first);
	// Headers every successful read carries.
	template <class Res> void read_headers(Res &res, const std::string &version);
	std::string
	q(const char *text) const
	{
		return sql::with_schema(text, conn->schema);
	}

	std::shared_ptr<Session> session;
	http::request<http::string_body> req;
	Route route;
	AuthResult auth;
	std::shared_ptr<PgConn> conn;
	bool gzip = false;
	std::string etag, snapshot_version, body_version;
	// Streaming state.
	std::string pending, out;
	bool header_sent = false, done = false, first_row = true, any_row = false;
	std::unique_ptr<GzipStream> gz;
	std::optional<PgOutcome> stream_error;
	http::response<http::empty_body> head;
	std::optional<http::response_serializer<http::empty_body>> serializer;
	std::shared_ptr<Subscriber> sub;
	std::shared_ptr<WsSubscriber> ws;
	WriteKind write_kind = WriteKind::ChangeSet;
	WritePlan plan;
};

void
Exchange::release()
{
	if (conn)
		session->srv.pool.release(std::move(conn));
	conn.reset();
}

void
Exchange::fail(const HttpError &e, const std::string &www)
{
	if (sub) {
		sub->detach();
		sub.reset();
	}
	if (ws) {
		ws->detach();
		ws.reset();
	}
	auto res = error_response(e, req.version(), req.keep_alive(), www);
	if (!etag.empty())
		res.set(http::field::vary, "Accept-Encoding, Authorization");
	if (conn && conn->reusable() == false && PQstatus(conn->raw()) == CONNECTION_OK &&
	    PQtransactionStatus(conn->raw()) != PQTRANS_ACTIVE) {
		auto self = shared_from_this();
		conn->run(sql::rollback, {}, [self, res = std::move(res)](PgOutcome) mutable {
			self->release();
			self->session->send(std::move(res));
		});
		return;
	}
	release();
	session->send(std::move(res));
}

void
Exchange::step(const std::string &text, std::vector<std::optional<std::string>> params,
               std::function<void(PgOutcome &)> next)
{
	conn->run(text, params, [self = shared_from_this(), next](PgOutcome o) {
		if (!o.ok)
			self->fail_db(o);
		else
			next(o);
	});
}

void
Exchange::handle()
{
	route = gw::route(std::string(req.method_string()), std::string(req.target()));
	if (route.kind == RouteKind::BadRequest)
		return fail(gateway_error(400, "GW400", route.error));
	if (!route.allow.empty()) {
		auto res =
		    error_response(gateway_error(405, "GW405", "method not allowed here"), req.version(), req.keep_alive());
		res.set(http::field::allow, route.allow);
		return session->send(std::move(res));
	}
	if (route.kind == RouteKind::NotFound)
		return fail(gateway_error(404, "GW404", "no such route",
		                          "routes: /store/, /store/<key>/, /store/<key>/<id>/, "
		                          "/store/history/?after=V, /store/changes/?after=V, /store/events, /store/ws, "
		                          "/openapi.json"));
	std::string authorization(req[http::field::authorization]);
	if (authorization.empty() && !route.access_token.empty())
		authorization = "Bearer " + route.access_token; // live routes only (EventSource and WebSocket set no headers)
	auth = authenticate(session->srv.auth, authorization);
	if (!auth.ok)
		return fail(gateway_error(auth.status, auth.code, auth.message), auth.www_authenticate);
	gzip = accepts_gzip(std::string(req[http::field::accept_encoding]));
	if (is_write()) {
		write_kind = route.kind == RouteKind::Create    ? WriteKind::Create
		             : route.kind == RouteKind::Replace ? WriteKind::Replace
		             : route.kind == RouteKind::Update  ? WriteKind::Update
		             : route.kind == RouteKind::Delete  ? WriteKind::Delete
		                                                : WriteKind::ChangeSet;
		plan = plan_write(write_kind, route.key, route.id, req.body());
		if (!plan.ok)
			return fail(gateway_error(400, "GW400", plan.error));
	}
	if (route.kind == RouteKind::Events || route.kind == RouteKind::Ws) {
		Server &srv = session->srv;
		if (int(srv.subscribers.size() + srv.ws_subscribers.size()) >= srv.opt.max_subscribers)
			return fail(gateway_error(503, "GW503", "too many event streams", "retry later"));
		if (route.kind == RouteKind::Ws && !websocket::is_upgrade(req))
			return fail(gateway_error(400, "GW400", "expected a WebSocket upgrade request"));
		// Registered before the snapshot is taken: no commit falls between.
		if (route.kind == RouteKind::Ws)
			ws = std::make_shared<WsSubscriber>(session);
		else
			sub = std::make_shared<Subscriber>(session);
	}
	acquire();
}

// Takes a pool connection and starts the request's transaction.
void
Exchange::acquire()
{
	session->srv.pool.acquire([self = shared_from_this()](std::shared_ptr<PgConn> c, std::string err) {
		if (!c) {
			bool exhausted = err.find("exhausted") != std::string::npos;
			return self->fail(gateway_error(503, exhausted ? "GW503" : "GW504", err,
			                                exhausted ? "retry later" : "the database is unreachable; retry later"));
		}
		self->conn = std::move(c);
		if (self->is_write())
			return self->write();
		self->begin();
	});
}

// Runs BEGIN; an idle pool connection found dead (the server restarted, the backend was terminated) is
// replaced once, since nothing of the request ran yet.
void
Exchange::open(const char *begin_sql, std::function<void()> next)
{
	auto self = shared_from_this();
	conn->run(begin_sql, {}, [self, begin_sql, next](PgOutcome o) {
		if (o.ok)
			return next();
		if (!self->retried && PQstatus(self->conn->raw()) == CONNECTION_BAD) {
			self->retried = true;
			self->release();
			self->session->srv.pool.drop_idle();
			return self->acquire();
		}
		self->fail_db(o);
	});
}

// BEGIN, the request's settings, then the snapshot's version.
void
Exchange::begin()
{
	auto self = shared_from_this();
	open(sql::begin_read, [self]() {
		std::string path(self->req.target().substr(0, self->req.target().find('?')));
		self->step(sql::set_request,
		           {self->auth.role, self->auth.claims_json, std::string(self->req.method_string()), path},
		           [self](PgOutcome &) {
			           self->step(self->q(sql::version), {}, [self](PgOutcome &o) { self->after_version(o); });
		           });
	});
}

// With the version known: 304 when the client has it, else the read itself.
void
Exchange::after_version(PgOutcome &o)
{
	snapshot_version = PQgetvalue(o.result.get(), 0, 0);
	if (route.kind == RouteKind::Events || route.kind == RouteKind::Ws)
		return events_initial();
	etag = make_etag(snapshot_version, visibility_fingerprint(auth.role, auth.claims_json));
	auto inm = req[http::field::if_none_match];
	if (!inm.empty() && if_none_match(std::string(inm), etag))
		return not_modified();
	if (route.kind == RouteKind::Snapshot || route.kind == RouteKind::History)
		start_stream();
	else
		read_whole();
}

template <class Res>
void
Exchange::read_headers(Res &res, const std::string &version)
{
	res.set(http::field::etag, etag);
	res.set(http::field::vary, "Accept-Encoding, Authorization");
	res.set(http::field::cache_control, "no-cache");
	res.set("X-Store-Version", version);
}

void
Exchange::not_modified()
{
	auto self = shared_from_this();
	conn->run(sql::commit, {}, [self](PgOutcome o) {
		if (!o.ok)
			return self->fail_db(o);
		self->release();
		http::response<http::string_body> res{http::status::not_modified, self->req.version()};
		self->read_headers(res, self->snapshot_version);
		res.keep_alive(self->req.keep_alive());
		self->session->send(std::move(res));
	});
}

// The start of an event stream: an event at once when changes exist after the resume point, else the
// current version as the stream's first id.
void
Exchange::events_initial()
{
	auto self = shared_from_this();
	auto resume = resume_point(std::string(req["Last-Event-ID"]), route.after);
	if (!resume) {
		conn->run(sql::commit, {}, [self](PgOutcome c) {
			if (!c.ok)
				return self->fail_db(c);
			self->events_start(std::nullopt);
		});
		return;
	}
	step(q(sql::events_since), {*resume}, [self](PgOutcome &o) {
		std::optional<LiveEvent> first;
		PGresult *r = o.result.get();
		if (PQntuples(r) > 0) {
			LiveEvent e = parse_notification(std::string("{\"keys\":") +
			                                 (PQgetisnull(r, 0, 1) ? "[]" : PQgetvalue(r, 0, 1)) + "}");
			e.version = PQgetvalue(r, 0, 0);
			e.all_keys = e.all_keys || std::string(PQgetvalue(r, 0, 2)) == "t";
			first = e;
		}
		self->conn->run(sql::commit, {}, [self, first](PgOutcome c) {
			if (!c.ok)
				return self->fail_db(c);
			self->events_start(first);
		});
	});
}

// Hands the connection over to the subscriber, with the first event (or, without one, the current version).
void
Exchange::events_start(std::optional<LiveEvent> first)
{
	release();
	if (route.kind == RouteKind::Ws) {
		auto w = std::move(ws);
		LiveEvent now{snapshot_version, {}, false};
		return w->start(std::move(req), event_json(first ? *first : now));
	}
	auto s = std::move(sub);
	s->start(req.version(), sse_retry(2000) + (first ? sse_event(*first) : sse_id_only(snapshot_version)));
}

// A write: store_apply as the caller, in one transaction.
void
Exchange::write()
{
	auto self = shared_from_this();
	open(sql::begin_write, [self]() {
		std::string path(self->req.target().substr(0, self->req.target().find('?')));
		self->step(sql::set_request,
		           {self->auth.role, self->auth.claims_json, std::string(self->req.method_string()), path},
		           [self](PgOutcome &) {
			           self->step(self->q(sql::apply), {self->plan.changeset},
			                      [self](PgOutcome &o) { self->write_applied(PQgetvalue(o.result.get(), 0, 0)); });
		           });
	});
}

// Commits what store_apply did (a conflict or a missing row wrote nothing) and answers.
void
Exchange::write_applied(std::string answer)
{
	auto self = shared_from_this();
	WriteOutcome w = read_apply_answer(write_kind, plan, answer, route.key);
	conn->run(sql::commit, {}, [self, w, answer](PgOutcome c) {
		if (!c.ok)
			return self->fail_db(c);
		if (w.status == 404)
			return self->fail(gateway_error(404, "GW404", "no row with this id that you may change"));
		if (w.status == 409 || self->write_kind == WriteKind::ChangeSet)
			return self->write_respond(w.status, answer, "");
		std::string location = w.id_text.empty() ? "" : document_location(self->route.key, w.id_text);
		self->write_respond(w.status, w.status == 204 ? "" : w.document, location);
	});
}

// Reads the version after the commit (as the authenticator: the request's role ended with it) and answers.
void
Exchange::write_respond(int status, std::string body, const std::string &location)
{
	auto self = shared_from_this();
	conn->run(q(sql::version), {}, [self, status, body, location](PgOutcome v) {
		std::string version = v.ok ? PQgetvalue(v.result.get(), 0, 0) : "";
		self->release();
		http::response<http::string_body> res{static_cast<http::status>(status), self->req.version()};
		if (!body.empty())
			res.set(http::field::content_type, json_type);
		res.set(http::field::cache_control, "no-store");
		if (!version.empty())
			res.set("X-Store-Version", version);
		if (!location.empty() && status == 201)
			res.set(http::field::location, location);
		res.body() = body;
		res.keep_alive(self->req.keep_alive());
		self->session->send(std::move(res));
	});
}

// The answers read as one value: a key's snapshot, one document, a page of changes.
void
Exchange::read_whole()
{
	std::string text;
	std::vector<std::optional<std::string>> params;
	if (route.kind == RouteKind::KeySnapshot) {
		text = q(sql::key_snapshot);
		params = {route.key};
	} else if (route.kind == RouteKind::Get) {
		text = q(sql::get);
		params = {route.key, route.id};
	} else if (route.kind == RouteKind::OpenApi) {
		text = q(sql::describe);
	} else {
		text = q(route.max_changes.empty() ? sql::changes : sql::changes_paged);
		params = {route.after};
		if (!route.max_changes.empty())
			params.push_back(route.max_changes);
	}
	auto self = shared_from_this();
	step(text, params, [self](PgOutcome &o) {
		PGresult *r = o.result.get();
		bool null = PQntuples(r) != 1 || PQgetisnull(r, 0, 0);
		std::string body = null ? "" : PQgetvalue(r, 0, 0);
		if (self->route.kind == RouteKind::OpenApi)
			body = openapi_document(body);
		std::string version = PQnfields(r) > 1 && !null ? PQgetvalue(r, 0, 1) : self->snapshot_version;
		self->conn->run(sql::commit, {}, [self, body = std::move(body), version, null](PgOutcome c) mutable {
			if (!c.ok)
				return self->fail_db(c);
			if (null)
				return self->fail(gateway_error(404, "GW404", "no document with this id in this key"));
			self->finish_whole(std::move(body), version);
		});
	});
}

void
Exchange::finish_whole(std::string body, const std::string &version)
{
	release();
	http::response<http::string_body> res{http::status::ok, req.version()};
	res.set(http::field::content_type, json_type);
	read_headers(res, version);
	if (gzip && body.size() >= gzip_min_bytes) {
		GzipStream z;
		std::string zipped = z.piece(body);
		zipped += z.finish(); // after piece(): the operands of + are unsequenced
		body = std::move(zipped);
		res.set(http::field::content_encoding, "gzip");
	}
	res.body() = std::move(body);
	res.keep_alive(req.keep_alive());
	session->send(std::move(res));
}

// The streamed answers (the whole store, the history): rows in single-row mode, written in chunks.
void
Exchange::start_stream()
{
	bool history = route.kind == RouteKind::History;
	std::vector<std::optional<std::string>> params;
	if (history)
		params = {route.after};
	if (!conn->send(q(history ? sql::history : sql::snapshot_rows), params, true))
		return fail_db(outcome_of(conn->raw(), PgResult(nullptr, PQclear)));
	if (gzip)
		gz = std::make_unique<GzipStream>();
	if (history)
		pending = "[";
	pull();
}

// Takes the rows libpq has, until a chunk is full or the statement ends; waits for more otherwise.
void
Exchange::pull()
{
	bool history = route.kind == RouteKind::History;
	while (conn->ready()) {
		PgResult r = conn->take();
		if (!r) {
			done = true;
			if (history)
				pending += "]";
			return flush();
		}
		ExecStatusType st = PQresultStatus(r.get());
		if (st == PGRES_SINGLE_TUPLE) {
			if (history) {
				if (!any_row)
					body_version = PQgetvalue(r.get(), 0, 1);
				pending += any_row ? "," : "";
			}
			any_row = true;
			pending.append(PQgetvalue(r.get(), 0, 0), PQgetlength(r.get(), 0, 0));
			if (pending.size() >= chunk_bytes)
				return flush();
		} else if (st != PGRES_TUPLES_OK && !stream_error)
			stream_error = outcome_of(conn->raw(), std::move(r));
	}
	conn->wait([self = shared_from_this()](bool ok) {
		if (!ok) {
			self->stream_error = outcome_of(self->conn->raw(), PgResult(nullptr, PQclear));
			self->done = true;
			return self->flush();
		}
		self->pull();
	});
}

// Sends what was read: the header first (now that the first rows succeeded), then a chunk.
void
Exchange::flush()
{
	if (stream_error) {
		if (!header_sent)
			return fail_db(*stream_error);
		return abort_stream();
	}
	std::string data = std::move(pending);
	pending.clear();
	if (gz)
		data = gz->piece(data);
	if (header_sent)
		return write_chunk(std::move(data), done);
	head = http::response<http::empty_body>{http::status::ok, req.version()};
	head.set(http::field::content_type, json_type);
	std::string version = snapshot_version;
	if (route.kind == RouteKind::History)
		version = any_row ? body_version : route.after;
	read_headers(head, version);
	if (gz)
		head.set(http::field::content_encoding, "gzip");
	add_headers(head, session->cors);
	head.keep_alive(req.keep_alive() && !session->srv.stopping);
	head.chunked(true);
	serializer.emplace(head);
	header_sent = true;
	session->stream.expires_after(write_timeout);
	http::async_write_header(session->stream, *serializer,
	                         [self = shared_from_this(), data = std::move(data)](beast::error_code ec, std::size_t) {
		                         if (ec)
			                         return self->abort_stream();
		                         self->write_chunk(std::move(data), self->done);
	                         });
}

// Writes one chunk; the last one ends the transaction and the body.
void
Exchange::write_chunk(std::string data, bool last)
{
	out = std::move(data);
	if (last) {
		if (gz)
			out += gz->finish();
		return end_stream();
	}
	session->stream.expires_after(write_timeout);
	asio::async_write(session->stream, http::make_chunk(asio::buffer(out)),
	                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
		                  if (ec)
			                  return self->abort_stream();
		                  self->pull();
	                  });
}

// Commits, then writes the last data and the terminating chunk, and goes on with the connection.
void
Exchange::end_stream()
{
	auto self = shared_from_this();
	conn->run(sql::commit, {}, [self](PgOutcome o) {
		if (!o.ok)
			return self->abort_stream();
		self->release();
		auto last = [self](beast::error_code ec, std::size_t) {
			if (ec)
				return self->abort_stream();
			asio::async_write(self->session->stream, http::make_chunk_last(),
			                  [self](beast::error_code ec2, std::size_t) {
				                  if (!ec2)
					                  self->session->next(self->head.keep_alive());
			                  });
		};
		self->session->stream.expires_after(write_timeout);
		if (self->out.empty())
			return last({}, 0);
		asio::async_write(self->session->stream, http::make_chunk(asio::buffer(self->out)), last);
	});
}

void
Exchange::abort_stream()
{
	release(); // mid-statement: not reusable, the pool closes it
	beast::error_code ec;
	session->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
	session->stream.socket().close(ec);
}

} // namespace

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

Server::Server(asio::io_context &io, const Options &o)
    : opt(o), pool(io, o.db, o.pool_size, o.pool_timeout_ms), io(io),
      listener(io, o.db, [this](const LiveEvent &e) { broadcast(e); }), acceptor_(io), signals_(io, SIGTERM, SIGINT),
      deadline_(io)
{
	auth.secret = o.jwt_secret;
	auth.public_key = o.jwt_public_key;
	auth.role_claim = o.jwt_role_claim;
	auth.audience = o.jwt_audience;
	auth.anon_role = o.anon_role;
}

std::string
Server::listen()
{
	try {
		tcp::resolver resolver(io);
		auto ep = *resolver.resolve(opt.listen_host, opt.listen_port).begin();
		acceptor_.open(ep.endpoint().protocol());
		acceptor_.set_option(asio::socket_base::reuse_address(true));
		acceptor_.bind(ep.endpoint());
		acceptor_.listen(asio::socket_base::max_listen_connections);
	} catch (const std::exception &e) {
		return std::string("cannot listen on ") + opt.listen_host + ":" + opt.listen_port + ": " + e.what();
	}
	return "";
}

void
Server::start()
{
	signals_.async_wait([this](boost::system::error_code ec, int) {
		if (!ec)
			shutdown();
	});
	listener.start();
	accept();
}

void
Server::accept()
{
	if (stopping)
		return;
	if (sessions >= opt.max_connections) {
		accept_paused_ = true;
		return;
	}
	acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
		if (stopping)
			return;
		if (!ec) {
			s.set_option(tcp::no_delay(true), ec);
			sessions++;
			std::make_shared<Session>(std::move(s), *this)->start();
		}
		accept();
	});
}

void
Server::session_ended(Session *s)
{
	live_.erase(s);
	sessions--;
	if (accept_paused_ && !stopping) {
		accept_paused_ = false;
		accept();
	}
	if (stopping && sessions == 0) {
		deadline_.cancel();
		pool.close();
	}
}

void
Server::shutdown()
{
	if (stopping)
		return;
	stopping = true;
	boost::system::error_code ec;
	acceptor_.close(ec);
	signals_.cancel();
	listener.stop();
	std::vector<std::shared_ptr<Subscriber>> subs;
	for (Subscriber *s : subscribers)
		subs.push_back(s->shared_from_this());
	for (auto &s : subs)
		s->end();
	std::vector<std::shared_ptr<WsSubscriber>> ws_subs;
	for (WsSubscriber *w : ws_subscribers)
		ws_subs.push_back(w->shared_from_this());
	for (auto &w : ws_subs)
		w->end();
	for (Session *s : live_)
		s->close_if_idle();
	if (sessions == 0) {
		pool.close();
		return;
	}
	// Past the deadline the connections still open (a slow reader, a WebSocket client that never
	// answers the close frame) are cut by exiting at once: stopping the io_context instead left
	// handlers whose destructors ran after the Server's (a crash, not exit 0).
	deadline_.expires_after(shutdown_deadline);
	deadline_.async_wait([this](boost::system::error_code e) {
		if (e)
			return;
		std::cerr << "store-http: shutdown deadline passed, " << sessions << " connection(s) cut" << std::endl;
		std::_Exit(0);
	});
}

} // namespace gw
