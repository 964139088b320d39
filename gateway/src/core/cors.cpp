// Cross-origin requests (CORS): the headers a browser needs to let pages on other origins read the store.
#include "core/cors.hpp"

namespace gw {
namespace {

// Trims spaces and tabs at both ends.
std::string
trim(const std::string &s)
{
	auto b = s.find_first_not_of(" \t");
	if (b == std::string::npos)
		return "";
	auto e = s.find_last_not_of(" \t");
	return s.substr(b, e - b + 1);
}

// The origins of an --cors-origin value, split at commas and trimmed.
std::vector<std::string>
origins(const std::string &allowed)
{
	std::vector<std::string> out;
	std::size_t start = 0;
	while (start <= allowed.size()) {
		auto comma = allowed.find(',', start);
		if (comma == std::string::npos)
			comma = allowed.size();
		out.push_back(trim(allowed.substr(start, comma - start)));
		start = comma + 1;
	}
	return out;
}

// True when origin may read: "*" allows every origin, otherwise an exact (case-sensitive) match.
bool
allows(const std::string &allowed, const std::string &origin)
{
	if (allowed.empty() || origin.empty())
		return false;
	for (const auto &o : origins(allowed))
		if (o == "*" || o == origin)
			return true;
	return false;
}

} // namespace

bool
origin_allowed(const std::string &allowed, const std::string &origin)
{
	return allows(allowed, origin);
}

HeaderList
cors_headers(const std::string &allowed, const std::string &origin)
{
	bool any = trim(allowed) == "*";
	if (!allows(allowed, origin))
		return allowed.empty() || any ? HeaderList{} : HeaderList{{"Vary", "Origin"}}; // answers differ by Origin
	return {{"Access-Control-Allow-Origin", any ? "*" : origin},
	        {"Access-Control-Expose-Headers", "ETag, X-Store-Version, Location"},
	        {"Vary", "Origin"}};
}

bool
is_preflight(const std::string &allowed, const std::string &method, const std::string &origin,
             const std::string &request_method)
{
	return !allowed.empty() && method == "OPTIONS" && !origin.empty() && !request_method.empty();
}

HeaderList
preflight_headers(const std::string &allowed, const std::string &origin)
{
	HeaderList h = cors_headers(allowed, origin);
	if (h.size() < 2)
		return h; // not allowed: no Access-Control-Allow-* at all
	h.push_back({"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"});
	h.push_back({"Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match, Last-Event-ID"});
	h.push_back({"Access-Control-Max-Age", "86400"});
	return h;
}

bool
valid_cors_origin(const std::string &allowed)
{
	if (trim(allowed) == "*")
		return true;
	for (const auto &o : origins(allowed)) {
		auto scheme = o.find("://");
		if (scheme == std::string::npos || (o.compare(0, scheme, "http") != 0 && o.compare(0, scheme, "https") != 0))
			return false;
		auto host = o.substr(scheme + 3);
		if (host.empty() || host.find_first_of("/ *,") != std::string::npos)
			return false;
	}
	return true;
}

} // namespace gw
