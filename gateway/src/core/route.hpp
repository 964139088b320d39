// Request routing: an HTTP method and target to one of the gateway's routes (no I/O).
#pragma once

#include <map>
#include <string>

namespace gw {

enum class RouteKind {
	NotFound,    // no such route: 404
	BadRequest,  // a malformed target (bad percent-encoding, missing parameter): 400
	OpenApi,     // GET /openapi.json: the OpenAPI document as the caller's role sees the store
	Snapshot,    // GET /store/
	KeySnapshot, // GET /store/<key>/
	Get,         // GET /store/<key>/<id>/
	History,     // GET /store/history/?after=V (or since=V)
	Changes,     // GET /store/changes/?after=V[&max_changes=N]
	Events,      // GET /store/events[?after=V]: Server-Sent Events
	Ws,          // GET /store/ws[?after=V]: WebSocket
	ChangeSet,   // POST /store/: a whole ChangeSet for store_apply
	Create,      // POST /store/<key>/
	Replace,     // PUT /store/<key>/<id>/
	Update,      // PATCH /store/<key>/<id>/
	Delete,      // DELETE /store/<key>/<id>/
};

struct Route {
	RouteKind kind = RouteKind::NotFound;
	std::string key;          // KeySnapshot, Get
	std::string id;           // Get: the id as text, percent-decoded (a composite id is its JSON array)
	std::string after;        // History, Changes, Events (optional there)
	std::string max_changes;  // Changes: optional page size, as given
	std::string allow;        // when the path exists but not for this method: the Allow header (405)
	std::string error;        // BadRequest: what is wrong
	std::string access_token; // Events, Ws: a token in the URL (browsers cannot set headers there)
};

// Decodes %XX escapes (and '+' as a space when plus_is_space); false on a malformed escape.
bool percent_decode(const std::string &in, std::string &out, bool plus_is_space);

// Parses "a=1&b=2" into a map (last value wins); false on a malformed escape.
bool parse_query(const std::string &query, std::map<std::string, std::string> &out);

// Routes a request: method (e.g. "GET") and target (path and query, as sent).
Route route(const std::string &method, const std::string &target);

} // namespace gw
