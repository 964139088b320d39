// The OpenAPI 3.1 document built from store_describe()'s answer: paths per key, components, $refs
// that resolve, unique operation ids, the error schema, bearer JWT.
#include "core/openapi.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

using json = nlohmann::json;

namespace {

// store_describe() of a flat key with a composite id and a nested key.
const char *const describe = R"({
  "films": {"nested": true, "id": {"columns": ["film_id"], "schema": {"type": "integer", "format": "int32"}},
            "schema": {"type": "object", "properties": {"film_id": {"type": "integer", "format": "int32"},
                       "language": {"type": ["object", "null"], "properties": {"name": {"type": "string"}},
                                    "required": ["name"]}},
                       "required": ["film_id", "language"]}},
  "order_lines": {"nested": false, "id": {"columns": ["order_id", "line"],
                  "schema": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "integer"}],
                             "items": false, "minItems": 2, "maxItems": 2}},
                  "schema": {"type": "object", "properties": {"order_id": {"type": "integer"},
                             "line": {"type": "integer"}, "product": {"type": ["string", "null"]}},
                             "required": ["order_id", "line", "product"]}}})";

// Every "$ref" in j, collected into refs.
void
collect_refs(const json &j, std::set<std::string> &refs)
{
	if (j.is_object()) {
		for (auto &[k, v] : j.items())
			if (k == "$ref" && v.is_string())
				refs.insert(v.get<std::string>());
			else
				collect_refs(v, refs);
	} else if (j.is_array())
		for (const auto &v : j)
			collect_refs(v, refs);
}

TEST(OpenApi, PathsPerKeyAndFixedRoutes)
{
	json doc = json::parse(gw::openapi_document(describe));
	EXPECT_EQ(doc["openapi"], "3.1.0");
	EXPECT_EQ(doc["jsonSchemaDialect"], "https://json-schema.org/draft/2020-12/schema");
	for (const char *path :
	     {"/store/", "/store/films/", "/store/films/{id}/", "/store/order_lines/", "/store/order_lines/{id}/",
	      "/store/history/", "/store/changes/", "/store/events", "/store/ws", "/openapi.json"})
		EXPECT_TRUE(doc["paths"].contains(path)) << path;
	EXPECT_EQ(doc["paths"].size(), 10u);
	const json &item = doc["paths"]["/store/order_lines/{id}/"];
	for (const char *method : {"get", "put", "patch", "delete"})
		EXPECT_TRUE(item.contains(method)) << method;
	EXPECT_TRUE(doc["paths"]["/store/order_lines/"].contains("post"));
	EXPECT_TRUE(doc["paths"]["/store/"].contains("post"));
	EXPECT_EQ(item["delete"]["responses"]["204"]["description"], "deleted");
	EXPECT_NE(item["parameters"][0]["description"].get<std::string>().find("order_id, line"), std::string::npos);
	EXPECT_EQ(doc["paths"]["/store/changes/"]["get"]["parameters"][0]["required"], true);
	EXPECT_EQ(doc["paths"]["/store/history/"]["get"]["parameters"][0]["required"], false);
	EXPECT_TRUE(doc["paths"]["/store/events"]["get"]["responses"]["200"]["content"].contains("text/event-stream"));
}

TEST(OpenApi, SchemasPerKeyAndBodies)
{
	json keys = json::parse(describe);
	json doc = json::parse(gw::openapi_document(describe));
	const json &schemas = doc["components"]["schemas"];
	EXPECT_EQ(schemas["films"], keys["films"]["schema"]);
	EXPECT_EQ(schemas["order_lines.id"], keys["order_lines"]["id"]["schema"]);
	EXPECT_EQ(schemas["Snapshot"]["required"], json::parse(R"(["films","order_lines","version"])"));
	EXPECT_EQ(schemas["Error"]["required"], json::parse(R"(["code","message","details","hint"])"));
	EXPECT_EQ(schemas["Error"]["properties"]["hint"]["type"], json::parse(R"(["string","null"])"));
	const json &item = doc["paths"]["/store/order_lines/{id}/"];
	json put = item["put"]["requestBody"]["content"]["application/json"]["schema"];
	json patch = item["patch"]["requestBody"]["content"]["application/json"]["schema"];
	EXPECT_EQ(put, keys["order_lines"]["schema"]);
	EXPECT_FALSE(patch.contains("required")); // any subset of the fields
	EXPECT_EQ(patch["properties"], put["properties"]);
	EXPECT_EQ(item["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
	          "#/components/schemas/order_lines");
}

TEST(OpenApi, RefsResolveAndOperationIdsAreUnique)
{
	json doc = json::parse(gw::openapi_document(describe));
	std::set<std::string> refs;
	collect_refs(doc, refs);
	EXPECT_FALSE(refs.empty());
	for (const std::string &r : refs) {
		ASSERT_EQ(r.rfind("#/", 0), 0u) << r;
		EXPECT_TRUE(doc.contains(json::json_pointer(r.substr(1)))) << r;
	}
	std::set<std::string> ids;
	int operations = 0;
	for (auto &[path, item] : doc["paths"].items())
		for (auto &[method, op] : item.items())
			if (method != "parameters") {
				operations++;
				ids.insert(op["operationId"].get<std::string>());
			}
	EXPECT_EQ(ids.size(), (size_t)operations);
}

TEST(OpenApi, BearerJwtIsOptional)
{
	json doc = json::parse(gw::openapi_document(describe));
	EXPECT_EQ(doc["components"]["securitySchemes"]["bearer"],
	          json::parse(R"({"type":"http","scheme":"bearer","bearerFormat":"JWT",
	          "description":"the token's role claim picks the database role; no token: the anonymous role"})"));
	EXPECT_EQ(doc["security"], json::parse(R"([{"bearer":[]},{}])"));
}

TEST(OpenApi, NoKeysOrNotAnObject)
{
	for (const char *text : {"{}", "null", "not json", "[1]"}) {
		json doc = json::parse(gw::openapi_document(text));
		EXPECT_EQ(doc["paths"].size(), 6u) << text; // /store/, history, changes, events, ws, /openapi.json
		EXPECT_EQ(doc["components"]["schemas"]["Snapshot"]["required"], json::parse(R"(["version"])")) << text;
	}
}

} // namespace

#include "core/route.hpp"

TEST(OpenApi, Route)
{
	EXPECT_EQ(gw::route("GET", "/openapi.json").kind, gw::RouteKind::OpenApi);
	EXPECT_EQ(gw::route("GET", "/openapi.json?x=1").kind, gw::RouteKind::OpenApi);
	gw::Route post = gw::route("POST", "/openapi.json");
	EXPECT_EQ(post.kind, gw::RouteKind::NotFound);
	EXPECT_EQ(post.allow, "GET");
	EXPECT_EQ(gw::route("GET", "/openapi.json/").kind, gw::RouteKind::NotFound);
	EXPECT_EQ(gw::route("GET", "/store/openapi.json/").kind, gw::RouteKind::KeySnapshot);
}
