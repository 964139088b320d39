// GET /openapi.json: the OpenAPI 3.1 document of store-http, built from store_describe()'s answer
// (the keys the caller may read, each with its id and the JSON Schema 2020-12 of its documents),
// so every caller gets the API as its role sees it (no I/O).
#pragma once

#include <string>

namespace gw {

// The OpenAPI 3.1 document (JSON text) for describe, the text of store_describe():
// {"<key>": {"nested": b, "id": {"columns": [...], "schema": S}, "schema": S}, ...}. Paths: /store/,
// /store/<key>/ and /store/<key>/{id}/ per key (reads and writes), /store/history/,
// /store/changes/, /store/events and /openapi.json; components.schemas: one per key (its document),
// "<key>.id" (its id as JSON), Error, Snapshot, HistoryRow, Changes, ChangeSet; bearer JWT security
// (optional: no token means the anonymous role). A describe that is not a JSON object counts as no keys.
std::string openapi_document(const std::string &describe);

} // namespace gw
