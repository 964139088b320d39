// ETags for store-http: the version of the snapshot an answer was read in, per visibility class.
#include "core/etag.hpp"

#include <cstdint>
#include <cstdio>

namespace gw {
namespace {

// The opaque part of an entity tag (between the quotes), dropping a W/ prefix; "" when malformed.
std::string
opaque(const std::string &tag)
{
	std::string t = tag;
	if (t.rfind("W/", 0) == 0)
		t = t.substr(2);
	if (t.size() < 2 || t.front() != '"' || t.back() != '"')
		return "";
	return t.substr(1, t.size() - 2);
}

// True for optional whitespace.
bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

} // namespace

std::string
visibility_fingerprint(const std::string &role, const std::string &claims_json)
{
	std::uint64_t h = 1469598103934665603ULL; // FNV-1a 64
	auto mix = [&h](const std::string &s) {
		for (unsigned char c : s) {
			h ^= c;
			h *= 1099511628211ULL;
		}
	};
	mix(role);
	mix(std::string(1, '\0'));
	mix(claims_json);
	char buf[17];
	std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
	return buf;
}

std::string
make_etag(const std::string &version, const std::string &fingerprint)
{
	return "W/\"" + version + "/" + fingerprint + "\"";
}

bool
if_none_match(const std::string &header, const std::string &etag)
{
	std::string mine = opaque(etag);
	std::size_t i = 0, n = header.size();
	while (i < n) {
		while (i < n && (ows(header[i]) || header[i] == ','))
			i++;
		if (i >= n)
			break;
		if (header[i] == '*')
			return true;
		std::size_t start = i;
		if (header.compare(i, 2, "W/") == 0)
			i += 2;
		if (i >= n || header[i] != '"')
			return false; // malformed list: no match
		std::size_t close = header.find('"', i + 1);
		if (close == std::string::npos)
			return false;
		std::string tag = header.substr(start, close + 1 - start);
		if (!mine.empty() && opaque(tag) == mine)
			return true;
		i = close + 1;
	}
	return false;
}

} // namespace gw
