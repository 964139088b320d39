// A registered table's primary key and its documents' signature (signature.hpp), and their SQL
// forms store._primary_key_columns and store._shape, which registration and DDL handling call.
#include "pg/signature.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_namespace.h"
#include "utils/regproc.h"
}

namespace store::pg {

namespace {

// relid as regclass prints it (schema-qualified when not visible), for messages.
const char *
RelationText(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

// Errors unless relid is an ordinary or partitioned table outside the store's own schema.
void
RequireRegistrableTable(Oid relid)
{
	char kind = get_rel_relkind(relid);
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", RelationText(relid)),
		                errhint("Only ordinary and partitioned tables can be registered; views, materialized views "
		                        "and foreign tables cannot.")));
	if (get_rel_namespace(relid) == get_namespace_oid("store", true))
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
		                errmsg("the store's own table \"%s\" cannot be registered", RelationText(relid))));
}

// Appends "name type" of relid's live column attnum (nothing when it is dropped or missing);
// false when nothing was appended.
bool
AppendColumn(StringInfo buf, Oid relid, AttrNumber attnum, bool first)
{
	HeapTuple tuple = SearchSysCacheAttNum(relid, attnum);
	if (!HeapTupleIsValid(tuple))
		return false;
	auto *att = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tuple));
	// as SQL's format_type(atttypid, atttypmod): a typmod given, -1 included
	appendStringInfo(
	    buf, "%s%s %s", first ? "" : ", ", quote_identifier(NameStr(att->attname)),
	    format_type_extended(att->atttypid, att->atttypmod, FORMAT_TYPE_ALLOW_INVALID | FORMAT_TYPE_TYPEMOD_GIVEN));
	ReleaseSysCache(tuple);
	return true;
}

// Appends the chosen columns (int2[], in array order, each once) or, when null, every column.
void
AppendColumns(StringInfo buf, Oid relid, ArrayType *column_numbers)
{
	bool first = true;
	if (column_numbers == nullptr) {
		int natts = TableColumnCount(relid);
		for (AttrNumber attnum = 1; attnum <= natts; attnum++)
			first = !AppendColumn(buf, relid, attnum, first) && first;
		return;
	}
	Datum *numbers;
	bool *nulls;
	int count;
	deconstruct_array(column_numbers, INT2OID, 2, true, TYPALIGN_SHORT, &numbers, &nulls, &count);
	for (int i = 0; i < count; i++) {
		bool seen = false;
		for (int j = 0; j < i && !nulls[i]; j++)
			seen = seen || (!nulls[j] && DatumGetInt16(numbers[j]) == DatumGetInt16(numbers[i]));
		if (!nulls[i] && !seen)
			first = !AppendColumn(buf, relid, DatumGetInt16(numbers[i]), first) && first;
	}
}

// store._primary_key_columns(source): the primary-key column names of a table that may be
// registered, in key order; errors otherwise (RegistrablePrimaryKey).
Datum
PrimaryKeyColumnsSql(FunctionCallInfo fcinfo)
{
	Oid relid = PG_GETARG_OID(0);
	int count;
	AttrNumber *attnums = RegistrablePrimaryKey(relid, &count);
	Datum *names = static_cast<Datum *>(palloc(sizeof(Datum) * count));
	for (int i = 0; i < count; i++)
		names[i] = DirectFunctionCall1(namein, CStringGetDatum(get_attname(relid, attnums[i], false)));
	PG_RETURN_ARRAYTYPE_P(construct_array(names, count, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));
}

// store._shape(source, column_numbers): the document signature registration records.
Datum
ShapeSql(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	Oid relid = PG_GETARG_OID(0);
	int count;
	AttrNumber *attnums = RegistrablePrimaryKey(relid, &count);
	ArrayType *columns = PG_ARGISNULL(1) ? nullptr : PG_GETARG_ARRAYTYPE_P(1);
	PG_RETURN_TEXT_P(cstring_to_text(DocumentSignature(relid, columns, attnums, count)));
}

} // namespace

int
TableColumnCount(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return 0;
	int natts = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relnatts;
	ReleaseSysCache(tuple);
	return natts;
}

AttrNumber *
PrimaryKeyOf(Oid relid, int *count, bool *immediate)
{
	*count = 0;
	*immediate = true;
	AttrNumber *attnums = nullptr;
	Relation index_rel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	SysScanDesc scan = systable_beginscan(index_rel, IndexIndrelidIndexId, true, nullptr, 1, &key);
	for (HeapTuple tuple = systable_getnext(scan); tuple != nullptr; tuple = systable_getnext(scan)) {
		auto *index = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
		if (!index->indisprimary)
			continue;
		*count = index->indnkeyatts;
		*immediate = index->indimmediate;
		attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * Max(*count, 1)));
		for (int i = 0; i < *count; i++)
			attnums[i] = index->indkey.values[i];
		break;
	}
	systable_endscan(scan);
	table_close(index_rel, AccessShareLock);
	return attnums;
}

AttrNumber *
RegistrablePrimaryKey(Oid relid, int *count)
{
	RequireRegistrableTable(relid);
	bool immediate;
	AttrNumber *attnums = PrimaryKeyOf(relid, count, &immediate);
	if (*count == 0)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("table \"%s\" has no primary key", RelationText(relid)),
		                errhint("The store identifies documents by their table's primary key; add one first.")));
	if (!immediate)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("the primary key of table \"%s\" is deferrable", RelationText(relid)),
		                errhint("The store needs a primary key that is checked immediately.")));
	return attnums;
}

char *
DocumentSignature(Oid relid, ArrayType *column_numbers, const AttrNumber *key_attnums, int nkeys)
{
	StringInfoData buf;
	initStringInfo(&buf);
	// type names as under search_path = pg_catalog (qualified unless built in), whoever reads
	OverrideSearchPath catalog_only = {};
	catalog_only.schemas = list_make1_oid(PG_CATALOG_NAMESPACE);
	PushOverrideSearchPath(&catalog_only);
	AppendColumns(&buf, relid, column_numbers);
	PopOverrideSearchPath();
	appendStringInfoString(&buf, " | primary key ");
	for (int i = 0; i < nkeys; i++)
		appendStringInfo(&buf, "%s%s", i == 0 ? "" : ", ", quote_identifier(get_attname(relid, key_attnums[i], false)));
	return buf.data;
}

} // namespace store::pg

STORE_ENTRY(store_primary_key_columns, store::pg::PrimaryKeyColumnsSql)
STORE_ENTRY(store_shape, store::pg::ShapeSql)
