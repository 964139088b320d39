// store-http's request handling: one transaction per request, as the caller's role.
#include "io/exchange.hpp"

#include "core/etag.hpp"
#include "core/openapi.hpp"

#include <array>

namespace gw {

void
Exchange::release()
{
	if (conn)
		session->srv.pool.release(std::move(conn));
	conn.reset();
}

void
Exchange::fail(const HttpError &e)
{
	if (sub) {
		sub->detach();
		sub.reset();
	}
	if (ws) {
		ws->detach();
		ws.reset();
	}
	auto res = error_response(e, req.version(), req.keep_alive());
	if (!etag.empty())
		res.set(http::field::vary, "Accept-Encoding, Authorization");
	if (!snapshot_version.empty())
		res.set("X-Store-Version", snapshot_version);
	if (conn && conn->reusable() == false && PQstatus(conn->raw()) == CONNECTION_OK &&
	    PQtransactionStatus(conn->raw()) != PQTRANS_ACTIVE) {
		auto self = shared_from_this();
		conn->run(sql::rollback, {}, [self, res = std::move(res)](PgOutcome) mutable {
			self->release();
			self->respond(std::move(res));
		});
		return;
	}
	release();
	respond(std::move(res));
}

void
Exchange::respond(http::response<http::string_body> res)
{
	session->send(std::move(res), head_only);
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
	head_only = req.method() == http::verb::head;
	route = gw::route(head_only ? "GET" : std::string(req.method_string()), std::string(req.target()));
	if (head_only && (route.kind == RouteKind::Events || route.kind == RouteKind::Ws)) {
		route.kind = RouteKind::NotFound;
		route.allow = "GET";
	}
	if (route.kind == RouteKind::BadRequest)
		return fail(gateway_error(400, "GW400", route.error));
	if (!route.allow.empty()) {
		auto res =
		    error_response(gateway_error(405, "GW405", "method not allowed here"), req.version(), req.keep_alive());
		res.set(http::field::allow, route.allow);
		return respond(std::move(res));
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
	if (!auth.ok) {
		HttpError e = gateway_error(auth.status, auth.code, auth.message);
		e.www_authenticate = auth.www_authenticate;
		return fail(e);
	}
	gzip = accepts_gzip(std::string(req[http::field::accept_encoding]));
	if (is_write()) {
		write_kind = route.kind == RouteKind::Create    ? WriteKind::Create
		             : route.kind == RouteKind::Replace ? WriteKind::Replace
		             : route.kind == RouteKind::Update  ? WriteKind::Update
		             : route.kind == RouteKind::Delete  ? WriteKind::Delete
		                                                : WriteKind::ChangeSet;
		std::string why = unsupported_body(std::string(req[http::field::content_type]),
		                                   std::string(req[http::field::content_encoding]), !req.body().empty());
		if (!why.empty()) {
			auto res = error_response(gateway_error(415, "GW415", why, "send the body as application/json, unencoded"),
			                          req.version(), req.keep_alive());
			res.set(http::field::accept_encoding, "identity"); // RFC 7694
			return respond(std::move(res));
		}
		plan = plan_write(write_kind, route.key, route.id, req.body());
		if (!plan.ok)
			return fail(gateway_error(400, "GW400", plan.error));
	}
	if (route.kind == RouteKind::Events || route.kind == RouteKind::Ws) {
		Server &srv = session->srv;
		// Browsers apply no CORS to WebSockets: a page on any origin could open one with its user's token.
		std::string origin(req[http::field::origin]);
		if (route.kind == RouteKind::Ws && !srv.opt.cors_origin.empty() && !origin.empty() &&
		    !origin_allowed(srv.opt.cors_origin, origin))
			return fail(gateway_error(403, "GW403", "WebSocket connections from origin \"" + origin + "\" are refused",
			                          "the page's origin must be one of --cors-origin"));
		if (int(srv.live_streams.size()) >= srv.opt.max_subscribers)
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
			return self->fail(unavailable(err.find("exhausted") != std::string::npos, err));
		}
		self->conn = std::move(c);
		if (self->is_write())
			return self->write();
		if (self->route.kind == RouteKind::Snapshot)
			return self->snapshot_lookup();
		if (self->route.kind == RouteKind::Events || self->route.kind == RouteKind::Ws ||
		    self->route.kind == RouteKind::History)
			return self->begin();
		self->read_pipelined();
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
		if (!self->retry_if_dead())
			self->fail_db(o);
	});
}

bool
Exchange::retry_if_dead()
{
	if (retried || PQstatus(conn->raw()) != CONNECTION_BAD)
		return false;
	retried = true;
	release();
	session->srv.pool.drop_idle();
	acquire();
	return true;
}

std::vector<std::optional<std::string>>
Exchange::request_settings() const
{
	std::string path(req.target().substr(0, req.target().find('?')));
	return {auth.role, auth.claims_json, head_only ? "GET" : std::string(req.method_string()), path};
}

// A read in one round trip: the request's settings, then the read with its snapshot's version.
void
Exchange::read_pipelined()
{
	Statement read{nullptr, "", {}};
	if (route.kind == RouteKind::KeySnapshot)
		read = {"gw_key_snapshot", q(sql::key_snapshot), {route.key}};
	else if (route.kind == RouteKind::Get)
		read = {"gw_get", q(sql::get), {route.key, route.id}};
	else if (route.kind == RouteKind::OpenApi)
		read = {"gw_describe", q(sql::describe), {}};
	else if (route.max_changes.empty())
		read = {"gw_changes", q(sql::changes), {route.after}};
	else
		read = {"gw_changes_paged", q(sql::changes_paged), {route.after, route.max_changes}};
	auto self = shared_from_this();
	// No BEGIN/COMMIT: a pipeline is one implicit transaction up to its sync, and one statement reads
	// the answer and its version in one snapshot (the store's readers are STABLE).
	conn->pipeline({{"gw_set_read_request", sql::set_read_request, request_settings()}, std::move(read)},
	               [self](std::vector<PgOutcome> o) { self->after_read(o); });
}

// The pipelined read's outcome: the answer, 304 when the client has it, 404 when there is none.
void
Exchange::after_read(std::vector<PgOutcome> &o)
{
	if (!o[0].ok && retry_if_dead())
		return;
	for (auto &each : o)
		if (!each.ok)
			return fail_db(each);
	PGresult *r = o[1].result.get();
	bool null = PQntuples(r) != 1 || PQgetisnull(r, 0, 0);
	if (PQntuples(r) == 1)
		snapshot_version = PQgetvalue(r, 0, 2);
	release();
	if (null)
		return fail(gateway_error(404, "GW404", "no document with this id in this key"));
	etag = make_etag(snapshot_version, visibility_fingerprint(auth.role, auth.claims_json));
	auto inm = req[http::field::if_none_match];
	if (!inm.empty() && if_none_match(std::string(inm), etag))
		return answer_not_modified();
	std::string body = PQgetvalue(r, 0, 0);
	if (route.kind == RouteKind::OpenApi)
		body = openapi_document(body);
	finish_whole(std::move(body), PQgetisnull(r, 0, 1) ? snapshot_version : PQgetvalue(r, 0, 1));
}

// GET /store/ in one round trip when the cache has the caller's documents (or the client has them: 304);
// otherwise the snapshot is streamed in a new transaction.
void
Exchange::snapshot_lookup()
{
	auto self = shared_from_this();
	conn->pipeline({{"gw_set_read_request", sql::set_read_request, request_settings()},
	                {"gw_version_tag", q(sql::version_tag), {}}},
	               [self](std::vector<PgOutcome> o) {
		               if (!o[0].ok && self->retry_if_dead())
			               return;
		               for (auto &each : o)
			               if (!each.ok)
				               return self->fail_db(each);
		               if (!self->use_version(o[1]))
			               return;
		               CachedSnapshot *hit = self->tag.empty() ? nullptr : self->session->srv.cache.find(self->tag);
		               if (!hit)
			               return self->begin(); // a new transaction on this connection streams the snapshot
		               self->release();
		               self->send_cached(*hit, "hit");
	               });
}

// Sends a cached snapshot with the current version (gzip: the cached head's blocks and a fresh tail's).
void
Exchange::send_cached(CachedSnapshot &entry, const char *cache_state)
{
	std::string tail = version_tail(snapshot_version);
	auto body = entry.head;
	if (gzip) {
		session->srv.cache.ensure_gzip(entry);
		tail = gzip_tail(entry, tail);
		body = entry.gzip_head;
	}
	head_res = http::response<http::empty_body>{http::status::ok, req.version()};
	head_res.set(http::field::content_type, json_type);
	read_headers(head_res, snapshot_version);
	if (gzip)
		head_res.set(http::field::content_encoding, "gzip");
	head_res.set("X-Store-Cache", cache_state);
	add_headers(head_res, session->cors);
	head_res.keep_alive(req.keep_alive() && !session->srv.stopping);
	head_res.content_length(body->size() + tail.size());
	serializer.emplace(head_res);
	out = std::move(tail);
	auto self = shared_from_this();
	session->stream.expires_after(write_timeout);
	http::async_write_header(session->stream, *serializer, [self, body](beast::error_code ec, std::size_t) {
		if (ec || self->head_only)
			return ec ? self->abort_stream() : self->session->next(self->head_res.keep_alive());
		std::array<asio::const_buffer, 2> parts{asio::buffer(*body), asio::buffer(self->out)};
		asio::async_write(self->session->stream, parts, [self, body](beast::error_code ec2, std::size_t) {
			if (ec2)
				return self->abort_stream();
			self->session->next(self->head_res.keep_alive());
		});
	});
}

// BEGIN, the request's settings, then the snapshot's version (and for GET /store/ its tag).
void
Exchange::begin()
{
	auto self = shared_from_this();
	open(sql::begin_read, [self]() {
		self->step(sql::set_request, self->request_settings(), [self](PgOutcome &) {
			bool snapshot = self->route.kind == RouteKind::Snapshot;
			self->step(self->q(snapshot ? sql::version_tag : sql::version), {},
			           [self](PgOutcome &o) { self->after_version(o); });
		});
	});
}

// Takes the snapshot's version (and tag) and the ETag; answers 304 (true: done) when the client has it.
bool
Exchange::use_version(PgOutcome &o)
{
	PGresult *r = o.result.get();
	snapshot_version = PQgetvalue(r, 0, 0);
	tag = PQnfields(r) > 1 && !PQgetisnull(r, 0, 1) ? PQgetvalue(r, 0, 1) : "";
	if (route.kind == RouteKind::Events || route.kind == RouteKind::Ws)
		return true;
	// GET /store/ with a tag: the ETag stays while the caller's documents do (unrelated transactions
	// move the version, not the documents)
	etag = make_etag(tag.empty() ? snapshot_version : tag, visibility_fingerprint(auth.role, auth.claims_json));
	auto inm = req[http::field::if_none_match];
	if (inm.empty() || !if_none_match(std::string(inm), etag))
		return true;
	if (PQtransactionStatus(conn->raw()) == PQTRANS_IDLE) {
		release();
		answer_not_modified();
	} else
		not_modified();
	return false;
}

// With the version known: 304 when the client has it, else the read itself (streamed).
void
Exchange::after_version(PgOutcome &o)
{
	if (!use_version(o))
		return;
	if (route.kind == RouteKind::Events || route.kind == RouteKind::Ws)
		return events_initial();
	if (head_only)
		return head_of_stream();
	filling = route.kind == RouteKind::Snapshot && !tag.empty() && session->srv.cache.max_bytes() > 0;
	start_stream();
}

// HEAD of a streamed answer: its headers, without a length (the body is never made).
void
Exchange::head_of_stream()
{
	auto self = shared_from_this();
	conn->run(sql::commit, {}, [self](PgOutcome c) {
		if (!c.ok)
			return self->fail_db(c);
		self->release();
		http::response<http::string_body> res{http::status::ok, self->req.version()};
		res.set(http::field::content_type, json_type);
		self->read_headers(res, self->snapshot_version);
		if (self->gzip)
			res.set(http::field::content_encoding, "gzip");
		res.keep_alive(self->req.keep_alive());
		self->session->send(std::move(res), true, false);
	});
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

// Commits, then answers 304.
void
Exchange::not_modified()
{
	auto self = shared_from_this();
	conn->run(sql::commit, {}, [self](PgOutcome o) {
		if (!o.ok)
			return self->fail_db(o);
		self->release();
		self->answer_not_modified();
	});
}

void
Exchange::answer_not_modified()
{
	http::response<http::string_body> res{http::status::not_modified, req.version()};
	read_headers(res, snapshot_version);
	res.keep_alive(req.keep_alive());
	session->send(std::move(res));
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

// Hands the connection over to the subscriber, with the first event (or, without one, the current version);
// the stream ends when the caller's token expires.
void
Exchange::events_start(std::optional<LiveEvent> first)
{
	release();
	if (route.kind == RouteKind::Ws) {
		auto w = std::move(ws);
		w->expire_at(auth.expires_at);
		LiveEvent now{snapshot_version, {}, false};
		return w->start(std::move(req), event_json(first ? *first : now));
	}
	auto s = std::move(sub);
	s->expire_at(auth.expires_at);
	s->start(req.version(), sse_retry(2000) + (first ? sse_event(*first) : sse_id_only(snapshot_version)));
}

// A write: store_apply as the caller, in one transaction.
void
Exchange::write()
{
	auto self = shared_from_this();
	conn->pipeline({{"gw_begin_write", sql::begin_write, {}},
	                {"gw_set_request", sql::set_request, request_settings()},
	                {"gw_apply", q(sql::apply), {plan.changeset}},
	                {"gw_commit", sql::commit, {}},
	                {"gw_version", q(sql::version), {}}},
	               [self](std::vector<PgOutcome> o) { self->write_applied(o); });
}

// What store_apply did, committed (a conflict or a missing row wrote nothing), and the version after it
// (read as the authenticator: the request's role ended with the commit): the answer.
void
Exchange::write_applied(std::vector<PgOutcome> &o)
{
	// Redone on a new connection only when the server said it ended the session before running any of it
	// (57P: shutdown, pg_terminate_backend, idle timeout); a connection lost without a word may have
	// committed (the answers of a pipeline come at its sync), so that is an error.
	if (!o[0].ok && o[0].sqlstate.rfind("57P", 0) == 0 && retry_if_dead())
		return;
	for (std::size_t i = 0; i < 4; i++)
		if (!o[i].ok)
			return fail_db(o[i]);
	std::string answer = PQgetvalue(o[2].result.get(), 0, 0);
	std::string version = o[4].ok ? PQgetvalue(o[4].result.get(), 0, 0) : "";
	WriteOutcome w = read_apply_answer(write_kind, plan, answer, route.key);
	if (w.status == 404)
		return fail(gateway_error(404, "GW404", "no row with this id that you may change"));
	if (w.status == 409 || write_kind == WriteKind::ChangeSet)
		return write_respond(w.status, answer, "", version);
	std::string location = w.id_text.empty() ? "" : document_location(route.key, w.id_text);
	write_respond(w.status, w.status == 204 ? "" : w.document, location, version);
}

// Answers a write.
void
Exchange::write_respond(int status, std::string body, const std::string &location, const std::string &version)
{
	release();
	http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
	if (!body.empty())
		res.set(http::field::content_type, json_type);
	res.set(http::field::cache_control, "no-store");
	if (!version.empty())
		res.set("X-Store-Version", version);
	if (!location.empty() && status == 201)
		res.set(http::field::location, location);
	res.body() = std::move(body);
	res.keep_alive(req.keep_alive());
	session->send(std::move(res));
}

// A whole answer (gzip when asked and worth it).
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
	respond(std::move(res));
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
			if (filling && !stream_error)
				return end_spool();
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
			if (filling)
				keep_for_cache(PQgetvalue(r.get(), 0, 0), std::size_t(PQgetlength(r.get(), 0, 0)));
			else
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
	if (route.kind == RouteKind::Snapshot && !tag.empty())
		head.set("X-Store-Cache", "miss");
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

// Reads a snapshot that fits the cache whole before answering (the connection and its snapshot are
// held for the database's time, not the client's); past the cache's size it streams from there on.
void
Exchange::keep_for_cache(const char *data, std::size_t n)
{
	if (fill.size() + n <= session->srv.cache.max_bytes()) {
		fill.append(data, n);
		return;
	}
	filling = false;
	pending = std::move(fill);
	pending.append(data, n);
	std::string().swap(fill);
}

// The whole snapshot is read: keeps it under its tag (unless the tag moved: reading rights come from the
// catalog as it is now, so a GRANT or REVOKE committed meanwhile keeps nothing), commits, answers.
void
Exchange::end_spool()
{
	auto self = shared_from_this();
	conn->run(q(sql::tag), {}, [self](PgOutcome t) {
		bool same = t.ok && PQntuples(t.result.get()) == 1 && !PQgetisnull(t.result.get(), 0, 0) &&
		            self->tag == PQgetvalue(t.result.get(), 0, 0);
		self->conn->run(sql::commit, {}, [self, same](PgOutcome c) {
			if (!c.ok)
				return self->fail_db(c);
			self->release();
			SnapshotCache &cache = self->session->srv.cache;
			if (same && cache.insert(self->tag, self->fill, self->snapshot_version))
				return self->send_cached(*cache.find(self->tag), "miss");
			self->finish_whole(std::move(self->fill), self->snapshot_version);
		});
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

} // namespace gw
