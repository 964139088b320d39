// libpq over Asio: the socket is watched by a stream_descriptor that never owns it (libpq closes it).
#include "io/pg.hpp"

#include <set>

namespace gw {

PgOutcome
outcome_of(PGconn *conn, PgResult r)
{
	PgOutcome o;
	auto field = [&r](int code) {
		const char *v = r ? PQresultErrorField(r.get(), code) : nullptr;
		return std::string(v ? v : "");
	};
	if (r) {
		ExecStatusType st = PQresultStatus(r.get());
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) {
			o.ok = true;
			o.result = std::move(r);
			return o;
		}
	}
	o.sqlstate = field(PG_DIAG_SQLSTATE);
	o.message = field(PG_DIAG_MESSAGE_PRIMARY);
	o.detail = field(PG_DIAG_MESSAGE_DETAIL);
	o.hint = field(PG_DIAG_MESSAGE_HINT);
	if (o.sqlstate.empty())
		o.sqlstate = "08006"; // no SQLSTATE: the connection failed
	if (o.message.empty()) {
		std::string m = conn ? PQerrorMessage(conn) : "no connection";
		while (!m.empty() && (m.back() == '\n' || m.back() == ' '))
			m.pop_back();
		o.message = m.empty() ? "database connection failed" : m;
	}
	return o;
}

PgConn::~PgConn()
{
	if (fd_ >= 0)
		sock_.release();
	if (conn_)
		PQfinish(conn_);
}

// Watches libpq's current socket (it may change while connecting to several hosts).
void
PgConn::track_socket()
{
	int fd = PQsocket(conn_);
	if (fd == fd_)
		return;
	if (fd_ >= 0)
		sock_.release();
	fd_ = fd;
	if (fd_ >= 0)
		sock_.assign(fd_);
}

// TCP keepalives, each unless the conninfo sets it: an idle connection (the LISTEN one above all) whose peer
// died unannounced is found in about a minute (30 s idle, then 3 probes 10 s apart), not after hours.
static std::vector<std::pair<const char *, const char *>>
keepalive_defaults(const std::string &conninfo)
{
	static const std::pair<const char *, const char *> all[] = {
	    {"keepalives", "1"}, {"keepalives_idle", "30"}, {"keepalives_interval", "10"}, {"keepalives_count", "3"}};
	std::set<std::string> given;
	char *err = nullptr;
	if (PQconninfoOption *opts = PQconninfoParse(conninfo.c_str(), &err)) {
		for (PQconninfoOption *o = opts; o->keyword; o++)
			if (o->val && *o->val)
				given.insert(o->keyword);
		PQconninfoFree(opts);
	}
	if (err)
		PQfreemem(err);
	std::vector<std::pair<const char *, const char *>> out;
	for (const auto &kv : all)
		if (!given.count(kv.first))
			out.push_back(kv);
	return out;
}

void
PgConn::connect(const std::string &conninfo, const std::string &name, bool fallback_name,
                std::function<void(std::string)> cb)
{
	std::vector<const char *> keys = {"dbname", fallback_name ? "fallback_application_name" : "application_name"};
	std::vector<const char *> values = {conninfo.c_str(), name.c_str()};
	for (const auto &[k, v] : keepalive_defaults(conninfo)) {
		keys.push_back(k);
		values.push_back(v);
	}
	keys.push_back(nullptr);
	values.push_back(nullptr);
	conn_ = PQconnectStartParams(keys.data(), values.data(), 1);
	if (!conn_ || PQstatus(conn_) == CONNECTION_BAD) {
		asio::post(io_, [cb, e = error()] { cb(e); });
		return;
	}
	poll_connect(std::move(cb));
}

// One step of PQconnectPoll, then waits for the socket as libpq asks.
void
PgConn::poll_connect(std::function<void(std::string)> cb)
{
	PostgresPollingStatusType st = PQconnectPoll(conn_);
	track_socket();
	if (st == PGRES_POLLING_FAILED || fd_ < 0) {
		asio::post(io_, [cb, e = error()] { cb(e); });
		return;
	}
	if (st == PGRES_POLLING_OK) {
		PQsetnonblocking(conn_, 1);
		asio::post(io_, [cb] { cb(""); });
		return;
	}
	auto what = st == PGRES_POLLING_READING ? asio::posix::descriptor_base::wait_read
	                                        : asio::posix::descriptor_base::wait_write;
	sock_.async_wait(what, [self = shared_from_this(), cb](boost::system::error_code ec) {
		if (ec)
			cb(ec.message());
		else
			self->poll_connect(cb);
	});
}

bool
PgConn::send(const std::string &sql, const std::vector<std::optional<std::string>> &params, bool single_row)
{
	std::vector<const char *> values;
	for (const auto &p : params)
		values.push_back(p ? p->c_str() : nullptr);
	if (!PQsendQueryParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(), nullptr, nullptr, 0)) {
		sync_socket();
		return false;
	}
	if (single_row)
		PQsetSingleRowMode(conn_);
	return true;
}

bool
PgConn::ready()
{
	return !PQisBusy(conn_);
}

void
PgConn::wait(std::function<void(bool)> cb)
{
	bool writing = PQflush(conn_) == 1; // queries are small: usually all sent at once
	sync_socket();
	if (fd_ < 0) {
		asio::post(io_, [cb] { cb(false); });
		return;
	}
	auto what = writing ? asio::posix::descriptor_base::wait_write : asio::posix::descriptor_base::wait_read;
	sock_.async_wait(what, [self = shared_from_this(), cb](boost::system::error_code ec) {
		if (ec) {
			cb(false);
			return;
		}
		bool ok = PQconsumeInput(self->conn_) == 1;
		self->sync_socket();
		cb(ok);
	});
}

// Takes results until the statement ends, keeping the last one (or the first error).
void
PgConn::drain(std::function<void(PgOutcome)> cb, std::shared_ptr<PgOutcome> acc)
{
	while (ready()) {
		PgResult r = take();
		if (!r) {
			PgOutcome out = std::move(*acc);
			asio::post(io_, [cb, o = std::make_shared<PgOutcome>(std::move(out))] { cb(std::move(*o)); });
			return;
		}
		PgOutcome o = outcome_of(conn_, std::move(r));
		if (acc->ok || acc->sqlstate.empty())
			*acc = std::move(o); // the first error wins over later results
	}
	wait([self = shared_from_this(), cb, acc](bool ok) {
		if (!ok) {
			cb(outcome_of(self->conn_, PgResult(nullptr, PQclear)));
			return;
		}
		self->drain(cb, acc);
	});
}

void
PgConn::run(const std::string &sql, const std::vector<std::optional<std::string>> &params,
            std::function<void(PgOutcome)> cb)
{
	if (!send(sql, params, false)) {
		asio::post(io_, [cb, o = std::make_shared<PgOutcome>(outcome_of(conn_, PgResult(nullptr, PQclear)))] {
			cb(std::move(*o));
		});
		return;
	}
	auto acc = std::make_shared<PgOutcome>();
	drain(std::move(cb), acc);
}

// A pipeline in flight: what each result slot is (a statement's prepare, or its execution) and the outcomes.
class PipelineRun {
public:
	struct Slot {
		std::size_t statement;
		const char *prepared_name; // set for a prepare slot
	};
	std::vector<Slot> slots;
	std::size_t next = 0; // the slot whose results come next
	std::vector<PgOutcome> outcomes;
	std::function<void(std::vector<PgOutcome>)> cb;
	// Records a slot's result: a failed prepare or execution is its statement's outcome.
	void
	record(PGconn *conn, PgConn &owner, PgResult r)
	{
		const Slot &slot = slots[next];
		PgOutcome &o = outcomes[slot.statement];
		ExecStatusType st = PQresultStatus(r.get());
		if (st == PGRES_PIPELINE_ABORTED) {
			if (o.ok || o.sqlstate.empty()) {
				o.ok = false;
				o.sqlstate = "25P02";
				o.message = "skipped: an earlier statement of the request failed";
			}
			return;
		}
		PgOutcome got = outcome_of(conn, std::move(r));
		if (slot.prepared_name) {
			if (got.ok)
				owner.prepared_.insert(slot.prepared_name);
			else
				o = std::move(got);
			return;
		}
		if (o.sqlstate.empty() || got.ok == false)
			o = std::move(got);
	}
};

void
PgConn::pipeline(std::vector<Statement> statements, std::function<void(std::vector<PgOutcome>)> cb)
{
	auto run = std::make_shared<PipelineRun>();
	run->outcomes.resize(statements.size());
	run->cb = std::move(cb);
	bool sent = PQenterPipelineMode(conn_) == 1;
	for (std::size_t i = 0; sent && i < statements.size(); i++) {
		const Statement &s = statements[i];
		std::vector<const char *> values;
		for (const auto &p : s.params)
			values.push_back(p ? p->c_str() : nullptr);
		int n = int(values.size());
		if (s.name && !prepared_.count(s.name)) {
			sent = PQsendPrepare(conn_, s.name, s.text.c_str(), n, nullptr) == 1;
			run->slots.push_back({i, s.name});
		}
		if (sent && s.name)
			sent = PQsendQueryPrepared(conn_, s.name, n, values.data(), nullptr, nullptr, 0) == 1;
		else if (sent)
			sent = PQsendQueryParams(conn_, s.text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0) == 1;
		run->slots.push_back({i, nullptr});
	}
	if (!sent || PQpipelineSync(conn_) != 1) {
		sync_socket();
		for (auto &o : run->outcomes)
			o = outcome_of(conn_, PgResult(nullptr, PQclear));
		asio::post(io_, [run] { run->cb(std::move(run->outcomes)); });
		return;
	}
	collect(run);
}

// Takes the pipeline's results as they arrive: each slot's results up to its end (nullptr), then the sync.
void
PgConn::collect(std::shared_ptr<PipelineRun> run)
{
	while (ready()) {
		PgResult r = take();
		if (run->next == run->slots.size()) {
			if (r && PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) {
				PQexitPipelineMode(conn_);
				asio::post(io_, [run] { run->cb(std::move(run->outcomes)); });
				return;
			}
			if (!r) { // no sync will come (libpq gave up on the connection): never spin here
				sync_socket();
				return asio::post(io_, [self = shared_from_this(), run] { self->lose(run); });
			}
			continue;
		}
		if (!r) {
			run->next++;
			continue;
		}
		run->record(conn_, *this, std::move(r));
	}
	wait([self = shared_from_this(), run](bool ok) {
		if (!ok)
			return self->lose(run);
		self->collect(run);
	});
}

// The connection failed mid-pipeline: the statements whose answers had not all arrived report it; those
// that ended keep their outcome (a COMMIT that answered did commit: the caller must not redo it).
void
PgConn::lose(std::shared_ptr<PipelineRun> run)
{
	for (std::size_t s = run->next; s < run->slots.size(); s++) {
		PgOutcome &o = run->outcomes[run->slots[s].statement];
		if (o.ok || o.sqlstate.empty())
			o = outcome_of(conn_, PgResult(nullptr, PQclear));
	}
	run->cb(std::move(run->outcomes));
}

bool
PgConn::reusable() const
{
	return conn_ && !retired_ && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE &&
	       PQpipelineStatus(conn_) == PQ_PIPELINE_OFF;
}

std::string
PgConn::error() const
{
	std::string m = conn_ ? PQerrorMessage(conn_) : "out of memory";
	while (!m.empty() && (m.back() == '\n' || m.back() == ' '))
		m.pop_back();
	return m;
}

const char *const find_schema_sql =
    "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
    "ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'store'";

// Opens a new connection (its slot is already counted) and hands it to cb once it knows the schema.
void
PgPool::open_for(Handler cb)
{
	auto conn = std::make_shared<PgConn>(io_);
	conn->connect(conninfo_, "store-http", true, [this, conn, cb](std::string err) {
		if (!err.empty()) {
			total_--;
			cb(nullptr, "database unavailable: " + err);
			return;
		}
		conn->run(find_schema_sql, {}, [this, conn, cb](PgOutcome o) {
			if (!o.ok || PQntuples(o.result.get()) != 1) {
				total_--;
				cb(nullptr, o.ok ? "the store extension is not installed in this database" : o.message);
				return;
			}
			conn->schema = PQgetvalue(o.result.get(), 0, 0);
			cb(conn, "");
		});
	});
}

void
PgPool::acquire(Handler cb)
{
	if (closed_) {
		asio::post(io_, [cb] { cb(nullptr, "the server is shutting down"); });
		return;
	}
	while (!idle_.empty()) {
		auto c = idle_.back();
		idle_.pop_back();
		if (c->reusable()) {
			asio::post(io_, [cb, c] { cb(c, ""); });
			return;
		}
		total_--;
	}
	if (total_ < size_) {
		total_++;
		open_for(std::move(cb));
		return;
	}
	auto w = std::make_shared<Waiter>();
	w->cb = std::move(cb);
	w->timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(timeout_ms_));
	waiters_.push_back(w);
	w->timer->async_wait([this, w](boost::system::error_code ec) {
		if (ec)
			return; // served before the deadline
		for (auto it = waiters_.begin(); it != waiters_.end(); ++it)
			if (*it == w) {
				waiters_.erase(it);
				break;
			}
		w->cb(nullptr, "no database connection free (the pool is exhausted)");
	});
}

// Gives the first waiter a connection: an idle one, or a new one in a freed slot.
void
PgPool::serve_waiter()
{
	if (waiters_.empty())
		return;
	if (idle_.empty() && total_ >= size_)
		return;
	auto w = waiters_.front();
	waiters_.pop_front();
	w->timer->cancel();
	acquire(w->cb);
}

void
PgPool::release(std::shared_ptr<PgConn> conn)
{
	if (!conn)
		return;
	if (!closed_ && conn->reusable())
		idle_.push_back(std::move(conn));
	else
		total_--;
	serve_waiter();
}

void
PgPool::close()
{
	closed_ = true;
	total_ -= int(idle_.size());
	idle_.clear();
	for (auto &w : waiters_) {
		w->timer->cancel();
		auto cb = w->cb;
		asio::post(io_, [cb] { cb(nullptr, "the server is shutting down"); });
	}
	waiters_.clear();
}

} // namespace gw
