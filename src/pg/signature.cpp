// A registered table's primary key and its documents' signature (signature.hpp), and their SQL
// forms store._primary_key_columns and store._shape, which registration and DDL handling call.
#include "pg/signature.hpp"
#include "pg/guard.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_namespace.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
}

namespace store::pg {

namespace {

// relid as regclass prints it (schema-qualified when not visible), for messages.
const char *
RelationText(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

// Errors unless relid is a permanent (or unlogged) ordinary or partitioned table outside the store's
// own schema.
void
RequireRegistrableTable(Oid relid)
{
	char kind = get_rel_relkind(relid);
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", RelationText(relid)),
		                errhint("Only ordinary and partitioned tables can be registered; views, materialized views "
		                        "and foreign tables cannot.")));
	if (get_rel_namespace(relid) == get_namespace_oid(sql::kSchema, true))
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
		                errmsg("the store's own table \"%s\" cannot be registered", RelationText(relid))));
	// emptied by crash recovery without the store's logged documents following
	if (get_rel_persistence(relid) == RELPERSISTENCE_UNLOGGED)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("unlogged table \"%s\" cannot be registered", RelationText(relid)),
		                errhint("Crash recovery empties an unlogged table but not the store's documents: "
		                        "make it logged first (ALTER TABLE ... SET LOGGED).")));
	// dropped at the end of its session without an event trigger: its key would outlive it
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("temporary table \"%s\" cannot be registered", RelationText(relid)),
		                errhint("A temporary table disappears with its session, without the store being told: "
		                        "register a permanent table.")));
}

// relid's live columns by attribute number (nullptr: none or dropped), read in the active
// snapshot (the reader's, as SQL over pg_attribute would) rather than the latest catalog: a
// reader compares them with the registration it read in that snapshot. *natts: the highest.
Form_pg_attribute *
LiveColumns(Oid relid, int *natts)
{
	*natts = 0;
	List *found = NIL;
	Relation attributes = table_open(AttributeRelationId, AccessShareLock);
	ScanKeyData key[2];
	ScanKeyInit(&key[0], Anum_pg_attribute_attrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_attribute_attnum, BTGreaterStrategyNumber, F_INT2GT, Int16GetDatum(0));
	SysScanDesc scan = systable_beginscan(attributes, AttributeRelidNumIndexId, true, ReaderSnapshot(), 2, key);
	for (HeapTuple tuple = systable_getnext(scan); tuple != nullptr; tuple = systable_getnext(scan)) {
		auto *att = static_cast<Form_pg_attribute>(palloc(ATTRIBUTE_FIXED_PART_SIZE));
		memcpy(att, GETSTRUCT(tuple), ATTRIBUTE_FIXED_PART_SIZE);
		found = lappend(found, att);
		*natts = Max(*natts, (int)att->attnum);
	}
	systable_endscan(scan);
	table_close(attributes, AccessShareLock);
	auto *columns = static_cast<Form_pg_attribute *>(palloc0(sizeof(Form_pg_attribute) * (*natts + 1)));
	ListCell *cell;
	foreach (cell, found) {
		auto *att = static_cast<Form_pg_attribute>(lfirst(cell));
		if (!att->attisdropped)
			columns[att->attnum] = att;
	}
	return columns;
}

// Appends "name type" of a live column (nothing for nullptr); false when nothing was appended.
bool
AppendColumn(StringInfo buf, Form_pg_attribute att, bool first)
{
	if (att == nullptr)
		return false;
	// as SQL's format_type(atttypid, atttypmod): a typmod given, -1 included
	appendStringInfo(
	    buf, "%s%s %s", first ? "" : ", ", quote_identifier(NameStr(att->attname)),
	    format_type_extended(att->atttypid, att->atttypmod, FORMAT_TYPE_ALLOW_INVALID | FORMAT_TYPE_TYPEMOD_GIVEN));
	return true;
}

// Appends the chosen columns (int2[], in array order, each once) or, when null, every column.
void
AppendColumns(StringInfo buf, Form_pg_attribute *columns, int natts, ArrayType *column_numbers)
{
	bool first = true;
	if (column_numbers == nullptr) {
		for (AttrNumber attnum = 1; attnum <= natts; attnum++)
			first = !AppendColumn(buf, columns[attnum], first) && first;
		return;
	}
	Datum *numbers;
	bool *nulls;
	int count;
	deconstruct_array(column_numbers, INT2OID, 2, true, TYPALIGN_SHORT, &numbers, &nulls, &count);
	for (int i = 0; i < count; i++) {
		int attnum = nulls[i] ? 0 : DatumGetInt16(numbers[i]);
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen = seen || (!nulls[j] && DatumGetInt16(numbers[j]) == attnum);
		if (attnum > 0 && attnum <= natts && !seen)
			first = !AppendColumn(buf, columns[attnum], first) && first;
	}
}

// Enters output settings under which the signature reads the same in every session: type names
// as under search_path = pg_catalog (qualified unless built in), identifiers quoted only where
// needed. Returns the GUC nest level to leave (LeaveSignatureSettings).
int
EnterSignatureSettings()
{
	OverrideSearchPath catalog_only = {};
	catalog_only.schemas = list_make1_oid(PG_CATALOG_NAMESPACE);
	PushOverrideSearchPath(&catalog_only);
	int nest_level = NewGUCNestLevel();
	if (quote_all_identifiers)
		(void)set_config_option("quote_all_identifiers", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
		                        false);
	return nest_level;
}

// Leaves EnterSignatureSettings.
void
LeaveSignatureSettings(int nest_level)
{
	AtEOXact_GUC(true, nest_level);
	PopOverrideSearchPath();
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
	SysScanDesc scan = systable_beginscan(index_rel, IndexIndrelidIndexId, true, ReaderSnapshot(), 1, &key);
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
	int natts;
	Form_pg_attribute *columns = LiveColumns(relid, &natts);
	StringInfoData buf;
	initStringInfo(&buf);
	int nest_level = EnterSignatureSettings();
	AppendColumns(&buf, columns, natts, column_numbers);
	appendStringInfoString(&buf, " | primary key ");
	for (int i = 0; i < nkeys; i++) {
		Form_pg_attribute key = key_attnums[i] > 0 && key_attnums[i] <= natts ? columns[key_attnums[i]] : nullptr;
		appendStringInfo(&buf, "%s%s", i == 0 ? "" : ", ",
		                 key == nullptr ? "?" : quote_identifier(NameStr(key->attname)));
	}
	LeaveSignatureSettings(nest_level);
	return buf.data;
}

Snapshot
ReaderSnapshot()
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : nullptr;
}

} // namespace store::pg

STORE_ENTRY(store_primary_key_columns, store::pg::PrimaryKeyColumnsSql)
STORE_ENTRY(store_shape, store::pg::ShapeSql)
