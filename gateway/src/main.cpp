// store-http: the store extension over HTTP. Parses options, then serves until SIGTERM.
#include "core/options.hpp"
#include "io/server.hpp"

#include <iostream>

extern char **environ;

// The io_context, with the shutdown its destructor runs also callable before: it destroys the handlers
// left (and the sessions they hold) while the Server they refer to still exists; the Server's own sockets
// and timers may then be destroyed before the io_context (Asio allows that after shutdown).
class IoContext : public boost::asio::io_context {
public:
	using io_context::io_context;
	using io_context::shutdown;
};

// The process environment as a map.
static std::map<std::string, std::string>
environment()
{
	std::map<std::string, std::string> env;
	for (char **e = environ; *e; e++) {
		std::string kv = *e;
		auto eq = kv.find('=');
		if (eq != std::string::npos)
			env[kv.substr(0, eq)] = kv.substr(eq + 1);
	}
	return env;
}

int
main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	gw::ParsedOptions p = gw::parse_options(args, environment());
	if (p.options.help) {
		std::cout << gw::help_text();
		return 0;
	}
	if (!p.error.empty()) {
		std::cerr << "store-http: " << p.error << "\n";
		return 2;
	}
	IoContext io(1); // declared first: it outlives the Server's sockets and timers
	gw::Server server(io, p.options);
	std::string err = server.listen();
	if (!err.empty()) {
		std::cerr << "store-http: " << err << "\n";
		return 1;
	}
	server.start();
	std::cerr << "store-http: listening on " << p.options.listen_host << ":" << p.options.listen_port << "\n";
	for (;;) { // an exception escaping a handler is logged; the server goes on
		try {
			io.run();
			break;
		} catch (const std::exception &e) {
			std::cerr << "store-http: internal error: " << e.what() << "\n";
		}
	}
	// run() returns when the shutdown drain left no work; should any handler remain, it is destroyed
	// here, before the Server it refers to (the io_context's destructor would destroy it after the Server).
	io.shutdown();
	std::cerr << "store-http: stopped\n";
	return 0;
}
