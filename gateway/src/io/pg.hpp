// libpq driven by Asio: non-blocking connections, results pulled one at a time, a bounded pool.
#pragma once

#include <boost/asio.hpp>
#include <libpq-fe.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gw {

namespace asio = boost::asio;

// A PGresult owned by the caller.
using PgResult = std::unique_ptr<PGresult, void (*)(PGresult *)>;

// The outcome of one statement: its last result, or the error's fields.
struct PgOutcome {
	bool ok = false;
	PgResult result{nullptr, PQclear};
	std::string sqlstate, message, detail, hint;
};

// The error fields of a failed result (or of the connection when r is null).
PgOutcome outcome_of(PGconn *conn, PgResult r);

// One statement of a pipeline: prepared once per connection under name (nullptr: unnamed, parsed each time).
struct Statement {
	const char *name;
	std::string text;
	std::vector<std::optional<std::string>> params;
};

class PipelineRun;

// One database connection in non-blocking mode, waited on through its socket.
class PgConn : public std::enable_shared_from_this<PgConn> {
public:
	explicit PgConn(asio::io_context &io) : io_(io), sock_(io) {}
	~PgConn();
	PgConn(const PgConn &) = delete;
	PgConn &operator=(const PgConn &) = delete;

	// Starts connecting as application `name` (fallback_name: unless conninfo names one); cb gets "" or the reason.
	void connect(const std::string &conninfo, const std::string &name, bool fallback_name,
	             std::function<void(std::string)> cb);
	// Sends one statement (parameters as text, nullopt = NULL); single_row streams its rows. False: see error().
	bool send(const std::string &sql, const std::vector<std::optional<std::string>> &params, bool single_row);
	// True when the next result can be taken without waiting.
	bool ready();
	// The next result of the current statement (nullptr when it has no more); call only when ready().
	PgResult
	take()
	{
		return PgResult(PQgetResult(conn_), PQclear);
	}
	// Waits until input arrives and reads it; cb(false) when the connection failed.
	void wait(std::function<void(bool)> cb);
	// Runs one statement to its end; cb gets its outcome.
	void run(const std::string &sql, const std::vector<std::optional<std::string>> &params,
	         std::function<void(PgOutcome)> cb);
	// Sends statements as one libpq pipeline (one round trip); cb gets one outcome per statement, in order
	// (after a failure, the later ones report it was skipped).
	void pipeline(std::vector<Statement> statements, std::function<void(std::vector<PgOutcome>)> cb);
	// Cancels the waits on the socket (their handlers see a failed connection).
	void
	cancel()
	{
		boost::system::error_code ec;
		sock_.cancel(ec);
	}
	// Marks the connection not to be reused when o says its prepared statements went stale (dropped by
	// DISCARD/DEALLOCATE, or a result type changed under them, e.g. by an extension update).
	void
	retire_if_stale(const PgOutcome &o)
	{
		if (o.sqlstate == "26000" ||
		    (o.sqlstate == "0A000" && o.message.find("cached plan must not change") != std::string::npos))
			retired_ = true;
	}
	// True when the connection is usable for another request (connected, no transaction open).
	bool reusable() const;
	// The connection's last error message.
	std::string error() const;
	PGconn *
	raw()
	{
		return conn_;
	}
	// The quoted schema of the store extension (set by the pool once connected).
	std::string schema;

private:
	// Stops watching a socket libpq closed (at once: the number may be reused by the next connection, whose
	// registration a late release of this one would remove).
	void
	sync_socket()
	{
		if (fd_ >= 0 && (PQstatus(conn_) == CONNECTION_BAD || PQsocket(conn_) != fd_)) {
			sock_.release();
			fd_ = -1;
		}
	}
	void poll_connect(std::function<void(std::string)> cb);
	void track_socket();
	void drain(std::function<void(PgOutcome)> cb, std::shared_ptr<PgOutcome> acc);
	void collect(std::shared_ptr<PipelineRun> run);
	void lose(std::shared_ptr<PipelineRun> run);
	friend class PipelineRun;
	std::set<std::string> prepared_; // the statement names prepared on this connection
	bool retired_ = false;           // its prepared statements went stale: closed when released
	asio::io_context &io_;
	asio::posix::stream_descriptor sock_;
	PGconn *conn_ = nullptr;
	int fd_ = -1;
};

// The statement that finds the store extension's schema, quoted for use in SQL text.
extern const char *const find_schema_sql;

// A pool of at most `size` connections; requests wait at most timeout_ms for one.
class PgPool {
public:
	PgPool(asio::io_context &io, std::string conninfo, int size, int timeout_ms)
	    : io_(io), conninfo_(std::move(conninfo)), size_(size), timeout_ms_(timeout_ms)
	{
	}
	using Handler = std::function<void(std::shared_ptr<PgConn>, std::string)>;
	// Gives a connection, or nullptr and the reason (pool exhausted, database unreachable).
	void acquire(Handler cb);
	// Takes a connection back; one not reusable is closed and its slot freed.
	void release(std::shared_ptr<PgConn> conn);
	// Closes the idle connections (one was found dead: the others likely are too).
	void
	drop_idle()
	{
		total_ -= int(idle_.size());
		idle_.clear();
	}
	// Closes idle connections and refuses further ones.
	void close();

private:
	struct Waiter {
		Handler cb;
		std::shared_ptr<asio::steady_timer> timer;
	};
	void open_for(Handler cb);
	void serve_waiter();
	asio::io_context &io_;
	std::string conninfo_;
	int size_, timeout_ms_;
	int total_ = 0;
	bool closed_ = false;
	std::vector<std::shared_ptr<PgConn>> idle_;
	std::deque<std::shared_ptr<Waiter>> waiters_;
};

} // namespace gw
