// The OpenAPI 3.1 document of store-http (openapi.hpp).
#include "core/openapi.hpp"

#include <nlohmann/json.hpp>

namespace gw {

namespace {

using json = nlohmann::ordered_json;

const char *const api_version = "0.3.0"; // the store's SQL version the routes follow

// A reference to a component ("schemas", "responses", ...).
json
ref(const std::string &kind, const std::string &name)
{
	return {{"$ref", "#/components/" + kind + "/" + name}};
}

// A JSON response with a schema, and the read headers (ETag, X-Store-Version) when read is true.
json
json_response(const std::string &description, const json &schema, bool read = true)
{
	json r = {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
	if (read)
		r["headers"] = {{"ETag", ref("headers", "ETag")}, {"X-Store-Version", ref("headers", "X-Store-Version")}};
	return r;
}

// The responses of a read: 200 with schema, 304, and errors.
json
read_responses(const std::string &description, const json &schema)
{
	return {{"200", json_response(description, schema)},
	        {"304", ref("responses", "NotModified")},
	        {"default", ref("responses", "Error")}};
}

// A JSON request body.
json
body(const std::string &description, const json &schema)
{
	return {
	    {"required", true}, {"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

// A query parameter.
json
query(const std::string &name, bool required, const std::string &description, const json &schema)
{
	return {{"name", name}, {"in", "query"}, {"required", required}, {"description", description}, {"schema", schema}};
}

// The fixed schemas: errors, the snapshot, history rows, deltas, change sets.
json
fixed_schemas(const json &snapshot_properties, const json &snapshot_required)
{
	json nullable_string = {{"type", json::array({"string", "null"})}};
	json schemas;
	schemas["Error"] = {
	    {"type", "object"},
	    {"description", "an error: a SQLSTATE (or GWnnn for the gateway's own) and PostgreSQL's fields"},
	    {"properties",
	     {{"code", {{"type", "string"}}},
	      {"message", {{"type", "string"}}},
	      {"details", nullable_string},
	      {"hint", nullable_string}}},
	    {"required", json::array({"code", "message", "details", "hint"})}};
	schemas["Version"] = {{"type", "string"}, {"description", "a store version: read the changes after it"}};
	schemas["Snapshot"] = {{"type", "object"},
	                       {"description", "every key the caller may read, its documents in id order, and the version"},
	                       {"properties", snapshot_properties},
	                       {"required", snapshot_required}};
	schemas["HistoryRow"] = {{"type", "object"},
	                         {"properties",
	                          {{"version", ref("schemas", "Version")},
	                           {"cache_key", nullable_string},
	                           {"item_id", nullable_string},
	                           {"state", {{"type", "string"}, {"enum", json::array({"C", "U", "D", "F"})}}},
	                           {"added_on", {{"type", "string"}, {"format", "date-time"}}}}},
	                         {"required", json::array({"version", "cache_key", "item_id", "state", "added_on"})}};
	json key_changes = {{"type", "object"},
	                    {"properties",
	                     {{"upserted", {{"type", "array"}, {"items", json::object()}}},
	                      {"deleted", {{"type", "array"}, {"items", json::object()}}},
	                      {"replaced", {{"type", "boolean"}}},
	                      {"removed", {{"type", "boolean"}}}}},
	                    {"required", json::array({"upserted", "deleted"})}};
	schemas["Changes"] = {{"type", "object"},
	                      {"description", "the changes after a version as one delta per key (store_changes)"},
	                      {"properties",
	                       {{"version", ref("schemas", "Version")},
	                        {"reload", {{"type", "boolean"}}},
	                        {"more", {{"type", "boolean"}}},
	                        {"changes", {{"type", "object"}, {"additionalProperties", key_changes}}}}},
	                      {"required", json::array({"version", "reload"})}};
	schemas["ChangeSet"] = {
	    {"type", "object"},
	    {"description", "a ChangeSet for store_apply: changes to several keys, applied in one transaction"},
	    {"properties",
	     {{"changes",
	       {{"type", "array"},
	        {"items",
	         {{"type", "object"},
	          {"properties",
	           {{"op", {{"type", "string"}, {"enum", json::array({"add", "update", "delete"})}}},
	            {"entityName", {{"type", "string"}}},
	            {"entities", {{"type", "array"}}}}},
	          {"required", json::array({"op", "entityName", "entities"})}}}}},
	      {"clientId", {{"type", "string"}}},
	      {"mutationId", {{"type", "integer"}}}}},
	    {"required", json::array({"changes"})}};
	schemas["ApplyResult"] = {{"type", "object"}, {"description", "store_apply's answer"}};
	return schemas;
}

// The schema of a key's document with nothing required (bodies of POST and PATCH).
json
partial(const json &schema)
{
	json p = schema;
	if (p.is_object())
		p.erase("required");
	return p;
}

// The paths of one key: /store/<key>/ (read the key, create a document) and /store/<key>/{id}/.
void
add_key_paths(json &paths, const std::string &key, const json &description)
{
	json doc = ref("schemas", key);
	json snapshot = {
	    {"type", "object"},
	    {"properties", {{key, {{"type", "array"}, {"items", doc}}}, {"version", ref("schemas", "Version")}}},
	    {"required", json::array({key, "version"})}};
	json created = json_response("the document created", doc, false);
	created["headers"] = {{"Location", {{"description", "the document's URL"}, {"schema", {{"type", "string"}}}}}};
	paths["/store/" + key + "/"] = {
	    {"get",
	     {{"operationId", "snapshot_" + key},
	      {"summary", "every document of " + key + " (store_snapshot)"},
	      {"tags", json::array({key})},
	      {"responses", read_responses("the key's documents in id order, and the version", snapshot)}}},
	    {"post",
	     {{"operationId", "create_" + key},
	      {"summary", "creates a document of " + key + " (store_apply)"},
	      {"tags", json::array({key})},
	      {"requestBody",
	       body("the document's fields (omitted ones take their defaults)", partial(description["schema"]))},
	      {"responses", {{"201", created}, {"default", ref("responses", "Error")}}}}}};
	std::string columns;
	for (const auto &c : description["id"]["columns"])
		columns += (columns.empty() ? "" : ", ") + (c.is_string() ? c.get<std::string>() : c.dump());
	json id = {{"name", "id"},
	           {"in", "path"},
	           {"required", true},
	           {"description", "the document's id (" + columns +
	                               ") as text, e.g. 42; a composite id is its JSON array, e.g. [1,\"a\"], URL-encoded"},
	           {"schema", {{"type", "string"}}}};
	json ok = {{"200", json_response("the document", doc, false)}, {"default", ref("responses", "Error")}};
	paths["/store/" + key + "/{id}/"] = {
	    {"parameters", json::array({id})},
	    {"get",
	     {{"operationId", "get_" + key},
	      {"summary", "one document of " + key + " (store_get); 404 when there is none"},
	      {"tags", json::array({key})},
	      {"responses", read_responses("the document", doc)}}},
	    {"put",
	     {{"operationId", "replace_" + key},
	      {"summary", "replaces a document of " + key + " (store_apply)"},
	      {"tags", json::array({key})},
	      {"requestBody", body("the whole document", description["schema"])},
	      {"responses", ok}}},
	    {"patch",
	     {{"operationId", "update_" + key},
	      {"summary", "updates fields of a document of " + key + " (store_apply)"},
	      {"tags", json::array({key})},
	      {"requestBody", body("the fields to change", partial(description["schema"]))},
	      {"responses", ok}}},
	    {"delete",
	     {{"operationId", "delete_" + key},
	      {"summary", "deletes a document of " + key + " (store_apply)"},
	      {"tags", json::array({key})},
	      {"responses", {{"204", {{"description", "deleted"}}}, {"default", ref("responses", "Error")}}}}}};
}

// The routes that do not depend on the keys.
void
add_store_paths(json &paths)
{
	json after = query("after", true, "the version to read the changes after ('0' for all)", ref("schemas", "Version"));
	json history = read_responses("the changes after the version, in the order they were written",
	                              {{"type", "array"}, {"items", ref("schemas", "HistoryRow")}});
	paths["/store/history/"] = {
	    {"get",
	     {{"operationId", "history"},
	      {"summary", "every change after a version (store_history)"},
	      {"parameters", json::array({after, query("since", false, "the same as after (the original's name)",
	                                               ref("schemas", "Version"))})},
	      {"responses", history}}}};
	paths["/store/history/"]["get"]["parameters"][0]["required"] = false;
	paths["/store/history/"]["get"]["parameters"][0]["description"] =
	    "the version to read the changes after (or since)";
	paths["/store/changes/"] = {
	    {"get",
	     {{"operationId", "changes"},
	      {"summary", "the changes after a version as one delta per key (store_changes), a page at a time"},
	      {"parameters", json::array({after, query("max_changes", false, "about how many history rows a page holds",
	                                               {{"type", "integer"}, {"minimum", 1}})})},
	      {"responses", read_responses("a page of changes", ref("schemas", "Changes"))}}}};
	json event = {{"type", "string"},
	              {"description", "Server-Sent Events: id = a version, data = {\"version\": V, \"keys\": [...]}"}};
	paths["/store/events"] = {
	    {"get",
	     {{"operationId", "events"},
	      {"summary", "live: an event for each new version (Server-Sent Events)"},
	      {"parameters", json::array({query("after", false, "resume after this version (or the Last-Event-ID header)",
	                                        ref("schemas", "Version")),
	                                  {{"name", "Last-Event-ID"},
	                                   {"in", "header"},
	                                   {"required", false},
	                                   {"description", "the last event's id, sent by EventSource when it reconnects"},
	                                   {"schema", ref("schemas", "Version")}}})},
	      {"responses",
	       {{"200", {{"description", "the event stream"}, {"content", {{"text/event-stream", {{"schema", event}}}}}}},
	        {"default", ref("responses", "Error")}}}}}};
	paths["/store/ws"] = {
	    {"get",
	     {{"operationId", "events_websocket"},
	      {"summary",
	       "live: the same events as text messages over a WebSocket (pings; close 1001 when the server stops)"},
	      {"parameters", json::array({query("after", false, "resume after this version", ref("schemas", "Version"))})},
	      {"responses",
	       {{"101", {{"description", "switching to the WebSocket protocol"}}},
	        {"default", ref("responses", "Error")}}}}}};
	paths["/openapi.json"] = {{"get",
	                           {{"operationId", "openapi"},
	                            {"summary", "this document, as the caller's role sees the store"},
	                            {"responses", read_responses("the OpenAPI 3.1 document", {{"type", "object"}})}}}};
}

// The components besides schemas: the error response, 304, the read headers, bearer JWT.
json
components(json schemas)
{
	return {
	    {"schemas", std::move(schemas)},
	    {"responses",
	     {{"Error",
	       json_response("an error: the status follows the SQLSTATE as in PostgREST", ref("schemas", "Error"), false)},
	      {"NotModified",
	       {{"description", "the caller has this version (If-None-Match)"},
	        {"headers", {{"ETag", ref("headers", "ETag")}, {"X-Store-Version", ref("headers", "X-Store-Version")}}}}}}},
	    {"headers",
	     {{"ETag", {{"description", "a weak ETag: the version, per role"}, {"schema", {{"type", "string"}}}}},
	      {"X-Store-Version", {{"description", "the store version of the answer"}, {"schema", {{"type", "string"}}}}}}},
	    {"securitySchemes",
	     {{"bearer",
	       {{"type", "http"},
	        {"scheme", "bearer"},
	        {"bearerFormat", "JWT"},
	        {"description", "the token's role claim picks the database role; no token: the anonymous role"}}}}}};
}

} // namespace

std::string
openapi_document(const std::string &describe)
{
	json keys = json::parse(describe, nullptr, false);
	if (!keys.is_object())
		keys = json::object();
	json snapshot_properties = json::object(), snapshot_required = json::array(), paths = json::object();
	json schemas = json::object();
	json key_schemas = json::object();
	for (auto &[key, description] : keys.items()) {
		if (!description.is_object() || !description.contains("schema") || !description.contains("id"))
			continue;
		key_schemas[key] = description["schema"];
		key_schemas[key + ".id"] = description["id"]["schema"];
		snapshot_properties[key] = {{"type", "array"}, {"items", ref("schemas", key)}};
		snapshot_required.push_back(key);
	}
	snapshot_properties["version"] = ref("schemas", "Version");
	snapshot_required.push_back("version");
	schemas = fixed_schemas(snapshot_properties, snapshot_required);
	for (auto &[name, schema] : key_schemas.items())
		schemas[name] = schema;
	paths["/store/"] = {
	    {"get",
	     {{"operationId", "snapshot"},
	      {"summary", "the whole store (store_snapshot), streamed; gzip when asked"},
	      {"responses", read_responses("every key the caller may read, and the version", ref("schemas", "Snapshot"))}}},
	    {"post",
	     {{"operationId", "apply"},
	      {"summary", "applies a ChangeSet in one transaction (store_apply); 409 with the conflicts"},
	      {"requestBody", body("the ChangeSet", ref("schemas", "ChangeSet"))},
	      {"responses",
	       {{"200", json_response("the result", ref("schemas", "ApplyResult"), false)},
	        {"default", ref("responses", "Error")}}}}}};
	for (auto &[key, description] : keys.items())
		if (key_schemas.contains(key))
			add_key_paths(paths, key, description);
	add_store_paths(paths);
	json doc = {{"openapi", "3.1.0"},
	            {"info",
	             {{"title", "store-http"},
	              {"version", api_version},
	              {"description", "The store over HTTP: the keys this caller's role may read, their documents "
	                              "and changes. Generated from the registrations (store_describe)."}}},
	            {"jsonSchemaDialect", "https://json-schema.org/draft/2020-12/schema"},
	            {"security", json::array({{{"bearer", json::array()}}, json::object()})},
	            {"paths", paths},
	            {"components", components(schemas)}};
	return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace gw
