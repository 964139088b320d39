// store-http's sessions and request handling: reads of the store, one transaction per request.
#include "io/server.hpp"

#include "core/errors.hpp"
#include "core/etag.hpp"
#include "core/gzip.hpp"
#include "core/openapi.hpp"
#include "core/route.hpp"
#include "core/sql.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <iostream>

namespace gw {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t chunk_bytes = 64 * 1024;        // a streamed answer is written in chunks of about this size
constexpr std::size_t gzip_min_bytes = 1024;          // smaller whole answers are sent uncompressed
constexpr std::chrono::seconds write_timeout{30};     // a client that takes no data for this long is dropped
constexpr std::chrono::seconds shutdown_deadline{10}; // in-flight requests get this long after SIGTERM
const char *const json_type = "application/json; charset=utf-8";

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

private:
	void wait_request();
	void read_request();
	void on_request(beast::error_code ec);
	std::optional<http::request_parser<http::string_body>> parser_;
};

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
		                          "/store/history/?after=V, /store/changes/?after=V"));
	auth = authenticate(session->srv.auth, std::string(req[http::field::authorization]));
	if (!auth.ok)
		return fail(gateway_error(auth.status, auth.code, auth.message), auth.www_authenticate);
	gzip = accepts_gzip(std::string(req[http::field::accept_encoding]));
	session->srv.pool.acquire([self = shared_from_this()](std::shared_ptr<PgConn> c, std::string err) {
		if (!c) {
			bool exhausted = err.find("exhausted") != std::string::npos;
			return self->fail(gateway_error(503, exhausted ? "GW503" : "GW504", err,
			                                exhausted ? "retry later" : "the database is unreachable; retry later"));
		}
		self->conn = std::move(c);
		self->begin();
	});
}

// BEGIN, the request's settings, then the snapshot's version.
void
Exchange::begin()
{
	auto self = shared_from_this();
	step(sql::begin_read, {}, [self](PgOutcome &) {
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
	auto ex = std::make_shared<Exchange>(shared_from_this(), parser_->release());
	ex->handle();
}

Server::Server(asio::io_context &io, const Options &o)
    : opt(o), pool(io, o.db, o.pool_size, o.pool_timeout_ms), io(io), acceptor_(io), signals_(io, SIGTERM, SIGINT),
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
	for (Session *s : live_)
		s->close_if_idle();
	if (sessions == 0) {
		pool.close();
		return;
	}
	deadline_.expires_after(shutdown_deadline);
	deadline_.async_wait([this](boost::system::error_code e) {
		if (!e)
			io.stop();
	});
}

} // namespace gw
