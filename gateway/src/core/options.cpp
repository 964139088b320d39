// store-http's option parsing (no I/O except reading the key files named by options).
#include "core/options.hpp"

#include "core/cors.hpp"

#include <fstream>
#include <sstream>

namespace gw {
namespace {

// One option: its name, environment variable, argument name and description.
struct Spec {
	const char *name;
	const char *env;
	const char *arg;
	const char *help;
};

const Spec specs[] = {
    {"db", "STORE_HTTP_DB", "CONNINFO", "libpq conninfo of the authenticator role (required)"},
    {"listen", "STORE_HTTP_LISTEN", "HOST:PORT", "address to listen on (default 127.0.0.1:8080)"},
    {"anon-role", "STORE_HTTP_ANON_ROLE", "ROLE", "role of requests without a token (default: none, 401)"},
    {"jwt-secret", "STORE_HTTP_JWT_SECRET", "SECRET", "HS256 secret of the tokens (at least 32 characters)"},
    {"jwt-secret-file", "STORE_HTTP_JWT_SECRET_FILE", "FILE", "read the HS256 secret from FILE"},
    {"jwt-public-key-file", "STORE_HTTP_JWT_PUBLIC_KEY_FILE", "FILE", "RS256: PEM public key of the tokens"},
    {"jwt-role-claim", "STORE_HTTP_JWT_ROLE_CLAIM", "CLAIM", "claim naming the role (default role; a.b for nested)"},
    {"jwt-audience", "STORE_HTTP_JWT_AUDIENCE", "AUD", "tokens must carry this audience in aud"},
    {"pool-size", "STORE_HTTP_POOL_SIZE", "N", "database connections for requests (default 10)"},
    {"cache-size", "STORE_HTTP_CACHE_SIZE", "SIZE",
     "memory for GET /store/ answers kept until the store changes: 512kB, 64MB, 1GB (default 64MB; 0: none)"},
    {"pool-timeout", "STORE_HTTP_POOL_TIMEOUT", "MS", "wait for a connection at most MS, then 503 (default 10000)"},
    {"max-body", "STORE_HTTP_MAX_BODY", "BYTES", "request body limit, 413 beyond (default 1048576)"},
    {"max-header", "STORE_HTTP_MAX_HEADER", "BYTES", "request header limit, 431 beyond (default 8192)"},
    {"header-timeout", "STORE_HTTP_HEADER_TIMEOUT", "MS",
     "time to read a request's headers, 408 beyond (default 10000)"},
    {"body-timeout", "STORE_HTTP_BODY_TIMEOUT", "MS", "then time to read its body, 408 beyond (default 60000)"},
    {"idle-timeout", "STORE_HTTP_IDLE_TIMEOUT", "MS", "idle keep-alive connection timeout (default 60000)"},
    {"max-connections", "STORE_HTTP_MAX_CONNECTIONS", "N", "concurrent client connections (default 1024)"},
    {"max-subscribers", "STORE_HTTP_MAX_SUBSCRIBERS", "N", "concurrent event streams, 503 beyond (default 1000)"},
    {"sse-keepalive", "STORE_HTTP_SSE_KEEPALIVE", "MS", "keep-alive comment on idle event streams (default 15000)"},
    {"cors-origin", "STORE_HTTP_CORS_ORIGIN", "ORIGINS", "allow pages on other origins: * or origins, comma-separated"},
};

// Reads a whole file; false when it cannot be read.
bool
read_file(const std::string &path, std::string &out)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
		return false;
	std::ostringstream ss;
	ss << in.rdbuf();
	out = ss.str();
	return true;
}

// Parses a positive integer within [lo, hi]; false otherwise.
bool
parse_int(const std::string &s, long lo, long hi, long &out)
{
	if (s.empty() || s.size() > 12)
		return false;
	long v = 0;
	for (char c : s) {
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	if (v < lo || v > hi)
		return false;
	out = v;
	return true;
}

// Parses a memory size as PostgreSQL writes them: a number with kB, MB or GB (no unit: MB); false otherwise.
bool
parse_size(const std::string &s, std::size_t &bytes)
{
	std::size_t digits = 0;
	while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	std::string unit = s.substr(digits);
	int shift = unit == "kB" ? 10 : unit == "MB" || unit.empty() ? 20 : unit == "GB" ? 30 : -1;
	long n;
	if (shift < 0 || !parse_int(s.substr(0, digits), 0, 1L << (50 - shift), n))
		return false;
	bytes = std::size_t(n) << shift;
	return true;
}

// Drops trailing newlines and carriage returns (as files written by echo end).
std::string
chomp(std::string s)
{
	while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
		s.pop_back();
	return s;
}

// Applies one option's value to o; returns an error message or "".
std::string
apply(Options &o, const std::string &name, const std::string &v)
{
	long n = 0;
	if (name == "db")
		o.db = v;
	else if (name == "listen") {
		if (!split_listen(v, o.listen_host, o.listen_port))
			return "--listen: expected HOST:PORT, got \"" + v + "\"";
	} else if (name == "anon-role")
		o.anon_role = v;
	else if (name == "jwt-secret")
		o.jwt_secret = v;
	else if (name == "jwt-secret-file") {
		if (!read_file(v, o.jwt_secret))
			return "--jwt-secret-file: cannot read \"" + v + "\"";
		o.jwt_secret = chomp(o.jwt_secret);
	} else if (name == "jwt-public-key-file") {
		if (!read_file(v, o.jwt_public_key))
			return "--jwt-public-key-file: cannot read \"" + v + "\"";
	} else if (name == "jwt-role-claim")
		o.jwt_role_claim = v;
	else if (name == "jwt-audience")
		o.jwt_audience = v;
	else if (name == "pool-size" && parse_int(v, 1, 1000, n))
		o.pool_size = int(n);
	else if (name == "cache-size" && parse_size(v, o.cache_bytes))
		;
	else if (name == "pool-timeout" && parse_int(v, 0, 3600000, n))
		o.pool_timeout_ms = int(n);
	else if (name == "max-body" && parse_int(v, 0, 1L << 40, n))
		o.max_body = std::size_t(n);
	else if (name == "max-header" && parse_int(v, 1024, 1 << 20, n))
		o.max_header = std::size_t(n);
	else if (name == "header-timeout" && parse_int(v, 1, 3600000, n))
		o.header_timeout_ms = int(n);
	else if (name == "body-timeout" && parse_int(v, 1, 3600000, n))
		o.body_timeout_ms = int(n);
	else if (name == "idle-timeout" && parse_int(v, 1, 86400000, n))
		o.idle_timeout_ms = int(n);
	else if (name == "max-connections" && parse_int(v, 1, 1000000, n))
		o.max_connections = int(n);
	else if (name == "max-subscribers" && parse_int(v, 0, 1000000, n))
		o.max_subscribers = int(n);
	else if (name == "sse-keepalive" && parse_int(v, 10, 3600000, n))
		o.sse_keepalive_ms = int(n);
	else if (name == "cors-origin" && valid_cors_origin(v))
		o.cors_origin = v;
	else
		return "--" + name + ": invalid value \"" + v + "\"";
	return "";
}

// Finds the spec of an option name, or nullptr.
const Spec *
find_spec(const std::string &name)
{
	for (const Spec &s : specs)
		if (name == s.name)
			return &s;
	return nullptr;
}

// Checks the combination of options once all are applied; returns an error message or "".
std::string
check(const Options &o)
{
	if (o.db.empty())
		return "--db (or STORE_HTTP_DB) is required";
	if (!o.jwt_secret.empty() && !o.jwt_public_key.empty())
		return "give either an HS256 secret or an RS256 public key, not both (one algorithm per gateway)";
	if (!o.jwt_secret.empty() && o.jwt_secret.size() < 32)
		return "--jwt-secret: at least 32 characters";
	if (o.jwt_role_claim.empty())
		return "--jwt-role-claim: must not be empty";
	return "";
}

} // namespace

bool
split_listen(const std::string &value, std::string &host, std::string &port)
{
	auto colon = value.rfind(':');
	if (colon == std::string::npos || colon + 1 == value.size())
		return false;
	std::string h = value.substr(0, colon), p = value.substr(colon + 1);
	if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
		h = h.substr(1, h.size() - 2);
	long n = 0;
	if (h.empty() || !parse_int(p, 0, 65535, n))
		return false;
	host = h;
	port = p;
	return true;
}

ParsedOptions
parse_options(const std::vector<std::string> &args, const std::map<std::string, std::string> &env)
{
	ParsedOptions r;
	std::map<std::string, std::string> given; // option name -> value, from the command line
	for (std::size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == "--help" || a == "-h") {
			r.options.help = true;
			return r;
		}
		if (a.rfind("--", 0) != 0) {
			r.error = "unexpected argument \"" + a + "\" (see --help)";
			return r;
		}
		std::string name = a.substr(2), value;
		auto eq = name.find('=');
		bool has_value = eq != std::string::npos;
		if (has_value) {
			value = name.substr(eq + 1);
			name = name.substr(0, eq);
		}
		if (!find_spec(name)) {
			r.error = "unknown option --" + name + " (see --help)";
			return r;
		}
		if (!has_value) {
			if (i + 1 >= args.size()) {
				r.error = "--" + name + " needs a value";
				return r;
			}
			value = args[++i];
		}
		given[name] = value;
	}
	for (const Spec &s : specs) {
		auto g = given.find(s.name);
		auto e = env.find(s.env);
		std::string err;
		if (g != given.end())
			err = apply(r.options, s.name, g->second);
		else if (e != env.end() && !e->second.empty())
			err = apply(r.options, s.name, e->second);
		if (!err.empty()) {
			r.error = err;
			return r;
		}
	}
	r.error = check(r.options);
	return r;
}

std::string
help_text()
{
	std::string h = "store-http: the store extension over HTTP (reads, ETag/304, JWT roles).\n\n"
	                "Usage: store-http --db CONNINFO [options]\n\nOptions (each also from an environment variable):\n";
	for (const Spec &s : specs) {
		std::string left = std::string("  --") + s.name + " " + s.arg;
		if (left.size() < 34)
			left.resize(34, ' ');
		h += left + " " + s.help + " [" + s.env + "]\n";
	}
	h += "  --help                             this text\n";
	return h;
}

} // namespace gw
