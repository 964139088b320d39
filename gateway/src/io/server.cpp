// store-http's server: the acceptor, the connection limit, live-event broadcast and the SIGTERM drain.
#include "io/server.hpp"

#include "io/live_stream.hpp"
#include "io/session.hpp"

#include <cstdlib>
#include <iostream>

namespace gw {

void
Server::broadcast(const LiveEvent &e)
{
	std::vector<std::shared_ptr<LiveStream>> all;
	for (LiveStream *s : live_streams)
		all.push_back(s->shared_from_this());
	for (auto &s : all)
		s->push(e);
}

Server::Server(asio::io_context &io, const Options &o)
    : opt(o), pool(io, o.db, o.pool_size, o.pool_timeout_ms), cache(o.cache_bytes), io(io),
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
	std::vector<std::shared_ptr<LiveStream>> streams;
	for (LiveStream *s : live_streams)
		streams.push_back(s->shared_from_this());
	for (auto &s : streams)
		s->end();
	for (Session *s : live_)
		s->close_if_idle();
	if (sessions == 0) {
		pool.close();
		return;
	}
	// Past the deadline the connections still open (a slow reader, a WebSocket client that never answers
	// the close frame past its own bound) are cut; their handlers end and the io_context runs out of work.
	deadline_.expires_after(shutdown_deadline);
	deadline_.async_wait([this](boost::system::error_code e) {
		if (!e)
			cut_connections();
	});
}

// At the shutdown deadline: closes every live stream and session socket; what does not end with its
// socket (a statement still waiting on a lock) gets a short grace, then the process exits 0 at once.
void
Server::cut_connections()
{
	std::cerr << "store-http: shutdown deadline passed, " << sessions << " connection(s) cut" << std::endl;
	{
		std::vector<std::shared_ptr<LiveStream>> streams;
		for (LiveStream *s : live_streams)
			streams.push_back(s->shared_from_this());
		for (auto &s : streams)
			s->close();
	}
	std::vector<std::shared_ptr<Session>> open;
	for (Session *s : live_)
		open.push_back(s->shared_from_this());
	for (auto &s : open)
		s->cut();
	open.clear();
	if (sessions == 0)
		return;
	deadline_.expires_after(cut_grace);
	deadline_.async_wait([this](boost::system::error_code e) {
		if (e)
			return; // the last session ended (session_ended cancels the timer)
		std::cerr << "store-http: " << sessions << " request(s) still busy after the deadline; exiting" << std::endl;
		std::_Exit(0);
	});
}

} // namespace gw
