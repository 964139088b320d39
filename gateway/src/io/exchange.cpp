// store-http's request handling: one transaction per request, as the caller's role.
#include "io/exchange.hpp"

#include "core/etag.hpp"
#include "core/openapi.hpp"

namespace gw {

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

} // namespace gw
