// store_describe(key): for each key the caller may read (as store_snapshot decides), its id and the
// JSON Schema of one document (core/doc_schema.hpp), read from the catalog: column types through
// domains, arrays, composites and enums, and nested keys' resolved shapes.
#include "core/doc_schema.hpp"
#include "core/payload.hpp"
#include "pg/guard.hpp"
#include "pg/reader.hpp"
#include "pg/relationships.hpp"
#include "pg/shape_resolve.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

#include <string>
#include <vector>

extern "C" {
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "parser/parse_coerce.h"
#include "utils/catcache.h"
#include "utils/typcache.h"
}

namespace {

using namespace store;

// Deepest nesting of arrays and composites followed; deeper values are described as any value.
constexpr int kMaxTypeDepth = 32;

// A registration as store_describe needs it (palloc'd).
struct PlainKey {
	const char *key;
	Oid source;
	const char *nested; // nullptr: a flat key
	int nattnums;       // 0: all columns
	int16 *attnums;
};

// A type as plain data (palloc'd), one level deep: element and attributes by type oid.
struct PlainType {
	int kind; // core::JsonKind
	const char *name;
	bool not_null;
	int nlabels;
	const char **labels;
	Oid element;
	int nattributes;
	const char **attribute_names;
	Oid *attribute_types;
};

// The keys (all the caller may read in bulk, or only key after checking the caller may read it:
// 42704 unknown, 42501 not readable) as palloc'd plain data; *count of them.
PlainKey *
ReadableKeys(FunctionCallInfo fcinfo, int *count)
{
	MemoryContext caller = CurrentMemoryContext;
	bool key_is_null = PG_ARGISNULL(0);
	Datum key = key_is_null ? (Datum)0 : PG_GETARG_DATUM(0);
	pg::ConnectSpi();
	if (!key_is_null)
		(void)pg::ReadableSource(key, false, GetUserId());
	Oid types[2] = {TEXTOID, OIDOID};
	Datum args[2] = {key, ObjectIdGetDatum(GetUserId())};
	const char nulls[3] = {key_is_null ? 'n' : ' ', ' ', '\0'};
	int rc = pg::ExecuteForReader(pg::sql::kDescribeKeys, 2, types, args, nulls);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: listing the keys to describe failed: %s", SPI_result_code_string(rc));
	*count = (int)SPI_processed;
	auto *keys = static_cast<PlainKey *>(MemoryContextAllocZero(caller, sizeof(PlainKey) * (SPI_processed + 1)));
	for (uint64 row = 0; row < SPI_processed; row++) {
		HeapTuple tuple = SPI_tuptable->vals[row];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool is_null;
		keys[row].key = MemoryContextStrdup(caller, SPI_getvalue(tuple, desc, 1));
		keys[row].source = DatumGetObjectId(SPI_getbinval(tuple, desc, 2, &is_null));
		char *nested = SPI_getvalue(tuple, desc, 3);
		keys[row].nested = nested == nullptr ? nullptr : MemoryContextStrdup(caller, nested);
		Datum numbers = SPI_getbinval(tuple, desc, 4, &is_null);
		if (is_null)
			continue;
		Datum *elements;
		bool *element_nulls;
		int n;
		deconstruct_array(DatumGetArrayTypeP(numbers), INT2OID, 2, true, TYPALIGN_SHORT, &elements, &element_nulls, &n);
		keys[row].attnums = static_cast<int16 *>(MemoryContextAlloc(caller, sizeof(int16) * (n + 1)));
		for (int i = 0; i < n; i++)
			if (!element_nulls[i])
				keys[row].attnums[keys[row].nattnums++] = DatumGetInt16(elements[i]);
	}
	SPI_finish();
	return keys;
}

// type's enum labels in sort order, into plain (palloc'd).
void
FillEnumLabels(Oid type, PlainType *plain)
{
	CatCList *list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(type));
	plain->nlabels = list->n_members;
	plain->labels = static_cast<const char **>(palloc0(sizeof(char *) * (list->n_members + 1)));
	float4 *orders = static_cast<float4 *>(palloc0(sizeof(float4) * (list->n_members + 1)));
	for (int i = 0; i < list->n_members; i++) {
		auto *label = reinterpret_cast<Form_pg_enum>(GETSTRUCT(&list->members[i]->tuple));
		int at = i; // insertion by enumsortorder
		while (at > 0 && orders[at - 1] > label->enumsortorder) {
			orders[at] = orders[at - 1];
			plain->labels[at] = plain->labels[at - 1];
			at--;
		}
		orders[at] = label->enumsortorder;
		plain->labels[at] = pstrdup(NameStr(label->enumlabel));
	}
	ReleaseCatCacheList(list);
}

// A composite type's live attributes, into plain (palloc'd).
void
FillAttributes(Oid type, PlainType *plain)
{
	TupleDesc desc = lookup_rowtype_tupdesc(type, -1);
	plain->attribute_names = static_cast<const char **>(palloc0(sizeof(char *) * (desc->natts + 1)));
	plain->attribute_types = static_cast<Oid *>(palloc0(sizeof(Oid) * (desc->natts + 1)));
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute attribute = TupleDescAttr(desc, i);
		if (attribute->attisdropped)
			continue;
		plain->attribute_names[plain->nattributes] = pstrdup(NameStr(attribute->attname));
		plain->attribute_types[plain->nattributes++] = attribute->atttypid;
	}
	ReleaseTupleDesc(desc);
}

// True when to_json renders type through its own cast to json (a type that is not built in).
bool
HasJsonCast(Oid type)
{
	Oid cast = InvalidOid;
	return type >= FirstNormalObjectId &&
	       find_coercion_pathway(JSONOID, type, COERCION_EXPLICIT, &cast) == COERCION_PATH_FUNC && OidIsValid(cast);
}

// How to_json renders type (domains looked through, as to_json does; their NOT NULL counts).
void
FillPlainType(Oid type, PlainType *plain)
{
	Oid base = type;
	for (;;) {
		HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(base));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "store: cache lookup failed for type %u", base);
		auto *form = reinterpret_cast<Form_pg_type>(GETSTRUCT(tuple));
		bool domain = form->typtype == TYPTYPE_DOMAIN;
		plain->not_null = plain->not_null || (domain && form->typnotnull);
		Oid next = form->typbasetype;
		ReleaseSysCache(tuple);
		if (!domain)
			break;
		base = next;
	}
	plain->name = format_type_be(base);
	switch (base) {
	case BOOLOID:
		plain->kind = (int)core::JsonKind::kBoolean;
		return;
	case INT2OID:
	case INT4OID:
	case INT8OID:
		plain->kind = (int)core::JsonKind::kInteger;
		return;
	case FLOAT4OID:
	case FLOAT8OID:
	case NUMERICOID:
		plain->kind = (int)core::JsonKind::kNumber;
		return;
	case DATEOID:
		plain->kind = (int)core::JsonKind::kDate;
		return;
	case TIMESTAMPOID:
		plain->kind = (int)core::JsonKind::kTimestamp;
		return;
	case TIMESTAMPTZOID:
		plain->kind = (int)core::JsonKind::kTimestampTz;
		return;
	case JSONOID:
	case JSONBOID:
		plain->kind = (int)core::JsonKind::kAny;
		return;
	default:
		break;
	}
	plain->element = get_element_type(base);
	if (OidIsValid(plain->element))
		plain->kind = (int)core::JsonKind::kArray;
	else if (type_is_rowtype(base)) {
		plain->kind = (int)core::JsonKind::kObject;
		FillAttributes(base, plain);
	} else if (HasJsonCast(base))
		plain->kind = (int)core::JsonKind::kAny;
	else if (type_is_enum(base)) {
		plain->kind = (int)core::JsonKind::kEnum;
		FillEnumLabels(base, plain);
	} else
		plain->kind = (int)core::JsonKind::kString;
}

// The type of a column: its type oid and NOT NULL.
void
ReadColumn(Oid table, int attnum, Oid *type, bool *not_null)
{
	HeapTuple tuple = SearchSysCacheAttNum(table, (int16)attnum);
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "store: cache lookup failed for column %d of relation %u", attnum, table);
	auto *form = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tuple));
	*type = form->atttypid;
	*not_null = form->attnotnull;
	ReleaseSysCache(tuple);
}

// core::TypeCatalog over this backend's catalog (it checks no privilege: the caller may read the key).
class PgTypes : public core::TypeCatalog {
public:
	core::ColumnType
	Column(core::CatalogOid table, int attnum) override
	{
		Oid type = InvalidOid;
		bool not_null = false;
		pg::PgCall([&] { ReadColumn(table, attnum, &type, &not_null); });
		return Describe(type, not_null, 0);
	}

private:
	// type described for the core, nested types included (up to kMaxTypeDepth).
	core::ColumnType
	Describe(Oid type, bool not_null, int depth)
	{
		core::ColumnType out;
		out.not_null = not_null;
		if (depth > kMaxTypeDepth)
			return out;
		PlainType plain{};
		pg::PgCall([&] { FillPlainType(type, &plain); });
		out.kind = static_cast<core::JsonKind>(plain.kind);
		out.name = plain.name;
		out.not_null = not_null || plain.not_null;
		out.labels.assign(plain.labels, plain.labels + plain.nlabels);
		if (out.kind == core::JsonKind::kArray)
			out.element.push_back(Describe(plain.element, false, depth + 1));
		for (int i = 0; i < plain.nattributes; i++)
			out.attributes.emplace_back(plain.attribute_names[i], Describe(plain.attribute_types[i], false, depth + 1));
		return out;
	}
};

// {"<key>": description, ...} of keys (core::KeyDescription), in their order.
std::string
Descriptions(const PlainKey *keys, int count)
{
	pg::PgCatalog catalog;
	PgTypes types;
	std::string out = "{";
	for (int i = 0; i < count; i++) {
		const PlainKey &key = keys[i];
		const core::CatalogTable &root = catalog.Table(key.source);
		core::ResolvedShape shape =
		    key.nested != nullptr ? pg::ResolveShapeFor(key.source, key.nested)
		                          : core::FlatShape(root, std::vector<int>(key.attnums, key.attnums + key.nattnums));
		out += (i > 0 ? "," : "") + core::JsonString(key.key) + ":" +
		       core::KeyDescription(shape, root, key.nested != nullptr, types);
	}
	return out + "}";
}

// store_describe(key DEFAULT NULL): the description of every key the caller may read, or of key.
Datum
Describe(FunctionCallInfo fcinfo)
{
	int count = 0;
	PlainKey *keys = ReadableKeys(fcinfo, &count);
	const std::string described = Descriptions(keys, count);
	Datum result = 0;
	pg::PgCall([&] { result = PointerGetDatum(cstring_to_text_with_len(described.data(), (int)described.size())); });
	return result;
}

} // namespace

STORE_ENTRY(store_describe, Describe)
