// store core: parsing a ChangeSet and planning its statements (see changeset.hpp).
#include "core/changeset.hpp"
#include "core/error.hpp"
#include "core/payload.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

namespace {

constexpr const char *kMalformed = sqlstate::kInvalidParameterValue;
constexpr const char *kUndefinedColumn = "42703";

// A recursive-descent JSON parser over text, refusing anything but one RFC 8259 value.
class JsonParser {
public:
	explicit JsonParser(std::string_view text) : text_(text) {}

	// The one value of the whole text.
	JsonValue
	ParseDocument()
	{
		JsonValue value = ParseValue(0);
		SkipSpace();
		if (pos_ != text_.size())
			Fail("unexpected text after the JSON value");
		return value;
	}

private:
	[[noreturn]] void
	Fail(const std::string &what) const
	{
		throw Error(kMalformed, "invalid JSON at offset " + std::to_string(pos_) + ": " + what);
	}

	void
	SkipSpace()
	{
		while (pos_ < text_.size() &&
		       (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
			pos_++;
	}

	// Consumes word (true, false, null) or fails.
	void
	Expect(std::string_view word)
	{
		if (text_.substr(pos_, word.size()) != word)
			Fail("unexpected character");
		pos_ += word.size();
	}

	JsonValue
	ParseValue(int depth)
	{
		if (depth > kMaxJsonDepth)
			Fail("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
		SkipSpace();
		if (pos_ >= text_.size())
			Fail("unexpected end");
		JsonValue value;
		char c = text_[pos_];
		if (c == '{') {
			value.kind = JsonValue::Kind::kObject;
			pos_++;
			SkipSpace();
			if (pos_ < text_.size() && text_[pos_] == '}') {
				pos_++;
				return value;
			}
			for (;;) {
				SkipSpace();
				if (pos_ >= text_.size() || text_[pos_] != '"')
					Fail("expected a member name");
				std::string name = ParseString();
				SkipSpace();
				if (pos_ >= text_.size() || text_[pos_] != ':')
					Fail("expected ':'");
				pos_++;
				value.members.emplace_back(std::move(name), ParseValue(depth + 1));
				SkipSpace();
				if (pos_ < text_.size() && text_[pos_] == ',') {
					pos_++;
					continue;
				}
				if (pos_ < text_.size() && text_[pos_] == '}') {
					pos_++;
					return value;
				}
				Fail("expected ',' or '}'");
			}
		}
		if (c == '[') {
			value.kind = JsonValue::Kind::kArray;
			pos_++;
			SkipSpace();
			if (pos_ < text_.size() && text_[pos_] == ']') {
				pos_++;
				return value;
			}
			for (;;) {
				value.items.push_back(ParseValue(depth + 1));
				SkipSpace();
				if (pos_ < text_.size() && text_[pos_] == ',') {
					pos_++;
					continue;
				}
				if (pos_ < text_.size() && text_[pos_] == ']') {
					pos_++;
					return value;
				}
				Fail("expected ',' or ']'");
			}
		}
		if (c == '"') {
			value.kind = JsonValue::Kind::kString;
			value.text = ParseString();
			return value;
		}
		if (c == 't' || c == 'f') {
			value.kind = JsonValue::Kind::kBool;
			value.boolean = c == 't';
			Expect(value.boolean ? "true" : "false");
			return value;
		}
		if (c == 'n') {
			Expect("null");
			return value;
		}
		value.kind = JsonValue::Kind::kNumber;
		value.text = ParseNumber();
		return value;
	}

	// Digits, at least one.
	void
	Digits()
	{
		std::size_t start = pos_;
		while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])))
			pos_++;
		if (pos_ == start)
			Fail("expected a digit");
	}

	std::string
	ParseNumber()
	{
		std::size_t start = pos_;
		if (text_[pos_] == '-')
			pos_++;
		if (pos_ < text_.size() && text_[pos_] == '0')
			pos_++;
		else
			Digits();
		if (pos_ < text_.size() && text_[pos_] == '.') {
			pos_++;
			Digits();
		}
		if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
			pos_++;
			if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
				pos_++;
			Digits();
		}
		return std::string(text_.substr(start, pos_ - start));
	}

	// Four hex digits of a \u escape.
	unsigned
	Hex4()
	{
		if (pos_ + 4 > text_.size())
			Fail("short \\u escape");
		unsigned code = 0;
		for (int i = 0; i < 4; i++) {
			char h = text_[pos_++];
			code <<= 4;
			if (h >= '0' && h <= '9')
				code |= h - '0';
			else if (h >= 'a' && h <= 'f')
				code |= h - 'a' + 10;
			else if (h >= 'A' && h <= 'F')
				code |= h - 'A' + 10;
			else
				Fail("bad \\u escape");
		}
		return code;
	}

	static void
	AppendUtf8(std::string &out, unsigned code)
	{
		if (code < 0x80) {
			out += static_cast<char>(code);
		} else if (code < 0x800) {
			out += static_cast<char>(0xC0 | (code >> 6));
			out += static_cast<char>(0x80 | (code & 0x3F));
		} else if (code < 0x10000) {
			out += static_cast<char>(0xE0 | (code >> 12));
			out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
			out += static_cast<char>(0x80 | (code & 0x3F));
		} else {
			out += static_cast<char>(0xF0 | (code >> 18));
			out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
			out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
			out += static_cast<char>(0x80 | (code & 0x3F));
		}
	}

	// A string literal at pos_ (on its opening quote), unescaped.
	std::string
	ParseString()
	{
		pos_++;
		std::string out;
		for (;;) {
			if (pos_ >= text_.size())
				Fail("unterminated string");
			char c = text_[pos_++];
			if (c == '"')
				return out;
			if (static_cast<unsigned char>(c) < 0x20)
				Fail("control character in a string");
			if (c != '\\') {
				out += c;
				continue;
			}
			if (pos_ >= text_.size())
				Fail("unterminated string");
			char e = text_[pos_++];
			switch (e) {
			case '"':
			case '\\':
			case '/':
				out += e;
				break;
			case 'b':
				out += '\b';
				break;
			case 'f':
				out += '\f';
				break;
			case 'n':
				out += '\n';
				break;
			case 'r':
				out += '\r';
				break;
			case 't':
				out += '\t';
				break;
			case 'u': {
				unsigned code = Hex4();
				if (code >= 0xD800 && code <= 0xDBFF) {
					if (text_.substr(pos_, 2) != "\\u")
						Fail("lone surrogate");
					pos_ += 2;
					unsigned low = Hex4();
					if (low < 0xDC00 || low > 0xDFFF)
						Fail("lone surrogate");
					code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
				} else if (code >= 0xDC00 && code <= 0xDFFF) {
					Fail("lone surrogate");
				}
				AppendUtf8(out, code);
				break;
			}
			default:
				Fail("bad escape");
			}
		}
	}

	std::string_view text_;
	std::size_t pos_ = 0;
};

void
RenderInto(const JsonValue &value, std::string &out)
{
	switch (value.kind) {
	case JsonValue::Kind::kNull:
		out += "null";
		return;
	case JsonValue::Kind::kBool:
		out += value.boolean ? "true" : "false";
		return;
	case JsonValue::Kind::kNumber:
		out += value.text;
		return;
	case JsonValue::Kind::kString:
		out += JsonString(value.text);
		return;
	case JsonValue::Kind::kArray:
		out += '[';
		for (std::size_t i = 0; i < value.items.size(); i++) {
			if (i > 0)
				out += ',';
			RenderInto(value.items[i], out);
		}
		out += ']';
		return;
	case JsonValue::Kind::kObject:
		out += '{';
		for (std::size_t i = 0; i < value.members.size(); i++) {
			if (i > 0)
				out += ',';
			out += JsonString(value.members[i].first);
			out += ':';
			RenderInto(value.members[i].second, out);
		}
		out += '}';
		return;
	}
}

// Throws 22023 naming the place of the entity (or of the change, when index is npos).
[[noreturn]] void
Malformed(std::size_t change, std::size_t index, const std::string &what)
{
	std::string place = index == std::string::npos ? "change " + std::to_string(change) : ChangePlace(change, index);
	throw Error(kMalformed, "malformed change set: " + place + ": " + what,
	            "A change set is {\"changes\": [{\"op\": \"add\"|\"update\"|\"upsert\"|\"delete\", \"entityName\": "
	            "key, \"entities\": [...]}, ...]} (see store_apply in the README).");
}

// True for {"$tmp": ...}, {"$ref": ...} (any object holding such a member).
bool
HasMember(const JsonValue &value, std::string_view name)
{
	return value.Find(name) != nullptr;
}

// The name of a {"$tmp": "name"} or {"$ref": "name"} marker; 22023 unless it is exactly that.
std::string
MarkerName(const JsonValue &value, std::string_view marker, std::size_t change, std::size_t index)
{
	const JsonValue *name = value.Find(marker);
	if (value.members.size() != 1 || name->kind != JsonValue::Kind::kString || name->text.empty())
		Malformed(change, index, "{\"" + std::string(marker) + "\": name} must hold exactly one non-empty string");
	return name->text;
}

// Collects the $ref names inside value (any depth) into refs; a $tmp there is refused.
void
CollectRefs(const JsonValue &value, std::vector<std::string> &refs, std::size_t change, std::size_t index)
{
	if (value.kind == JsonValue::Kind::kObject) {
		if (HasMember(value, "$ref")) {
			refs.push_back(MarkerName(value, "$ref", change, index));
			return;
		}
		if (HasMember(value, "$tmp"))
			Malformed(change, index, "\"$tmp\" may only stand for the id of an entity of an add");
		for (const auto &member : value.members)
			CollectRefs(member.second, refs, change, index);
	} else if (value.kind == JsonValue::Kind::kArray) {
		for (const auto &item : value.items)
			CollectRefs(item, refs, change, index);
	}
}

// The operation named text, in any letter case.
ChangeOp
ParseOp(const JsonValue *op, std::size_t change)
{
	if (op == nullptr || op->kind != JsonValue::Kind::kString)
		Malformed(change, std::string::npos, "\"op\" must be a string");
	std::string lower = op->text;
	std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
	if (lower == "add")
		return ChangeOp::kAdd;
	if (lower == "update")
		return ChangeOp::kUpdate;
	if (lower == "upsert")
		return ChangeOp::kUpsert;
	if (lower == "delete")
		return ChangeOp::kDelete;
	Malformed(change, std::string::npos, "unknown op \"" + op->text + "\" (add, update, upsert or delete)");
}

// A $expect member: an object.
std::optional<JsonValue>
ParseExpect(const JsonValue &entity, std::size_t change, std::size_t index)
{
	const JsonValue *expect = entity.Find("$expect");
	if (expect == nullptr)
		return std::nullopt;
	if (expect->kind != JsonValue::Kind::kObject)
		Malformed(change, index, "\"$expect\" must be an object of field values");
	return *expect;
}

// An entity of an add or upsert: an object of field values (an add's id may be {"$tmp": name}).
ChangeEntity
ParseRowEntity(ChangeOp op, const JsonValue &value, std::size_t change, std::size_t index)
{
	if (value.kind != JsonValue::Kind::kObject)
		Malformed(change, index,
		          std::string("an entity of ") + ChangeOpName(op) + " must be an object of field values");
	if (HasMember(value, "$expect"))
		Malformed(change, index, std::string("\"$expect\" is for update and delete, not ") + ChangeOpName(op));
	ChangeEntity entity;
	entity.fields.kind = JsonValue::Kind::kObject;
	for (const auto &member : value.members) {
		if (member.second.kind == JsonValue::Kind::kObject && HasMember(member.second, "$tmp")) {
			if (op != ChangeOp::kAdd)
				Malformed(change, index, "\"$tmp\" ids are for add (an upsert names its row)");
			if (!entity.tmp.empty())
				Malformed(change, index, "an entity holds at most one \"$tmp\"");
			entity.tmp = MarkerName(member.second, "$tmp", change, index);
			entity.tmp_field = member.first;
		}
		for (const auto &seen : entity.fields.members)
			if (seen.first == member.first)
				Malformed(change, index, "field \"" + member.first + "\" is given twice");
		entity.fields.members.push_back(member);
	}
	return entity;
}

// An entity of an update: {"id": id, "changes": {...}, "$expect": {...}}.
ChangeEntity
ParseUpdateEntity(const JsonValue &value, std::size_t change, std::size_t index)
{
	const char *shape = "an entity of update is {\"id\": id, \"changes\": {field: value, ...}}";
	if (value.kind != JsonValue::Kind::kObject)
		Malformed(change, index, shape);
	const JsonValue *id = value.Find("id");
	const JsonValue *changes = value.Find("changes");
	if (id == nullptr || changes == nullptr || changes->kind != JsonValue::Kind::kObject)
		Malformed(change, index, shape);
	for (const auto &member : value.members)
		if (member.first != "id" && member.first != "changes" && member.first != "$expect")
			Malformed(change, index, "unexpected member \"" + member.first + "\" (" + shape + ")");
	ChangeEntity entity;
	entity.id = *id;
	entity.fields = *changes;
	entity.expect = ParseExpect(value, change, index);
	return entity;
}

// An entity of a delete: an id, or {"id": id, "$expect": {...}}.
ChangeEntity
ParseDeleteEntity(const JsonValue &value, std::size_t change, std::size_t index)
{
	ChangeEntity entity;
	entity.fields.kind = JsonValue::Kind::kObject;
	if (value.kind != JsonValue::Kind::kObject || HasMember(value, "$ref")) {
		entity.id = value;
		return entity;
	}
	const JsonValue *id = value.Find("id");
	if (id == nullptr)
		Malformed(change, index, "an entity of delete is an id or {\"id\": id, \"$expect\": {...}}");
	for (const auto &member : value.members)
		if (member.first != "id" && member.first != "$expect")
			Malformed(change, index, "unexpected member \"" + member.first + "\" in an entity of delete");
	entity.id = *id;
	entity.expect = ParseExpect(value, change, index);
	return entity;
}

// One change object.
Change
ParseChange(const JsonValue &value, std::size_t change)
{
	if (value.kind != JsonValue::Kind::kObject)
		Malformed(change, std::string::npos, "a change must be an object");
	for (const auto &member : value.members)
		if (member.first != "op" && member.first != "entityName" && member.first != "entities")
			Malformed(change, std::string::npos, "unexpected member \"" + member.first + "\"");
	Change result;
	result.op = ParseOp(value.Find("op"), change);
	const JsonValue *name = value.Find("entityName");
	if (name == nullptr || name->kind != JsonValue::Kind::kString || name->text.empty())
		Malformed(change, std::string::npos, "\"entityName\" must be a store key");
	result.entity_name = name->text;
	const JsonValue *entities = value.Find("entities");
	if (entities == nullptr || entities->kind != JsonValue::Kind::kArray)
		Malformed(change, std::string::npos, "\"entities\" must be an array");
	for (std::size_t i = 0; i < entities->items.size(); i++) {
		const JsonValue &item = entities->items[i];
		ChangeEntity entity = result.op == ChangeOp::kUpdate   ? ParseUpdateEntity(item, change, i)
		                      : result.op == ChangeOp::kDelete ? ParseDeleteEntity(item, change, i)
		                                                       : ParseRowEntity(result.op, item, change, i);
		if (entity.id)
			CollectRefs(*entity.id, entity.refs, change, i);
		for (const auto &member : entity.fields.members)
			if (member.first != entity.tmp_field || entity.tmp.empty())
				CollectRefs(member.second, entity.refs, change, i);
		if (entity.expect)
			CollectRefs(*entity.expect, entity.refs, change, i);
		result.entities.push_back(std::move(entity));
	}
	return result;
}

// Checks that every $ref names a $tmp of an earlier entity and no $tmp is defined twice.
void
CheckTemporaryIds(const ChangeSet &set)
{
	std::set<std::string> defined;
	for (std::size_t c = 0; c < set.changes.size(); c++)
		for (std::size_t e = 0; e < set.changes[c].entities.size(); e++) {
			const ChangeEntity &entity = set.changes[c].entities[e];
			for (const auto &ref : entity.refs)
				if (defined.count(ref) == 0)
					Malformed(c, e, "\"$ref\": \"" + ref + "\" names no \"$tmp\" of an earlier entity");
			if (!entity.tmp.empty() && !defined.insert(entity.tmp).second)
				Malformed(c, e, "\"$tmp\": \"" + entity.tmp + "\" is defined twice");
		}
}

// A mutationId: an integer from 0 to 2^63-1 (its text, without fraction or exponent).
std::int64_t
ParseMutationId(const JsonValue &value)
{
	const char *what = "malformed change set: \"mutationId\" must be an integer from 0 to 9223372036854775807";
	if (value.kind != JsonValue::Kind::kNumber || value.text.find_first_not_of("0123456789") != std::string::npos ||
	    value.text.size() > 19)
		throw Error(kMalformed, what);
	unsigned long long n = std::stoull(value.text);
	if (n > 9223372036854775807ULL)
		throw Error(kMalformed, what);
	return static_cast<std::int64_t>(n);
}

// The columns named name (nullptr when the table has none).
const ApplyColumn *
FindColumn(const ApplyTable &table, std::string_view name, std::size_t *position = nullptr)
{
	for (std::size_t i = 0; i < table.columns.size(); i++)
		if (table.columns[i].name == name) {
			if (position)
				*position = i;
			return &table.columns[i];
		}
	return nullptr;
}

// True when the field "id" stands for the document id (the table has no column "id").
bool
IsIdAlias(const ApplyTable &table, std::string_view field)
{
	return field == "id" && FindColumn(table, "id") == nullptr;
}

// True for a value a key column can take from an id: a number, a string or a boolean.
bool
IsScalar(const JsonValue &value)
{
	return value.kind == JsonValue::Kind::kNumber || value.kind == JsonValue::Kind::kString ||
	       value.kind == JsonValue::Kind::kBool;
}

[[noreturn]] void
NotAField(const ApplyTable &table, const std::string &field, std::size_t change, std::size_t index)
{
	throw Error(kUndefinedColumn,
	            "store_apply: " + ChangePlace(change, index) + ": key \"" + table.key + "\" has no writable field \"" +
	                field + "\"",
	            "Write the key's own columns (store.keys lists them); embedded documents are written through their "
	            "own keys.");
}

// The key object {column: value, ...} of an id as documents show it (composite: an array).
JsonValue
KeyObject(const ApplyTable &table, const JsonValue &id, std::size_t change, std::size_t index)
{
	JsonValue key;
	key.kind = JsonValue::Kind::kObject;
	auto scalar = IsScalar;
	if (table.primary_key.size() == 1) {
		if (!scalar(id))
			Malformed(change, index, "the id of key \"" + table.key + "\" is one value (a number or a string)");
		key.members.emplace_back(table.columns[table.primary_key[0]].name, id);
		return key;
	}
	if (id.kind != JsonValue::Kind::kArray || id.items.size() != table.primary_key.size() ||
	    !std::all_of(id.items.begin(), id.items.end(), scalar))
		Malformed(change, index,
		          "the id of key \"" + table.key + "\" is an array of its " + std::to_string(table.primary_key.size()) +
		              " key values");
	for (std::size_t i = 0; i < table.primary_key.size(); i++)
		key.members.emplace_back(table.columns[table.primary_key[i]].name, id.items[i]);
	return key;
}

// "$1, $2, ..., $n".
std::string
Parameters(std::size_t n)
{
	std::string list;
	for (std::size_t i = 1; i <= n; i++)
		list += (i > 1 ? ", $" : "$") + std::to_string(i);
	return list;
}

// The key columns of a row (x is the table's alias), for RETURNING: rendered by IdRender.
std::string
KeyColumns(const ApplyTable &table)
{
	std::string sql;
	for (std::size_t i = 0; i < table.primary_key.size(); i++)
		sql += (i ? ", x." : "x.") + QuoteIdentifier(table.columns[table.primary_key[i]].name);
	return sql;
}

// The render query of a row's id as documents show it, from its key columns ($1..$n).
std::string
IdRender(const ApplyTable &table)
{
	if (table.primary_key.size() == 1)
		return "SELECT pg_catalog.to_jsonb($1)::pg_catalog.text";
	return "SELECT pg_catalog.jsonb_build_array(" + Parameters(table.primary_key.size()) + ")::pg_catalog.text";
}

// The record of parameter $n (a jsonb object) as alias(column type, ...) over the named columns
// only, converted by each column type's input (jsonb_to_record: arrays, composites, domains).
std::string
Record(const ApplyTable &table, int parameter, const char *alias, const std::vector<std::string> &names)
{
	std::string sql =
	    "pg_catalog.jsonb_to_record($" + std::to_string(parameter) + "::pg_catalog.jsonb) AS " + alias + "(";
	for (std::size_t i = 0; i < names.size(); i++)
		sql += (i ? ", " : "") + QuoteIdentifier(names[i]) + " " + FindColumn(table, names[i])->type;
	return sql + ")";
}

// The names of the key's columns, in key order.
std::vector<std::string>
KeyNames(const ApplyTable &table)
{
	std::vector<std::string> names;
	for (std::size_t k : table.primary_key)
		names.push_back(table.columns[k].name);
	return names;
}

// x.key = alias.key for every key column, with each type's own equality.
std::string
KeyMatch(const ApplyTable &table, const char *alias = "k")
{
	std::string sql;
	for (std::size_t i = 0; i < table.primary_key.size(); i++) {
		const ApplyColumn &column = table.columns[table.primary_key[i]];
		std::string name = QuoteIdentifier(column.name);
		sql += (i ? " AND x." : "x.") + name + " " + column.equality + " " + alias + "." + name;
	}
	return sql;
}

// The values object of an add or upsert with the id alias turned into key columns; names in
// *columns the columns written (the $tmp field left out).
JsonValue
RowValues(const ApplyTable &table, ChangeOp op, const ChangeEntity &entity, std::size_t change, std::size_t index,
          std::vector<std::string> *columns, std::optional<JsonValue> *id)
{
	JsonValue values;
	values.kind = JsonValue::Kind::kObject;
	bool alias_tmp = !entity.tmp.empty() && IsIdAlias(table, entity.tmp_field);
	for (const auto &member : entity.fields.members) {
		if (!entity.tmp.empty() && member.first == entity.tmp_field) {
			if (!alias_tmp && !(FindColumn(table, member.first) && FindColumn(table, member.first)->primary_key))
				Malformed(change, index, "\"$tmp\" stands for the id (\"id\" or a key column)");
			continue;
		}
		if (IsIdAlias(table, member.first)) {
			for (const auto &key_member : KeyObject(table, member.second, change, index).members)
				values.members.push_back(key_member);
			continue;
		}
		const ApplyColumn *column = FindColumn(table, member.first);
		if (column == nullptr || !column->writable)
			NotAField(table, member.first, change, index);
		if (column->primary_key && !IsScalar(member.second))
			Malformed(change, index, "key column \"" + member.first + "\" takes one value (a number or a string)");
		values.members.push_back(member);
	}
	for (std::size_t i = 0; i < values.members.size(); i++) {
		for (std::size_t j = 0; j < i; j++)
			if (values.members[j].first == values.members[i].first)
				Malformed(change, index, "key column \"" + values.members[i].first + "\" is given twice (as \"id\")");
		columns->push_back(values.members[i].first);
	}
	bool has_key = true;
	JsonValue id_value;
	id_value.kind = JsonValue::Kind::kArray;
	for (std::size_t k : table.primary_key) {
		const JsonValue *v = values.Find(table.columns[k].name);
		if (v == nullptr)
			has_key = false;
		else
			id_value.items.push_back(*v);
	}
	if (alias_tmp && std::any_of(table.primary_key.begin(), table.primary_key.end(),
	                             [&](std::size_t k) { return values.Find(table.columns[k].name) != nullptr; }))
		Malformed(change, index, "an id given as \"$tmp\" leaves every key column to its default");
	if (op == ChangeOp::kUpsert && !has_key)
		Malformed(change, index, "an entity of upsert needs its id (\"id\" or every key column)");
	if (has_key)
		*id = table.primary_key.size() == 1 ? id_value.items[0] : id_value;
	return values;
}

// The statement of an add or upsert; returning_id: it returns the new row's key (a "$tmp").
ApplyStatement
InsertStatement(const ApplyTable &table, ChangeOp op, const std::vector<std::string> &columns, const JsonValue &values,
                bool returning_id)
{
	ApplyStatement statement;
	statement.returns_id = returning_id;
	statement.values = RenderJson(values);
	statement.key = "{}";
	std::string sql = "INSERT INTO " + table.relation + " AS x ";
	if (columns.empty()) {
		sql += "DEFAULT VALUES";
	} else {
		std::string list, select;
		for (std::size_t i = 0; i < columns.size(); i++) {
			list += (i ? ", " : "") + QuoteIdentifier(columns[i]);
			select += (i ? ", r." : "r.") + QuoteIdentifier(columns[i]);
		}
		sql += "(" + list + ") SELECT " + select + " FROM " + Record(table, 1, "r", columns);
	}
	if (op == ChangeOp::kUpsert) {
		std::string conflict, set;
		for (std::size_t i = 0; i < table.primary_key.size(); i++)
			conflict += (i ? ", " : "") + QuoteIdentifier(table.columns[table.primary_key[i]].name);
		for (const auto &name : columns)
			if (!FindColumn(table, name)->primary_key)
				set += (set.empty() ? "" : ", ") + QuoteIdentifier(name) + " = EXCLUDED." + QuoteIdentifier(name);
		if (set.empty()) // nothing but the key: still lock and return the row
			set = QuoteIdentifier(table.columns[table.primary_key[0]].name) + " = EXCLUDED." +
			      QuoteIdentifier(table.columns[table.primary_key[0]].name);
		sql += " ON CONFLICT (" + conflict + ") DO UPDATE SET " + set;
	}
	statement.sql = sql;
	if (returning_id) {
		statement.sql += " RETURNING " + KeyColumns(table);
		statement.render = IdRender(table);
	}
	return statement;
}

// The $expect check: locks the row and says whether the expected fields hold.
ApplyStatement
CheckStatement(const ApplyTable &table, const JsonValue &expect, const JsonValue &key, std::size_t change,
               std::size_t index)
{
	std::string columns;
	JsonValue expected;
	expected.kind = JsonValue::Kind::kArray;
	for (const auto &member : expect.members) {
		const ApplyColumn *column = FindColumn(table, member.first);
		if (column == nullptr || !column->writable)
			NotAField(table, member.first, change, index);
		columns += (columns.empty() ? "x." : ", x.") + QuoteIdentifier(member.first);
		expected.items.push_back(member.second);
	}
	ApplyStatement statement;
	statement.sql = "SELECT " + columns + " FROM " + table.relation + " AS x, " +
	                Record(table, 2, "k", KeyNames(table)) + " WHERE " + KeyMatch(table) + " FOR UPDATE OF x";
	statement.values = "{}";
	statement.key = RenderJson(key);
	std::size_t n = expect.members.size();
	statement.render = "SELECT pg_catalog.jsonb_build_array(" + Parameters(n) + ") OPERATOR(pg_catalog.=) $" +
	                   std::to_string(n + 1) + "::pg_catalog.jsonb";
	statement.render_value = RenderJson(expected);
	return statement;
}

} // namespace

const JsonValue *
JsonValue::Find(std::string_view name) const
{
	if (kind != Kind::kObject)
		return nullptr;
	for (const auto &member : members)
		if (member.first == name)
			return &member.second;
	return nullptr;
}

bool
JsonValue::operator==(const JsonValue &other) const
{
	return kind == other.kind && boolean == other.boolean && text == other.text && items == other.items &&
	       members == other.members;
}

JsonValue
ParseJson(std::string_view text)
{
	return JsonParser(text).ParseDocument();
}

std::string
RenderJson(const JsonValue &value)
{
	std::string out;
	RenderInto(value, out);
	return out;
}

const char *
ChangeOpName(ChangeOp op)
{
	switch (op) {
	case ChangeOp::kAdd:
		return "add";
	case ChangeOp::kUpdate:
		return "update";
	case ChangeOp::kUpsert:
		return "upsert";
	case ChangeOp::kDelete:
		return "delete";
	}
	return "?";
}

bool
RaisesAfterConflict(std::string_view sqlstate)
{
	static const char *const kRaising[] = {"08", "22", "25", "40", "53", "54", "55", "57", "58", "F0", "XX"};
	if (sqlstate.size() != 5)
		return true;
	for (const char *error_class : kRaising)
		if (sqlstate.substr(0, 2) == error_class)
			return true;
	return false;
}

std::string
ChangePlace(std::size_t change, std::size_t index)
{
	return "change " + std::to_string(change) + ", entity " + std::to_string(index);
}

std::string
QuoteIdentifier(std::string_view name)
{
	std::string out = "\"";
	for (char c : name) {
		if (c == '"')
			out += '"';
		out += c;
	}
	return out + "\"";
}

ChangeSet
ParseChangeSet(std::string_view json_text)
{
	JsonValue root = ParseJson(json_text);
	if (root.kind != JsonValue::Kind::kObject)
		throw Error(kMalformed, "malformed change set: it must be a JSON object with \"changes\"");
	ChangeSet set;
	for (const auto &member : root.members)
		if (member.first != "changes" && member.first != "tag" && member.first != "extras" &&
		    member.first != "clientId" && member.first != "mutationId")
			throw Error(kMalformed, "malformed change set: unexpected member \"" + member.first + "\"",
			            "A change set holds changes, tag, extras, clientId and mutationId.");
	const JsonValue *changes = root.Find("changes");
	if (changes == nullptr || changes->kind != JsonValue::Kind::kArray)
		throw Error(kMalformed, "malformed change set: \"changes\" must be an array");
	if (const JsonValue *tag = root.Find("tag"))
		set.tag = *tag;
	const JsonValue *client = root.Find("clientId");
	const JsonValue *mutation = root.Find("mutationId");
	if ((client == nullptr) != (mutation == nullptr))
		throw Error(kMalformed, "malformed change set: \"clientId\" and \"mutationId\" go together");
	if (client != nullptr) {
		if (client->kind != JsonValue::Kind::kString || client->text.empty())
			throw Error(kMalformed, "malformed change set: \"clientId\" must be a non-empty string");
		if (client->text.size() > kMaxClientIdBytes)
			throw Error(kMalformed,
			            "malformed change set: \"clientId\" is longer than " + std::to_string(kMaxClientIdBytes) +
			                " bytes",
			            "Use a shorter client id (for instance a hash of a long one).");
		set.client_id = client->text;
		set.mutation_id = ParseMutationId(*mutation);
	}
	for (std::size_t c = 0; c < changes->items.size(); c++)
		set.changes.push_back(ParseChange(changes->items[c], c));
	CheckTemporaryIds(set);
	return set;
}

JsonValue
ResolveRefs(const JsonValue &value, const std::map<std::string, JsonValue> &ids)
{
	if (value.kind == JsonValue::Kind::kObject) {
		if (const JsonValue *ref = value.Find("$ref")) {
			auto found = ids.find(ref->text);
			if (found == ids.end())
				throw Error(kMalformed, "malformed change set: \"$ref\": \"" + ref->text + "\" is not known yet");
			return found->second;
		}
		JsonValue out = value;
		for (auto &member : out.members)
			member.second = ResolveRefs(member.second, ids);
		return out;
	}
	if (value.kind == JsonValue::Kind::kArray) {
		JsonValue out = value;
		for (auto &item : out.items)
			item = ResolveRefs(item, ids);
		return out;
	}
	return value;
}

EntityPlan
PlanEntity(const ApplyTable &table, ChangeOp op, const ChangeEntity &entity, std::size_t change, std::size_t index)
{
	EntityPlan plan;
	if (op == ChangeOp::kAdd || op == ChangeOp::kUpsert) {
		std::vector<std::string> columns;
		JsonValue values = RowValues(table, op, entity, change, index, &columns, &plan.id);
		plan.write = InsertStatement(table, op, columns, values, !entity.tmp.empty());
		return plan;
	}
	plan.id = *entity.id;
	JsonValue key = KeyObject(table, *entity.id, change, index);
	if (entity.expect)
		plan.check = CheckStatement(table, *entity.expect, key, change, index);
	ApplyStatement write;
	write.key = RenderJson(key);
	write.values = RenderJson(entity.fields);
	if (op == ChangeOp::kDelete) {
		write.values = "{}";
		write.sql = "DELETE FROM " + table.relation + " AS x USING " + Record(table, 2, "k", KeyNames(table)) +
		            " WHERE " + KeyMatch(table);
		plan.write = write;
		return plan;
	}
	std::string set;
	std::vector<std::string> names;
	for (const auto &member : entity.fields.members) {
		const ApplyColumn *column = FindColumn(table, member.first);
		if (column == nullptr || !column->writable)
			NotAField(table, member.first, change, index);
		if (column->primary_key)
			Malformed(change, index, "an update does not change key column \"" + member.first + "\"");
		for (const auto &other : entity.fields.members) {
			if (&other == &member)
				break;
			if (other.first == member.first)
				Malformed(change, index, "field \"" + member.first + "\" is given twice");
		}
		set += (set.empty() ? "" : ", ") + QuoteIdentifier(member.first) + " = r." + QuoteIdentifier(member.first);
		names.push_back(member.first);
	}
	if (set.empty())
		return plan; // nothing to write: only the $expect check (if any) runs
	// one record of the changes and the key (changes never name a key column): one jsonb value
	// to read and one function scan per statement, not two and a join
	JsonValue row = entity.fields;
	for (const auto &member : key.members) {
		row.members.push_back(member);
		names.push_back(member.first);
	}
	write.values = RenderJson(row);
	write.key.clear();
	write.sql = "UPDATE " + table.relation + " AS x SET " + set + " FROM " + Record(table, 1, "r", names) + " WHERE " +
	            KeyMatch(table, "r");
	plan.write = write;
	return plan;
}

} // namespace store::core
