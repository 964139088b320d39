// Writes over HTTP as store_apply ChangeSets, and reading store_apply's answers (no I/O).
#pragma once

#include <string>

namespace gw {

enum class WriteKind { Create, Replace, Update, Delete, ChangeSet };

// The ChangeSet to apply for a request, or an error for a malformed body.
struct WritePlan {
	bool ok = false;
	std::string error;      // when !ok
	std::string changeset;  // store_apply's input
	std::string id_text;    // Replace/Update/Delete: the id from the URL; Create: the id given in the body (if any)
	bool temporary = false; // Create without an id: the key comes from its column default ($tmp "new")
};

// Builds the ChangeSet of a write to key (id from the URL for Replace/Update/Delete) with a JSON body.
WritePlan plan_write(WriteKind kind, const std::string &key, const std::string &id, const std::string &body);

// What store_apply's answer means for the request.
struct WriteOutcome {
	int status = 200;     // 200/201/204 (204 too when a trigger skipped the row); 404 when not found; 409 on a conflict
	std::string id_text;  // the document's id as text (for Location), when one was written
	std::string document; // the written document as the answer shows it (jsonb order); "" when not readable
};

// Reads store_apply's answer (jsonb text) for a planned write to key.
WriteOutcome read_apply_answer(WriteKind kind, const WritePlan &plan, const std::string &answer,
                               const std::string &key = "");

// The id of a document as the URL and store_get take it: strings as they are, numbers and arrays as JSON.
std::string id_text_of_json(const std::string &json_value);

// The id's JSON for a ChangeSet entity: a JSON array stays an array, anything else is a string
// (nlohmann::json::exception for text that is not UTF-8).
std::string id_json_of_text(const std::string &id_text);

// The URL of a document: /store/<key>/<id>/ with the key and the id percent-encoded.
std::string document_location(const std::string &key, const std::string &id_text);

// Why a write's body cannot be read (415), from its Content-Type and Content-Encoding; "" when it can.
// JSON only: application/json or application/<anything>+json, parameters allowed; no Content-Type (or no
// body) passes. No content coding but identity (an encoded body would be parsed as it is).
std::string unsupported_body(const std::string &content_type, const std::string &content_encoding, bool has_body);

} // namespace gw
