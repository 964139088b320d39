// Live push framing (WHATWG HTML, Server-sent events) and event coalescing for slow subscribers.
#include "core/live.hpp"

#include <nlohmann/json.hpp>

namespace gw {

LiveEvent
merge(const LiveEvent &older, const LiveEvent &newer)
{
	LiveEvent m;
	m.version = newer.version;
	m.all_keys = older.all_keys || newer.all_keys;
	if (!m.all_keys) {
		m.keys = older.keys;
		m.keys.insert(newer.keys.begin(), newer.keys.end());
	}
	return m;
}

std::string
event_json(const LiveEvent &e)
{
	nlohmann::ordered_json j;
	j["version"] = e.version;
	if (e.all_keys)
		j["keys"] = nullptr;
	else
		j["keys"] = nlohmann::json::array();
	for (const auto &k : e.keys)
		if (!e.all_keys)
			j["keys"].push_back(k);
	return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string
sse_event(const LiveEvent &e)
{
	return "id: " + (sse_safe(e.version) ? e.version : std::string()) + "\ndata: " + event_json(e) + "\n\n";
}

std::string
sse_id_only(const std::string &version)
{
	return "id: " + (sse_safe(version) ? version : std::string()) + "\n\n";
}

std::string
sse_comment(const std::string &text)
{
	return ": " + (sse_safe(text) ? text : std::string()) + "\n\n";
}

std::string
sse_retry(int ms)
{
	return "retry: " + std::to_string(ms) + "\n\n";
}

LiveEvent
parse_notification(const std::string &payload)
{
	LiveEvent e;
	auto j = nlohmann::json::parse(payload, nullptr, false);
	if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array()) {
		e.all_keys = true;
		return e;
	}
	for (const auto &k : j["keys"])
		if (k.is_string())
			e.keys.insert(k.get<std::string>());
	return e;
}

std::optional<std::string>
resume_point(const std::string &last_event_id, const std::string &after)
{
	if (!last_event_id.empty())
		return last_event_id;
	if (!after.empty())
		return after;
	return std::nullopt;
}

bool
sse_safe(const std::string &s)
{
	return s.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
}

} // namespace gw
