// store-http: the store extension over HTTP. Parses options, then serves until SIGTERM.
#include "core/options.hpp"
#include "io/server.hpp"

#include <iostream>

extern char **environ;

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
	boost::asio::io_context io(1);
	gw::Server server(io, p.options);
	std::string err = server.listen();
	if (!err.empty()) {
		std::cerr << "store-http: " << err << "\n";
		return 1;
	}
	server.start();
	std::cerr << "store-http: listening on " << p.options.listen_host << ":" << p.options.listen_port << "\n";
	io.run();
	std::cerr << "store-http: stopped\n";
	return 0;
}
