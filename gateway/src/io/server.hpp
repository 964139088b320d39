// store-http's HTTP server: Asio acceptor and Beast sessions on one I/O thread.
#pragma once

#include "core/auth.hpp"
#include "core/options.hpp"
#include "core/snapshot_cache.hpp"
#include "io/listener.hpp"
#include "io/pg.hpp"

#include <boost/asio.hpp>

#include <set>

namespace gw {

class Session;
class LiveStream;

// The server: accepts connections, serves requests, stops on SIGTERM/SIGINT.
class Server {
public:
	Server(asio::io_context &io, const Options &opt);
	// Binds the listening socket; "" on success, else the reason.
	std::string listen();
	// Starts accepting and watching signals.
	void start();
	// Stops accepting; idle connections close, in-flight requests finish (answered with Connection: close).
	void shutdown();

	const Options &opt;
	AuthConfig auth;
	PgPool pool;
	SnapshotCache cache; // GET /store/ answers under store_snapshot_tag
	asio::io_context &io;
	bool stopping = false;
	int sessions = 0;
	// Called when a session ends: resumes accepting when it had paused at max connections.
	void session_ended(Session *s);
	// Sends a live event to every subscriber (each coalesces what it has not sent yet).
	void broadcast(const LiveEvent &e);
	Listener listener;
	std::set<LiveStream *> live_streams; // /store/events and /store/ws streams
	// Registers a live session (so shutdown can close the idle ones).
	void
	session_started(Session *s)
	{
		live_.insert(s);
	}

private:
	void accept();
	void cut_connections();
	asio::ip::tcp::acceptor acceptor_;
	asio::signal_set signals_;
	bool accept_paused_ = false;
	std::set<Session *> live_;
	asio::steady_timer deadline_;
};

} // namespace gw
