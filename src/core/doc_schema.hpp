// store core: the JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) of a key's documents
// and ids, for store_describe. It follows what to_json renders for each column type (documents
// are to_json of the row, or json_build_object of to_json values for nested keys):
// - boolean: true/false; smallint, integer, bigint: integers; real, double precision, numeric:
//   numbers, or the strings "NaN", "Infinity", "-Infinity";
// - date: "2026-01-02" (format date); timestamptz: "2026-01-02T03:04:05+00:00" (format
//   date-time); timestamp: "2026-01-02T03:04:05" (no offset: format "timestamp without time
//   zone", PostgreSQL's name, as for every other type without a standard format);
// - json, jsonb, and types with their own cast to json: any JSON value ({});
// - arrays: arrays of their element (elements may be null); composites: objects of their
//   attributes (all present, each nullable); enums: one of their labels; anything else: the
//   string its output function prints (uuid: format uuid).
// A value is nullable ("type": [..., "null"]) unless its column or a domain over its type is NOT
// NULL. An object lists every key as required: documents always carry every key.
// Nested documents follow the resolved shape: arrays for one-to-many and many-to-many, objects or
// null for many-to-one and one-to-one.
#pragma once

#include "core/shape_resolve.hpp"

#include <string>
#include <utility>
#include <vector>

namespace store::core {

// How to_json renders a type (see above).
enum class JsonKind {
	kAny,         // json, jsonb, a type with a cast to json: any JSON value
	kBoolean,     // boolean
	kInteger,     // smallint, integer, bigint
	kNumber,      // real, double precision, numeric (NaN and infinities as strings)
	kString,      // its output text
	kDate,        // date (XSD format)
	kTimestamp,   // timestamp without time zone (XSD format, no offset)
	kTimestampTz, // timestamp with time zone (XSD format, UTC offset)
	kArray,       // an array of element[0]
	kObject,      // a composite: attributes
	kEnum,        // an enum: one of labels
};

// A column's (or attribute's, or element's) type as the schema needs it.
struct ColumnType {
	JsonKind kind = JsonKind::kAny;
	std::string name;                                           // format_type of the (base) type
	bool not_null = false;                                      // NOT NULL column or domain
	std::vector<std::string> labels;                            // kEnum, in sort order
	std::vector<std::pair<std::string, ColumnType>> attributes; // kObject, in attribute order
	std::vector<ColumnType> element;                            // kArray: exactly one
};

// Column types of tables, as the schema reads them (the glue reads the catalog; tests fake it).
class TypeCatalog {
public:
	virtual ~TypeCatalog() = default;
	// The type of table's column attnum (a live column).
	virtual ColumnType Column(CatalogOid table, int attnum) = 0;
};

// The JSON Schema of one value of type (nullable unless type.not_null).
std::string ValueSchema(const ColumnType &type);

// A flat key's documents as a one-node resolved shape: table's chosen columns (attnums, as
// store.keys.column_numbers holds them), in that order, or all of its live columns when attnums is
// empty. A chosen column the table lacks: Error 42703.
ResolvedShape FlatShape(const CatalogTable &table, const std::vector<int> &attnums);

// The JSON Schema of one document of shape.
std::string DocumentSchema(const ResolvedShape &shape, TypeCatalog &types);

// The id of root's documents: {"columns": [names], "schema": <JSON Schema of the id value>}: the
// primary-key column's value, or for a composite key the array of its columns' values.
std::string IdDescription(const CatalogTable &root, TypeCatalog &types);

// One key's description: {"nested": nested, "id": IdDescription, "schema": DocumentSchema}.
std::string KeyDescription(const ResolvedShape &shape, const CatalogTable &root, bool nested, TypeCatalog &types);

} // namespace store::core
