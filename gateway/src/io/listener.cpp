// LISTEN store before reading store_version(), so no commit falls between; notifications are only hints:
// each batch is answered by reading store_version() (a flushed version that sees the notified commits).
#include "io/listener.hpp"

#include <iostream>

namespace gw {

void
Listener::stop()
{
	stopped_ = true;
	retry_.cancel();
	if (conn_)
		conn_->cancel();
	conn_.reset();
}

void
Listener::reconnect_later()
{
	conn_.reset();
	reading_version_ = false;
	if (stopped_)
		return;
	retry_.expires_after(std::chrono::milliseconds(backoff_ms_));
	backoff_ms_ = std::min(backoff_ms_ * 2, 32000);
	retry_.async_wait([this](boost::system::error_code ec) {
		if (!ec)
			connect();
	});
}

void
Listener::connect()
{
	if (stopped_)
		return;
	auto c = std::make_shared<PgConn>(io_); // with TCP keepalives (PgConn::connect): a dead peer is noticed
	conn_ = c;
	c->connect(conninfo_, "store-http listener", false, [this, c](std::string err) {
		if (c != conn_)
			return;
		if (!err.empty()) {
			std::cerr << "store-http: listener: " << err << "\n";
			return reconnect_later();
		}
		c->run(find_schema_sql, {}, [this, c](PgOutcome o) {
			if (c != conn_)
				return;
			if (!o.ok || PQntuples(o.result.get()) != 1)
				return reconnect_later();
			schema_ = PQgetvalue(o.result.get(), 0, 0);
			listen();
		});
	});
}

// LISTEN, then the version: everything committed after it will be notified.
void
Listener::listen()
{
	auto c = conn_;
	c->run("LISTEN store", {}, [this, c](PgOutcome o) {
		if (c != conn_)
			return;
		if (!o.ok)
			return reconnect_later();
		backoff_ms_ = 500;
		caught_up_ = false;
		// After a reconnect, notifications may have been lost: announce whatever the version says.
		pending_ = LiveEvent{"", {}, true};
		read_version();
		wait_input();
	});
}

// Collects the keys of the notifications libpq has received.
void
Listener::take_notifications()
{
	while (PGnotify *n = PQnotifies(conn_->raw())) {
		LiveEvent e = parse_notification(n->extra ? n->extra : "");
		PQfreemem(n);
		pending_ = pending_ ? merge(*pending_, e) : e;
	}
	if (pending_ && !reading_version_)
		read_version();
}

// Reads store_version() and announces it with the keys collected.
void
Listener::read_version()
{
	auto c = conn_;
	reading_version_ = true;
	LiveEvent e = *pending_;
	pending_.reset();
	c->run("SELECT " + schema_ + ".store_version()", {}, [this, c, e](PgOutcome o) mutable {
		if (c != conn_)
			return;
		reading_version_ = false;
		if (!o.ok)
			return reconnect_later();
		e.version = PQgetvalue(o.result.get(), 0, 0);
		bool first = version_.empty();
		bool changed = e.version != version_;
		version_ = e.version;
		// The first read announces too: a stream that started before LISTEN may have missed a commit.
		if (first || changed || caught_up_)
			sink_(e);
		caught_up_ = true;
		take_notifications(); // may start the next read
		wait_input();
	});
}

// Waits for input on the idle connection (notifications, or its loss).
void
Listener::wait_input()
{
	auto c = conn_;
	if (!c || reading_version_)
		return; // the running statement's completion resumes waiting
	c->wait([this, c](bool ok) {
		if (c != conn_)
			return;
		if (!ok) {
			std::cerr << "store-http: listener connection lost; reconnecting\n";
			return reconnect_later();
		}
		take_notifications();
		wait_input();
	});
}

} // namespace gw
