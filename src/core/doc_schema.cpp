// store core: JSON Schema of documents and ids (doc_schema.hpp).
#include "core/doc_schema.hpp"
#include "core/error.hpp"
#include "core/payload.hpp"

#include <string_view>

namespace store::core {

namespace {

constexpr const char *kUndefinedColumn = "42703";

// "type": "<name>", or "type": ["<name>", "null"] when nullable.
std::string
TypeField(std::string_view name, bool nullable)
{
	std::string type = JsonString(name);
	return "\"type\":" + (nullable ? "[" + type + ",\"null\"]" : type);
}

// The OpenAPI format of a string type, or "" for plain text types (text, varchar, char, name).
std::string
StringFormat(const std::string &name)
{
	if (name == "text" || name == "name" || name == "\"char\"" || name.rfind("character", 0) == 0)
		return "";
	return name;
}

// The OpenAPI format of an integer type.
std::string
IntegerFormat(const std::string &name)
{
	if (name == "smallint")
		return "int16";
	if (name == "integer")
		return "int32";
	if (name == "bigint")
		return "int64";
	return name;
}

// The OpenAPI format of a number type ("" for numeric).
std::string
NumberFormat(const std::string &name)
{
	if (name == "real")
		return "float";
	if (name == "double precision")
		return "double";
	return name.rfind("numeric", 0) == 0 ? "" : name;
}

// A string-typed schema with an optional format.
std::string
StringSchema(const std::string &format, bool nullable)
{
	std::string out = "{" + TypeField("string", nullable);
	if (!format.empty())
		out += ",\"format\":" + JsonString(format);
	return out + "}";
}

// {"type":"object","properties":{...},"required":[...]} of (key, schema) pairs.
std::string
ObjectSchema(const std::vector<std::pair<std::string, std::string>> &properties, bool nullable)
{
	std::string out = "{" + TypeField("object", nullable) + ",\"properties\":{";
	std::string required;
	for (size_t i = 0; i < properties.size(); i++) {
		out += (i > 0 ? "," : "") + JsonString(properties[i].first) + ":" + properties[i].second;
		required += (i > 0 ? "," : "") + JsonString(properties[i].first);
	}
	return out + "},\"required\":[" + required + "]}";
}

// A number: {"anyOf": [number, the special values as strings (, null)]}.
std::string
NumberSchema(const std::string &format, bool nullable)
{
	std::string number = "{\"type\":\"number\"";
	if (!format.empty())
		number += ",\"format\":" + JsonString(format);
	number += "}";
	return "{\"anyOf\":[" + number + ",{\"type\":\"string\",\"enum\":[\"NaN\",\"Infinity\",\"-Infinity\"]}" +
	       (nullable ? ",{\"type\":\"null\"}" : "") + "]}";
}

// An enum: one of its labels (or null).
std::string
EnumSchema(const std::vector<std::string> &labels, bool nullable)
{
	std::string out = "{" + TypeField("string", nullable) + ",\"enum\":[";
	for (size_t i = 0; i < labels.size(); i++)
		out += (i > 0 ? "," : "") + JsonString(labels[i]);
	return out + (nullable ? (labels.empty() ? "null" : ",null") : "") + "]}";
}

// The JSON Schema of one object of node (nullable for a to-one embedding).
std::string
NodeSchema(const ResolvedNode &node, bool nullable, TypeCatalog &types)
{
	std::vector<std::pair<std::string, std::string>> properties;
	for (const ResolvedField &field : node.fields) {
		if (field.child < 0) {
			properties.emplace_back(field.key, ValueSchema(types.Column(node.table, field.attnum)));
			continue;
		}
		const ResolvedNode &child = node.children[static_cast<size_t>(field.child)];
		std::string schema = child.IsArray() ? "{\"type\":\"array\",\"items\":" + NodeSchema(child, false, types) + "}"
		                                     : NodeSchema(child, true, types);
		properties.emplace_back(field.key, schema);
	}
	return ObjectSchema(properties, nullable);
}

} // namespace

std::string
ValueSchema(const ColumnType &type)
{
	bool nullable = !type.not_null;
	switch (type.kind) {
	case JsonKind::kAny:
		return "{}";
	case JsonKind::kBoolean:
		return "{" + TypeField("boolean", nullable) + "}";
	case JsonKind::kInteger:
		return "{" + TypeField("integer", nullable) + ",\"format\":" + JsonString(IntegerFormat(type.name)) + "}";
	case JsonKind::kNumber:
		return NumberSchema(NumberFormat(type.name), nullable);
	case JsonKind::kString:
		return StringSchema(StringFormat(type.name), nullable);
	case JsonKind::kDate:
		return StringSchema("date", nullable);
	case JsonKind::kTimestamp:
		return StringSchema("timestamp without time zone", nullable);
	case JsonKind::kTimestampTz:
		return StringSchema("date-time", nullable);
	case JsonKind::kArray:
		return "{" + TypeField("array", nullable) +
		       ",\"items\":" + (type.element.empty() ? std::string("{}") : ValueSchema(type.element.front())) + "}";
	case JsonKind::kObject: {
		std::vector<std::pair<std::string, std::string>> properties;
		for (const auto &attribute : type.attributes)
			properties.emplace_back(attribute.first, ValueSchema(attribute.second));
		return ObjectSchema(properties, nullable);
	}
	case JsonKind::kEnum:
		return EnumSchema(type.labels, nullable);
	}
	return "{}";
}

ResolvedShape
FlatShape(const CatalogTable &table, const std::vector<int> &attnums)
{
	ResolvedShape shape;
	shape.root.table = table.oid;
	shape.root.table_sql = table.SqlName();
	if (attnums.empty()) {
		for (const CatalogColumn &column : table.columns)
			shape.root.fields.push_back({column.name, column.attnum, column.sql_name, -1});
		return shape;
	}
	for (int attnum : attnums) {
		const CatalogColumn *column = table.Column(attnum);
		if (column == nullptr)
			throw Error(kUndefinedColumn,
			            "column number " + std::to_string(attnum) + " of table " + table.SqlName() + " does not exist");
		shape.root.fields.push_back({column->name, column->attnum, column->sql_name, -1});
	}
	return shape;
}

std::string
DocumentSchema(const ResolvedShape &shape, TypeCatalog &types)
{
	return NodeSchema(shape.root, false, types);
}

std::string
IdDescription(const CatalogTable &root, TypeCatalog &types)
{
	std::string names, schemas;
	for (size_t i = 0; i < root.primary_key.size(); i++) {
		const CatalogColumn *column = root.Column(root.primary_key[i]);
		ColumnType type = types.Column(root.oid, root.primary_key[i]);
		type.not_null = true; // primary-key columns are NOT NULL
		names += (i > 0 ? "," : "") + JsonString(column != nullptr ? column->name : std::string());
		schemas += (i > 0 ? "," : "") + ValueSchema(type);
	}
	std::string schema = schemas;
	if (root.primary_key.size() != 1) {
		std::string count = std::to_string(root.primary_key.size());
		schema = "{\"type\":\"array\",\"prefixItems\":[" + schemas + "],\"items\":false,\"minItems\":" + count +
		         ",\"maxItems\":" + count + "}";
	}
	return "{\"columns\":[" + names + "],\"schema\":" + schema + "}";
}

std::string
KeyDescription(const ResolvedShape &shape, const CatalogTable &root, bool nested, TypeCatalog &types)
{
	return std::string("{\"nested\":") + (nested ? "true" : "false") + ",\"id\":" + IdDescription(root, types) +
	       ",\"schema\":" + DocumentSchema(shape, types) + "}";
}

} // namespace store::core
