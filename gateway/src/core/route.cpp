// Request routing for store-http.
#include "core/route.hpp"

#include <vector>

namespace gw {
namespace {

// The value of one hex digit, or -1.
int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

// Splits a path (starting with '/') into its raw segments; a trailing '/' adds no empty segment.
std::vector<std::string>
segments(const std::string &path)
{
	std::vector<std::string> out;
	std::size_t i = 1;
	while (i <= path.size()) {
		std::size_t j = path.find('/', i);
		if (j == std::string::npos)
			j = path.size();
		out.push_back(path.substr(i, j - i));
		i = j + 1;
	}
	if (!out.empty() && out.back().empty())
		out.pop_back();
	return out;
}

// A BadRequest route with a message.
Route
bad(const std::string &msg)
{
	Route r;
	r.kind = RouteKind::BadRequest;
	r.error = msg;
	return r;
}

// The route names reserved at /store/<name>/ (they can never be keys).
bool
reserved(const std::string &s)
{
	return s == "history" || s == "changes" || s == "events" || s == "ws" || s == "version";
}

// The route of a method other than GET on decoded path segments (405 with Allow when the path is not written).
Route
write_route(const std::string &method, const std::vector<std::string> &dec)
{
	Route r;
	bool key_path = dec.size() >= 2 && !reserved(dec[1]);
	if (dec.size() == 1)
		r.allow = "GET, POST";
	else if (dec.size() == 2)
		r.allow = key_path ? "GET, POST" : "GET";
	else if (dec.size() == 3)
		r.allow = key_path ? "GET, PUT, PATCH, DELETE" : "";
	if (r.allow.empty())
		return r;
	if (method == "POST" && dec.size() == 1)
		r.kind = RouteKind::ChangeSet;
	else if (method == "POST" && dec.size() == 2 && key_path)
		r.kind = RouteKind::Create;
	else if (dec.size() == 3 && key_path && method == "PUT")
		r.kind = RouteKind::Replace;
	else if (dec.size() == 3 && key_path && method == "PATCH")
		r.kind = RouteKind::Update;
	else if (dec.size() == 3 && key_path && method == "DELETE")
		r.kind = RouteKind::Delete;
	else
		return r;
	r.allow.clear();
	if (dec.size() >= 2)
		r.key = dec[1];
	if (dec.size() == 3)
		r.id = dec[2];
	return r;
}

} // namespace

bool
percent_decode(const std::string &in, std::string &out, bool plus_is_space)
{
	out.clear();
	for (std::size_t i = 0; i < in.size(); i++) {
		char c = in[i];
		if (c == '%') {
			if (i + 2 >= in.size())
				return false;
			int h = hex(in[i + 1]), l = hex(in[i + 2]);
			if (h < 0 || l < 0 || h * 16 + l == 0) // %00: libpq's C strings would cut a key or id short
				return false;
			out.push_back(char(h * 16 + l));
			i += 2;
		} else if (c == '+' && plus_is_space)
			out.push_back(' ');
		else
			out.push_back(c);
	}
	return true;
}

bool
parse_query(const std::string &query, std::map<std::string, std::string> &out)
{
	std::size_t i = 0;
	while (i < query.size()) {
		std::size_t j = query.find('&', i);
		if (j == std::string::npos)
			j = query.size();
		std::string part = query.substr(i, j - i), k, v;
		i = j + 1;
		if (part.empty())
			continue;
		auto eq = part.find('=');
		if (!percent_decode(part.substr(0, eq), k, true))
			return false;
		if (eq != std::string::npos && !percent_decode(part.substr(eq + 1), v, true))
			return false;
		out[k] = v;
	}
	return true;
}

Route
route(const std::string &method, const std::string &target)
{
	Route r;
	auto q = target.find('?');
	std::string path = target.substr(0, q), query = q == std::string::npos ? "" : target.substr(q + 1);
	if (path.empty() || path[0] != '/')
		return bad("the request target must be an absolute path");
	std::map<std::string, std::string> params;
	if (!parse_query(query, params))
		return bad("malformed percent-encoding in the query string");
	if (path == "/openapi.json") {
		if (method != "GET")
			r.allow = "GET";
		else
			r.kind = RouteKind::OpenApi;
		return r;
	}
	std::vector<std::string> seg = segments(path);
	if (seg.empty() || seg[0] != "store")
		return r;
	std::vector<std::string> dec(seg.size());
	for (std::size_t i = 0; i < seg.size(); i++)
		if (!percent_decode(seg[i], dec[i], false))
			return bad("malformed percent-encoding in the path");
	for (std::size_t i = 0; i < seg.size(); i++)
		if (dec[i].empty())
			return r; // "//" inside the path
	if (method != "GET")
		return write_route(method, dec);
	if (dec.size() == 1) {
		r.kind = RouteKind::Snapshot;
		return r;
	}
	if (dec.size() == 2 && (dec[1] == "history" || dec[1] == "changes")) {
		auto a = params.find("after");
		if (a == params.end() && dec[1] == "history")
			a = params.find("since");
		if (a == params.end() || a->second.empty())
			return bad("the parameter \"after\" is required: the version to read the changes after ('0' for all)");
		r.kind = dec[1] == "history" ? RouteKind::History : RouteKind::Changes;
		r.after = a->second;
		auto m = params.find("max_changes");
		if (r.kind == RouteKind::Changes && m != params.end())
			r.max_changes = m->second;
		return r;
	}
	if (dec.size() == 2 && (dec[1] == "events" || dec[1] == "ws")) {
		r.kind = dec[1] == "events" ? RouteKind::Events : RouteKind::Ws;
		auto a = params.find("after");
		if (a != params.end())
			r.after = a->second;
		auto t = params.find("access_token");
		if (t != params.end())
			r.access_token = t->second;
		return r;
	}
	if (reserved(dec[1]))
		return r;
	if (dec.size() == 2) {
		r.kind = RouteKind::KeySnapshot;
		r.key = dec[1];
		return r;
	}
	if (dec.size() == 3) {
		r.kind = RouteKind::Get;
		r.key = dec[1];
		r.id = dec[2];
		return r;
	}
	return r;
}

} // namespace gw
