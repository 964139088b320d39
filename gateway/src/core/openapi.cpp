// OpenAPI 3.1 for store-http: every route, its parameters, statuses and the error body.
#include "core/openapi.hpp"

#include <nlohmann/json.hpp>

namespace gw {
namespace {

using json = nlohmann::ordered_json;

// A reference to a component schema.
json
ref(const std::string &name)
{
	return {{"$ref", "#/components/schemas/" + name}};
}

// A JSON response with a schema.
json
json_response(const std::string &description, const json &schema)
{
	return {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

// The error responses every database route may give.
json
errors(json responses)
{
	for (const char *s : {"400", "401", "403", "404", "409", "503"}) {
		if (!responses.contains(s))
			responses[s] = {{"$ref", std::string("#/components/responses/Error")}};
	}
	return responses;
}

// A path parameter.
json
path_param(const std::string &name, const std::string &description)
{
	return {{"name", name},
	        {"in", "path"},
	        {"required", true},
	        {"description", description},
	        {"schema", {{"type", "string"}}}};
}

// A query parameter.
json
query_param(const std::string &name, bool required, const std::string &description, const std::string &type)
{
	return {{"name", name},
	        {"in", "query"},
	        {"required", required},
	        {"description", description},
	        {"schema", {{"type", type}}}};
}

// The request body of a write.
json
body(const std::string &schema)
{
	return {{"required", true}, {"content", {{"application/json", {{"schema", ref(schema)}}}}}};
}

} // namespace

std::string
openapi_json()
{
	json key = path_param("key", "a registered key");
	json id = path_param("id", "the document's id as text; a composite id is its JSON array, URL-encoded");
	json ok_doc = json_response("the document", ref("Document"));
	json paths;
	paths["/store/"] = {
	    {"get",
	     {{"summary", "store_snapshot(): every key you may read, streamed (gzip when asked)"},
	      {"responses", errors({{"200", json_response("the snapshot", ref("Snapshot"))},
	                            {"304", {{"description", "If-None-Match matched the ETag"}}}})}}},
	    {"post",
	     {{"summary", "store_apply(): a whole @ngrx/data ChangeSet, all or nothing"},
	      {"requestBody", body("ChangeSet")},
	      {"responses", errors({{"200", json_response("store_apply's answer", ref("ApplyAnswer"))},
	                            {"409", json_response("a conflict: nothing was written", ref("ApplyAnswer"))},
	                            {"413", {{"description", "the body is larger than --max-body"}}}})}}}};
	paths["/store/{key}/"] = {
	    {"get",
	     {{"summary", "store_snapshot(key)"},
	      {"parameters", json::array({key})},
	      {"responses", errors({{"200", json_response("the key's documents", ref("Snapshot"))},
	                            {"304", {{"description", "If-None-Match matched the ETag"}}}})}}},
	    {"post",
	     {{"summary", "create a document (store_apply add; without an id the key comes from its default)"},
	      {"parameters", json::array({key})},
	      {"requestBody", body("Document")},
	      {"responses", errors({{"201", ok_doc}})}}}};
	paths["/store/{key}/{id}/"] = {
	    {"get",
	     {{"summary", "store_get(key, id)"},
	      {"parameters", json::array({key, id})},
	      {"responses", errors({{"200", ok_doc}, {"304", {{"description", "If-None-Match matched the ETag"}}}})}}},
	    {"put",
	     {{"summary", "replace a document (store_apply upsert)"},
	      {"parameters", json::array({key, id})},
	      {"requestBody", body("Document")},
	      {"responses", errors({{"200", ok_doc}})}}},
	    {"patch",
	     {{"summary", "update fields of a document (store_apply update)"},
	      {"parameters", json::array({key, id})},
	      {"requestBody", body("Document")},
	      {"responses", errors({{"200", ok_doc}})}}},
	    {"delete",
	     {{"summary", "delete a document (store_apply delete)"},
	      {"parameters", json::array({key, id})},
	      {"responses", errors({{"204", {{"description", "deleted"}}}})}}}};
	paths["/store/history/"] = {
	    {"get",
	     {{"summary", "store_history(after) as a JSON array of rows"},
	      {"parameters", json::array({query_param("after", false, "the version to read after ('0': all)", "string"),
	                                  query_param("since", false, "the same as after", "string")})},
	      {"responses",
	       errors({{"200", json_response("the changes", {{"type", "array"}, {"items", ref("HistoryRow")}})}})}}}};
	paths["/store/changes/"] = {
	    {"get",
	     {{"summary", "store_changes(after[, max_changes]): one page of the delta"},
	      {"parameters", json::array({query_param("after", true, "the version to read after", "string"),
	                                  query_param("max_changes", false, "the page size", "integer")})},
	      {"responses", errors({{"200", json_response("the delta", ref("Delta"))}})}}}};
	paths["/store/events"] = {
	    {"get",
	     {{"summary", "Server-Sent Events: id = a version, data = {version, keys}"},
	      {"parameters",
	       json::array({query_param("after", false, "resume after this version (or send Last-Event-ID)", "string"),
	                    query_param("access_token", false, "a token, for clients that cannot set headers", "string")})},
	      {"responses", errors({{"200",
	                             {{"description", "the event stream"},
	                              {"content", {{"text/event-stream", {{"schema", {{"type", "string"}}}}}}}}}})}}}};
	paths["/store/ws"] = {
	    {"get",
	     {{"summary", "WebSocket: the same {version, keys} messages as text"},
	      {"parameters",
	       json::array({query_param("after", false, "resume after this version", "string"),
	                    query_param("access_token", false, "a token, for clients that cannot set headers", "string")})},
	      {"responses", errors({{"101", {{"description", "switching to the WebSocket protocol"}}}})}}}};

	json schemas;
	schemas["Document"] = {{"type", "object"}, {"description", "a row's chosen columns as to_json renders them"}};
	schemas["Snapshot"] = {{"type", "object"},
	                       {"required", json::array({"version"})},
	                       {"properties", {{"version", {{"type", "string"}}}}},
	                       {"additionalProperties", {{"type", "array"}, {"items", ref("Document")}}}};
	schemas["HistoryRow"] = {{"type", "object"},
	                         {"properties",
	                          {{"version", {{"type", "string"}}},
	                           {"cache_key", {{"type", json::array({"string", "null"})}}},
	                           {"item_id", {{"type", json::array({"string", "null"})}}},
	                           {"state", {{"type", "string"}, {"enum", json::array({"C", "U", "D", "F"})}}},
	                           {"added_on", {{"type", "string"}, {"format", "date-time"}}}}}};
	schemas["Delta"] = {{"type", "object"},
	                    {"required", json::array({"version"})},
	                    {"properties",
	                     {{"version", {{"type", "string"}}},
	                      {"reload", {{"type", "boolean"}}},
	                      {"more", {{"type", "boolean"}}},
	                      {"changes", {{"type", "object"}}}}}};
	schemas["ChangeSet"] = {{"type", "object"},
	                        {"required", json::array({"changes"})},
	                        {"properties",
	                         {{"changes", {{"type", "array"}, {"items", {{"type", "object"}}}}},
	                          {"tag", json::object()},
	                          {"clientId", {{"type", "string"}}},
	                          {"mutationId", {{"type", "integer"}}}}}};
	schemas["ApplyAnswer"] = {{"type", "object"}, {"properties", {{"applied", {{"type", "boolean"}}}}}};
	schemas["Error"] = {{"type", "object"},
	                    {"required", json::array({"code", "message", "details", "hint"})},
	                    {"properties",
	                     {{"code", {{"type", "string"}}},
	                      {"message", {{"type", "string"}}},
	                      {"details", {{"type", json::array({"string", "null"})}}},
	                      {"hint", {{"type", json::array({"string", "null"})}}}}}};

	json doc = {
	    {"openapi", "3.1.0"},
	    {"info",
	     {{"title", "store-http"},
	      {"version", "0.3.0"},
	      {"description", "The store extension over HTTP: one transaction per request as the caller's role."}}},
	    {"paths", paths},
	    {"components",
	     {{"schemas", schemas},
	      {"responses", {{"Error", json_response("an error: PostgreSQL's SQLSTATE or GWnnn", ref("Error"))}}},
	      {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}},
	    {"security", json::array({json::object(), {{"bearer", json::array()}}})}};
	return doc.dump();
}

} // namespace gw
