// The store's own tables as this transaction finds them: see store_objects.hpp.
#include "pg/store_objects.hpp"
#include "pg/sql_names.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/roles.hpp"

extern "C" {
#include "storage/proc.h"
}

namespace store::pg {

namespace {

StoreObjects objects = {
    InvalidLocalTransactionId, InvalidOid, InvalidOid, InvalidOid, InvalidOid, InvalidOid, 0, {}, {}};

// The OID of store.<name>; a clear error when the extension's objects are missing.
Oid
StoreRelation(const char *name)
{
	Oid relid = get_relname_relid(name, get_namespace_oid(sql::kSchema, false));
	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("store.%s does not exist", name),
		                errhint("Is the store extension installed in this database?")));
	return relid;
}

// The 0-based position of column name of store table relid (called table); an error when the
// table lacks a column this library writes.
int
ColumnIndex(Oid relid, const char *table, const char *name)
{
	AttrNumber attnum = get_attnum(relid, name);
	if (attnum == InvalidAttrNumber)
		elog(ERROR, "store: store.%s does not have the columns this library writes (no column %s)", table, name);
	return attnum - 1;
}

// The positions of store.entries' columns.
EntriesColumns
LookUpEntriesColumns(Oid entries)
{
	const char *table = sql::kEntriesTable;
	return {ColumnIndex(entries, table, sql::kEntriesKeyColumn), ColumnIndex(entries, table, sql::kEntriesIdColumn),
	        ColumnIndex(entries, table, sql::kEntriesDocColumn)};
}

// The positions of store.history's columns.
HistoryColumns
LookUpHistoryColumns(Oid history)
{
	const char *table = sql::kHistoryTable;
	return {ColumnIndex(history, table, sql::kHistorySeqColumn),
	        ColumnIndex(history, table, sql::kHistoryOriginColumn),
	        ColumnIndex(history, table, sql::kHistoryXidColumn),
	        ColumnIndex(history, table, sql::kHistoryCacheKeyColumn),
	        ColumnIndex(history, table, sql::kHistoryItemColumn),
	        ColumnIndex(history, table, sql::kHistoryStateColumn),
	        ColumnIndex(history, table, sql::kHistoryAddedOnColumn)};
}

} // namespace

const StoreObjects &
CurrentStoreObjects()
{
	if (objects.looked_up_in == MyProc->lxid)
		return objects;
	objects.looked_up_in = InvalidLocalTransactionId;
	objects.history = StoreRelation(sql::kHistoryTable);
	objects.owner = RelationOwner(objects.history);
	if (!OidIsValid(objects.owner))
		elog(ERROR, "store: cache lookup failed for relation %u", objects.history);
	objects.entries = StoreRelation(sql::kEntriesTable);
	objects.entries_columns = LookUpEntriesColumns(objects.entries);
	objects.doc_type = get_atttype(objects.entries, objects.entries_columns.doc + 1);
	objects.history_columns = LookUpHistoryColumns(objects.history);
	objects.history_seq = StoreRelation(sql::kHistorySeq);
	objects.origin = static_cast<int32>(StoreOrigin());
	objects.looked_up_in = MyProc->lxid;
	return objects;
}

// Forgets the looked-up store objects when one of the store's tables (or every relation) changes.
extern "C" void
store_invalidate_objects(Datum, Oid relid)
{
	if (relid == InvalidOid || relid == objects.entries || relid == objects.history)
		objects.looked_up_in = InvalidLocalTransactionId;
}

void
InitStoreObjects()
{
	CacheRegisterRelcacheCallback(store_invalidate_objects, (Datum)0);
}

Oid
StoreEntries()
{
	return CurrentStoreObjects().entries;
}

Oid
StoredDocType()
{
	return CurrentStoreObjects().doc_type;
}

Oid
StoreOwner()
{
	return CurrentStoreObjects().owner;
}

} // namespace store::pg
