// One request being answered by store-http: reads of the store (whole or streamed), live-stream starts, writes.
#pragma once

#include "core/auth.hpp"
#include "core/gzip.hpp"
#include "core/route.hpp"
#include "core/snapshot_cache.hpp"
#include "core/sql.hpp"
#include "core/writes.hpp"
#include "io/live_stream.hpp"

namespace gw {

// One request being answered: its route, caller, database connection and (for streams) writer state.
class Exchange : public std::enable_shared_from_this<Exchange> {
public:
	Exchange(std::shared_ptr<Session> s, http::request<http::string_body> r) : session(std::move(s)), req(std::move(r))
	{
	}
	void handle();

private:
	// Sends an error; a connection in a transaction is rolled back first.
	void fail(const HttpError &e);
	void
	fail_db(const PgOutcome &o)
	{
		if (conn)
			conn->retire_if_stale(o);
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
	bool use_version(PgOutcome &o);
	bool retry_if_dead();
	std::vector<std::optional<std::string>> request_settings() const;
	void read_pipelined();
	void after_read(std::vector<PgOutcome> &o);
	void snapshot_lookup();
	void send_cached(CachedSnapshot &entry, const char *cache_state);
	void end_spool();
	void keep_for_cache(const char *data, std::size_t n);
	void head_of_stream();
	void answer_not_modified();
	// Sends a whole response (without its body for HEAD).
	void respond(http::response<http::string_body> res);
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
	void write_applied(std::vector<PgOutcome> &o);
	void write_respond(int status, std::string body, const std::string &location, const std::string &version);
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
	bool head_only = false; // a HEAD request: answered as GET without the body
	std::string tag;        // GET /store/: store_snapshot_tag() of the request's snapshot ("" when NULL)
	bool filling = false;   // reading the whole snapshot into fill for the cache before answering
	std::string fill;
	http::response<http::empty_body> head_res; // a cached answer's header
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

} // namespace gw
