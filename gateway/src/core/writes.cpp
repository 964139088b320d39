// HTTP writes become one-change ChangeSets for store_apply; POST /store/ passes a whole ChangeSet through.
#include "core/writes.hpp"

#include <nlohmann/json.hpp>

namespace gw {
namespace {

using json = nlohmann::json;

// A failed plan.
WritePlan
refuse(const std::string &message)
{
	WritePlan p;
	p.error = message;
	return p;
}

// The id text of a JSON id value.
std::string
id_text(const json &v)
{
	return v.is_string() ? v.get<std::string>() : v.dump();
}

// A path segment with everything but RFC 3986's unreserved characters percent-encoded ('/', '?', '%',
// spaces and non-ASCII bytes included).
std::string
path_segment(const std::string &text)
{
	static const char *hex = "0123456789ABCDEF";
	std::string enc;
	for (unsigned char c : text) {
		if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			enc.push_back(char(c));
		else {
			enc.push_back('%');
			enc.push_back(hex[c >> 4]);
			enc.push_back(hex[c & 15]);
		}
	}
	return enc;
}

// s without leading and trailing spaces and tabs.
std::string
trim(const std::string &s)
{
	auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
	return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// s in ASCII lower case (media types and content codings are case-insensitive).
std::string
lower(std::string s)
{
	for (char &c : s)
		c = char(std::tolower(static_cast<unsigned char>(c)));
	return s;
}

} // namespace

WritePlan plan_json(WriteKind kind, const std::string &key, const std::string &id, const std::string &body);

std::string
id_json_of_text(const std::string &text)
{
	if (!text.empty() && text.front() == '[') {
		auto j = json::parse(text, nullptr, false);
		if (j.is_array())
			return j.dump();
	}
	return json(text).dump(); // throws for text that is not UTF-8 (plan_write refuses it)
}

std::string
id_text_of_json(const std::string &value)
{
	auto j = json::parse(value, nullptr, false);
	return j.is_discarded() ? value : id_text(j);
}

WritePlan
plan_write(WriteKind kind, const std::string &key, const std::string &id, const std::string &body)
{
	try {
		return plan_json(kind, key, id, body);
	} catch (const nlohmann::json::exception &) {
		return refuse("the key, the id and the body must be valid UTF-8"); // json cannot hold other bytes
	}
}

// plan_write's work; throws nlohmann's exceptions for text that is not UTF-8.
WritePlan
plan_json(WriteKind kind, const std::string &key, const std::string &id, const std::string &body)
{
	json b;
	if (kind != WriteKind::Delete) {
		b = json::parse(body, nullptr, false);
		if (b.is_discarded() || !b.is_object())
			return refuse("the request body must be a JSON object");
	}
	if (kind == WriteKind::ChangeSet) {
		WritePlan p;
		p.ok = true;
		p.changeset = b.dump();
		return p;
	}
	WritePlan p;
	p.ok = true;
	json change = {{"entityName", key}};
	json entity;
	if (kind == WriteKind::Create) {
		change["op"] = "add";
		entity = b;
		if (!entity.contains("id")) {
			entity["id"] = {{"$tmp", "new"}};
			p.temporary = true;
		} else
			p.id_text = id_text(entity["id"]);
	} else {
		p.id_text = id;
		json idv = json::parse(id_json_of_text(id));
		if (kind == WriteKind::Replace) {
			change["op"] = "upsert";
			entity = b;
			if (entity.contains("id") && entity["id"] != idv && id_text(entity["id"]) != id)
				return refuse("the body's id differs from the URL's");
			entity["id"] = idv;
		} else if (kind == WriteKind::Update) {
			change["op"] = "update";
			entity = {{"id", idv}, {"changes", b}};
		} else {
			change["op"] = "delete";
			entity = idv;
		}
	}
	change["entities"] = json::array({entity});
	p.changeset = json({{"changes", json::array({change})}}).dump();
	return p;
}

WriteOutcome
read_apply_answer(WriteKind kind, const WritePlan &plan, const std::string &answer, const std::string &key)
{
	WriteOutcome o;
	auto a = json::parse(answer, nullptr, false);
	if (!a.is_object())
		return o;
	if (a.contains("applied") && a["applied"] == false) {
		o.status = 409;
		return o;
	}
	if (kind == WriteKind::ChangeSet)
		return o;
	bool unmatched = a.contains("unmatched") && a["unmatched"].is_array() && !a["unmatched"].empty();
	if ((kind == WriteKind::Update || kind == WriteKind::Delete) && unmatched) {
		o.status = 404;
		return o;
	}
	if (kind != WriteKind::Delete && a.contains("skipped") && a["skipped"].is_array() && !a["skipped"].empty()) {
		o.status = 204; // a BEFORE trigger returned NULL: nothing was written, no document to show or locate
		return o;
	}
	o.id_text = plan.id_text;
	if (plan.temporary && a.contains("ids") && a["ids"].contains("new"))
		o.id_text = id_text(a["ids"]["new"]);
	o.status = kind == WriteKind::Create ? 201 : kind == WriteKind::Delete ? 204 : 200;
	if (kind != WriteKind::Delete && a.contains("documents") && a["documents"].contains(key)) {
		const json &up = a["documents"][key].value("upserted", json::array());
		if (up.is_array() && !up.empty())
			o.document = up[0].dump();
	}
	return o;
}

std::string
document_location(const std::string &key, const std::string &id_text)
{
	return "/store/" + path_segment(key) + "/" + path_segment(id_text) + "/";
}

std::string
unsupported_body(const std::string &content_type, const std::string &content_encoding, bool has_body)
{
	std::string enc = lower(trim(content_encoding));
	if (!enc.empty() && enc != "identity")
		return "Content-Encoding \"" + content_encoding + "\" is not accepted: send the body unencoded";
	if (!has_body || trim(content_type).empty())
		return "";
	std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
	auto slash = type.find('/');
	std::string top = type.substr(0, slash), sub = slash == std::string::npos ? "" : type.substr(slash + 1);
	bool json =
	    top == "application" && (sub == "json" || (sub.size() > 5 && sub.compare(sub.size() - 5, 5, "+json") == 0));
	return json ? "" : "Content-Type \"" + content_type + "\" is not accepted: the body must be application/json";
}

} // namespace gw
