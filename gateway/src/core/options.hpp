// store-http's options: command line first, then STORE_HTTP_* environment variables, then defaults.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gw {

struct Options {
	std::string db; // libpq conninfo of the authenticator role
	std::string listen_host = "127.0.0.1";
	std::string listen_port = "8080";
	std::string anon_role;      // empty: requests without a token are refused (401)
	std::string jwt_secret;     // HS256 secret (inline or read from --jwt-secret-file)
	std::string jwt_public_key; // RS256 public key, PEM (read from --jwt-public-key-file)
	std::string jwt_role_claim = "role";
	std::string jwt_audience;            // when set, a token's aud must contain it
	int pool_size = 10;                  // database connections for requests
	int pool_timeout_ms = 10000;         // how long a request waits for a connection before 503
	std::size_t max_body = 1 << 20;      // request body limit (413 beyond)
	std::size_t max_header = 8192;       // request header limit (431 beyond)
	int header_timeout_ms = 10000;       // time to read a request's headers (408 beyond)
	int body_timeout_ms = 60000;         // time to read a request's body once its headers are in (408 beyond)
	int idle_timeout_ms = 60000;         // idle keep-alive connection timeout
	int max_connections = 1024;          // concurrent client connections (more wait in the listen backlog)
	int max_subscribers = 1000;          // concurrent /store/events streams (503 beyond)
	int sse_keepalive_ms = 15000;        // a comment on idle event streams this often
	std::string cors_origin;             // empty: no CORS headers; "*" or origins separated by commas
	std::size_t cache_bytes = 64u << 20; // GET /store/ answers kept under store_snapshot_tag (0: none)
	bool help = false;
};

// The result of parsing: options, or an error message for the user.
struct ParsedOptions {
	Options options;
	std::string error;
};

// Parses argv and the environment (env maps variable names to values) into Options.
ParsedOptions parse_options(const std::vector<std::string> &args, const std::map<std::string, std::string> &env);

// The --help text.
std::string help_text();

// Splits "host:port" (or "[v6]:port") into host and port; false when malformed.
bool split_listen(const std::string &value, std::string &host, std::string &port);

} // namespace gw
