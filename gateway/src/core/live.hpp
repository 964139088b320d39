// Live push: events of store versions, their Server-Sent Events framing, and coalescing (no I/O).
#pragma once

#include <optional>
#include <set>
#include <string>

namespace gw {

// "Changes exist up to version": the keys they touched (all_keys: unknown, read the changes).
struct LiveEvent {
	std::string version;
	std::set<std::string> keys;
	bool all_keys = false;
};

// Coalesces a newer event into one not yet sent: the newer version, the union of the keys.
LiveEvent merge(const LiveEvent &older, const LiveEvent &newer);

// The JSON data of an event: {"version": V, "keys": [...]} (keys null when unknown).
std::string event_json(const LiveEvent &e);

// An SSE event: "id: V" and "data: {...}" lines.
std::string sse_event(const LiveEvent &e);

// An SSE event with only an id (sets the client's Last-Event-ID without dispatching anything).
std::string sse_id_only(const std::string &version);

// An SSE comment line (keep-alive).
std::string sse_comment(const std::string &text);

// An SSE reconnection-delay hint.
std::string sse_retry(int ms);

// The keys named by a store NOTIFY payload ({"version": ..., "keys": [...] | null}); all_keys when unknown.
LiveEvent parse_notification(const std::string &payload);

// Where a subscriber resumes: the Last-Event-ID header if given, else ?after=; nullopt for "from now".
std::optional<std::string> resume_point(const std::string &last_event_id, const std::string &after);

// True when s can go on an SSE line (no CR, LF or NUL).
bool sse_safe(const std::string &s);

} // namespace gw
