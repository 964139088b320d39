// The one LISTEN connection: turns store notifications into live events, reconnects and catches up.
#pragma once

#include "core/live.hpp"
#include "io/pg.hpp"

namespace gw {

class Listener {
public:
	using Sink = std::function<void(const LiveEvent &)>;
	Listener(asio::io_context &io, std::string conninfo, Sink sink)
	    : io_(io), conninfo_(std::move(conninfo)), sink_(std::move(sink)), retry_(io)
	{
	}
	// Connects (and keeps reconnecting with backoff up to 32 s).
	void
	start()
	{
		connect();
	}
	// Closes the connection for good.
	void stop();
	// The latest version announced ("" before the first).
	const std::string &
	version() const
	{
		return version_;
	}

private:
	void connect();
	void reconnect_later();
	void listen();
	void take_notifications();
	void read_version();
	void wait_input();
	asio::io_context &io_;
	std::string conninfo_;
	Sink sink_;
	asio::steady_timer retry_;
	std::shared_ptr<PgConn> conn_;
	std::string schema_, version_;
	std::optional<LiveEvent> pending_; // keys notified since the last version read
	bool reading_version_ = false, stopped_ = false, caught_up_ = false;
	int backoff_ms_ = 500;
};

} // namespace gw
