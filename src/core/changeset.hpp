// store core: the @ngrx/data ChangeSet that store_apply takes, parsed and checked into a plan of
// statements over the keys' source tables. PostgreSQL-free: the glue looks the tables up, runs
// the statements (SPI) and turns the plan's errors (Error, SQLSTATE 22023/42703) into ereport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace store::core {

// A JSON value that keeps numbers as their exact text (numeric columns lose nothing) and object
// members in their order.
struct JsonValue {
	enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
	Kind kind = Kind::kNull;
	bool boolean = false;
	std::string text; // a number's text, or a string's (unescaped) content
	std::vector<JsonValue> items;
	std::vector<std::pair<std::string, JsonValue>> members;

	// The member named name, or nullptr (also for a non-object).
	const JsonValue *Find(std::string_view name) const;
	bool operator==(const JsonValue &other) const;
	bool
	operator!=(const JsonValue &other) const
	{
		return !(*this == other);
	}
};

// Longest "clientId" (bytes) a ChangeSet may carry: its replay record is indexed with the role's
// name, and a longer one would not fit a btree entry (refused as 22023, not a 54000 about an index).
constexpr std::size_t kMaxClientIdBytes = 1000;

// Deepest nesting ParseJson accepts (deeper input is refused as 22023, never overflows the stack).
constexpr int kMaxJsonDepth = 500;

// Parses JSON text; throws Error 22023 when it is not one well-formed JSON value.
JsonValue ParseJson(std::string_view text);

// Renders a value as compact JSON text (numbers as they were given).
std::string RenderJson(const JsonValue &value);

// The four ChangeSet operations (ngrx/data's ChangeSetOperation, any letter case).
enum class ChangeOp { kAdd, kUpdate, kUpsert, kDelete };

// The lower-case name of an operation.
const char *ChangeOpName(ChangeOp op);

// One entity of a change. add/upsert: fields = the object minus "$expect"; update: id + fields =
// "changes"; delete: id. tmp names the "$tmp" of an add's id (field tmp_field holds it).
struct ChangeEntity {
	std::optional<JsonValue> id;
	JsonValue fields;                // an object (empty for delete)
	std::optional<JsonValue> expect; // "$expect": an object of field -> value
	std::string tmp;                 // "$tmp" name of an add, or empty
	std::string tmp_field;           // the field that held it
	std::vector<std::string> refs;   // the "$ref" names the entity uses (checked to be earlier)
};

// One change: an operation over one store key.
struct Change {
	ChangeOp op;
	std::string entity_name;
	std::vector<ChangeEntity> entities;
};

// A parsed ChangeSet.
struct ChangeSet {
	std::vector<Change> changes;
	std::optional<JsonValue> tag;
	std::optional<std::string> client_id;
	std::optional<std::int64_t> mutation_id;
};

// Parses and checks a ChangeSet: its shape, the operations, every "$tmp" defined once (add only,
// as an id) and every "$ref" naming a "$tmp" of an earlier entity. Errors are 22023 and name the
// change and entity index.
ChangeSet ParseChangeSet(std::string_view json_text);

// A column of a key's source table, as the glue found it.
struct ApplyColumn {
	std::string name; // unquoted
	bool primary_key = false;
	bool writable = false; // one of the key's chosen columns (every column when the key has none)
	std::string equality;  // for a key column: the "OPERATOR(schema.=)" of its type
	std::string type;      // its type as SQL, schema-qualified, with its modifier ("numeric(10,2)")
};

// The key's source table: its quoted, schema-qualified name and columns (key columns in key order).
struct ApplyTable {
	std::string key;
	std::string relation;
	std::vector<ApplyColumn> columns;
	std::vector<std::size_t> primary_key; // indexes into columns, in the key's order
};

// A statement for SPI: parameter $1 is the values object (jsonb), $2 the key object (jsonb; an
// update's key is in its values object: its key is empty).
// It runs under the caller's settings (its values are read as the caller wrote them); what it
// returns (raw columns) is turned into text by render, a query run under the store's canonical
// output settings (canonical.hpp) with the returned row's columns as $1..$n and, when
// render_value is set, that JSON text as $n+1: so ids and $expect comparisons see values as
// documents show them, whatever the caller's TimeZone or extra_float_digits.
struct ApplyStatement {
	std::string sql;
	std::string values;       // JSON text of $1
	std::string key;          // JSON text of $2 (empty when the statement has no $2)
	bool returns_id = false;  // returns the row's key columns (only an add of a "$tmp": RETURNING needs SELECT)
	std::string render;       // SQL rendering the first returned row (empty: none)
	std::string render_value; // JSON text of render's last parameter (empty: none)
};

// The statements of one entity: the optional "$expect" check (SELECT ... FOR UPDATE returning
// the expected columns, render comparing them, as documents show them, with the expected values:
// one boolean) and the write (absent for an update without changes).
struct EntityPlan {
	std::optional<ApplyStatement> check;
	std::optional<ApplyStatement> write;
	std::optional<JsonValue> id; // the entity's id as in documents (absent for an add of a $tmp)
};

// Replaces every {"$ref": name} inside value with ids[name] (all checked by ParseChangeSet).
JsonValue ResolveRefs(const JsonValue &value, const std::map<std::string, JsonValue> &ids);

// Plans one entity (its $refs already resolved) of change `change` at index `index`. Throws
// 42703 for a field the key does not hold, 22023 for a malformed id or a key column in changes.
EntityPlan PlanEntity(const ApplyTable &table, ChangeOp op, const ChangeEntity &entity, std::size_t change,
                      std::size_t index);

// A SQL identifier in double quotes (always quoted: never a keyword, case kept).
std::string QuoteIdentifier(std::string_view name);

// Whether an error a statement raised after the batch found a conflict still raises (true) or
// ends the batch as not applied, with the conflicts found so far (false). Errors in the
// change's values raise as they do without a conflict (data exceptions 22: a value its column's
// type does not read, 22P02, or cannot hold, 22003), as do errors about the session or the
// server (connection 08, transaction state 25, rollback 40 (deadlock, serialization), resources
// 53, limits 54, locks and prerequisites 55, cancel and shutdown 57, system 58, configuration F0,
// internal XX); any other one may come from a write the conflict skipped, so it is no reason to
// raise. sqlstate: five characters.
bool RaisesAfterConflict(std::string_view sqlstate);

// "change C, entity E": how messages and DETAILs name a place in the ChangeSet.
std::string ChangePlace(std::size_t change, std::size_t index);

} // namespace store::core
