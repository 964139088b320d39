// Store writes from triggers. Item writes go straight to store.entries and store.history through
// the executor's per-tuple routines (heap, indexes, constraints): no parser, planner or executor
// start-up per row. Whole-key writes and registration reads use SPI plans kept per backend.
// Every write runs as the owner of the store tables, which ordinary users cannot write.
#include "pg/writer.hpp"
#include "pg/cursor_glue.hpp"

extern "C" {
#include "access/genam.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"
}

namespace store::pg {

namespace {

enum PlanKind { kTruncatePlan, kRegistrationPlan, kPlanCount };

// Fully schema-qualified statements: they mean the same under any search_path.
const char *const kPlanSql[kPlanCount] = {
    "WITH e AS (DELETE FROM store.entries AS e WHERE e.key OPERATOR(pg_catalog.=) $1)"
    " INSERT INTO store.history (cache_key, item, state) VALUES ($1, NULL, 'U')",
    "SELECT k.source::pg_catalog.oid, k.column_numbers FROM store.keys AS k WHERE k.key OPERATOR(pg_catalog.=) $1",
};
const int kPlanNargs[kPlanCount] = {1, 1};
const Oid kPlanArgtypes[kPlanCount][1] = {{TEXTOID}, {TEXTOID}};

SPIPlanPtr plans[kPlanCount];

// The store's catalog facts a write needs, looked up once per transaction (a promotion that
// changes the origin takes effect at the next one) and again after any relcache invalidation of
// the store's tables (a dropped and re-created extension).
struct StoreObjects {
	LocalTransactionId looked_up_in;
	Oid owner;
	Oid entries;
	Oid doc_type;
	Oid history;
	Oid history_seq;
	int32 origin;
};
StoreObjects objects = {InvalidLocalTransactionId, InvalidOid, InvalidOid, InvalidOid, InvalidOid, InvalidOid, 0};

// The OID of store.<name>; a clear error when the extension's objects are missing.
Oid
StoreRelation(const char *name)
{
	Oid relid = get_relname_relid(name, get_namespace_oid("store", false));
	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("store.%s does not exist", name),
		                errhint("Is the store extension installed in this database?")));
	return relid;
}

// The store's objects for this transaction, looked up on its first write.
const StoreObjects &
CurrentStoreObjects()
{
	if (objects.looked_up_in == MyProc->lxid)
		return objects;
	objects.looked_up_in = InvalidLocalTransactionId;
	objects.history = StoreRelation("history");
	objects.owner = RelationOwner(objects.history);
	if (!OidIsValid(objects.owner))
		elog(ERROR, "store: cache lookup failed for relation %u", objects.history);
	objects.entries = StoreRelation("entries");
	objects.doc_type = get_atttype(objects.entries, get_attnum(objects.entries, "doc"));
	objects.history_seq = StoreRelation("history_seq");
	objects.origin = static_cast<int32>(StoreOrigin());
	objects.looked_up_in = MyProc->lxid;
	return objects;
}

// True when the kept plan of kind can be used as it is.
bool
PlanIsReady(PlanKind kind)
{
	return plans[kind] != nullptr && SPI_plan_is_valid(plans[kind]);
}

// The kept plan of kind, prepared (again) when missing or invalidated. Runs as the store owner.
SPIPlanPtr
GetPlan(PlanKind kind)
{
	if (PlanIsReady(kind))
		return plans[kind];
	if (plans[kind] != nullptr)
		SPI_freeplan(plans[kind]);
	plans[kind] = nullptr;
	SPIPlanPtr plan = SPI_prepare(kPlanSql[kind], kPlanNargs[kind], const_cast<Oid *>(kPlanArgtypes[kind]));
	if (plan == nullptr)
		elog(ERROR, "store: preparing a store statement failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	plans[kind] = plan;
	return plan;
}

// Prepares (if needed) and runs a plan as the store owner.
int
ExecuteAsOwner(PlanKind kind, Datum *args, bool read_only)
{
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_plan(GetPlan(kind), args, nullptr, read_only, 0);
	RestoreUser(saved);
	return rc;
}

// Runs a read-only plan as the store owner in a fresh snapshot: the latest committed state (and
// this transaction's own changes), whatever the transaction's isolation level.
int
ReadLatestAsOwner(PlanKind kind, Datum *args)
{
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_snapshot(GetPlan(kind), args, nullptr, GetLatestSnapshot(), InvalidSnapshot, true, false, 0);
	RestoreUser(saved);
	return rc;
}

// store.entries and store.history opened for one trigger call's direct writes, with the executor
// state their constraint checks and index insertions need.
struct DirectWrite {
	EState *estate;
	ResultRelInfo *entries;
	ResultRelInfo *history;
	EPQState epq;
	SavedUser saved;
};

// A range-table entry for a store table written in place, locked as an INSERT would lock it.
RangeTblEntry *
WrittenTable(Oid relid)
{
	LockRelationOid(relid, RowExclusiveLock);
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = RELKIND_RELATION;
	rte->rellockmode = RowExclusiveLock;
	return rte;
}

// The result relation for range-table entry index (1-based), with its indexes open.
ResultRelInfo *
OpenResultRelation(EState *estate, Index index)
{
	Relation rel = ExecGetRangeTableRelation(estate, index);
	ResultRelInfo *info = makeNode(ResultRelInfo);
	InitResultRelInfo(info, rel, index, nullptr, 0);
	ExecOpenIndices(info, false);
	return info;
}

// Opens both store tables as the store owner, for writes in the current command.
void
BeginDirectWrite(DirectWrite *write)
{
	const StoreObjects &store = CurrentStoreObjects();
	write->saved = BecomeStoreOwner();
	write->estate = CreateExecutorState();
	ExecInitRangeTable(write->estate, list_make2(WrittenTable(store.entries), WrittenTable(store.history)));
	write->estate->es_output_cid = GetCurrentCommandId(true);
	write->estate->es_snapshot = GetActiveSnapshot();
	write->entries = OpenResultRelation(write->estate, 1);
	write->history = OpenResultRelation(write->estate, 2);
	EvalPlanQualInit(&write->epq, write->estate, nullptr, NIL, -1);
	AfterTriggerBeginQuery();
}

// Fires what the writes queued (triggers a superuser may have put on the store tables), closes
// everything (locks stay until commit) and returns to the calling user.
void
EndDirectWrite(DirectWrite *write)
{
	AfterTriggerEndQuery(write->estate);
	EvalPlanQualEnd(&write->epq);
	ExecCloseIndices(write->entries);
	ExecCloseIndices(write->history);
	ExecResetTupleTable(write->estate->es_tupleTable, false);
	ExecCloseRangeTableRelations(write->estate);
	FreeExecutorState(write->estate);
	RestoreUser(write->saved);
}

// An empty slot for rows of info's table, freed with the executor state.
TupleTableSlot *
NewSlot(DirectWrite *write, ResultRelInfo *info)
{
	return table_slot_create(info->ri_RelationDesc, &write->estate->es_tupleTable);
}

// Waits for the transaction writing the tuple a dirty-snapshot scan just returned, if any; true
// when it waited (the scan must look again).
bool
WaitForWriter(const SnapshotData *dirty)
{
	TransactionId writer = TransactionIdIsValid(dirty->xmin) ? dirty->xmin : dirty->xmax;
	if (!TransactionIdIsValid(writer))
		return false;
	XactLockTableWait(writer, nullptr, nullptr, XLTW_None);
	return true;
}

// Finds the entry (key, id) as it is now (committed, or written by this transaction), other than
// the tuple at skip (if valid), after waiting for any other transaction still writing it.
bool
FindEntry(DirectWrite *write, Datum key, Datum id, ItemPointer skip, TupleTableSlot *found)
{
	Relation entries = write->entries->ri_RelationDesc;
	Relation index = index_open(RelationGetReplicaIndex(entries), RowExclusiveLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, key);
	keys[0].sk_collation = index->rd_indcollation[0];
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_JSONB_EQ, id);
	SnapshotData dirty;
	InitDirtySnapshot(dirty);
	IndexScanDesc scan = index_beginscan(entries, index, &dirty, 2, 0);
	bool exists;
	do {
		index_rescan(scan, keys, 2, nullptr, 0);
		while ((exists = index_getnext_slot(scan, ForwardScanDirection, found)) && ItemPointerIsValid(skip) &&
		       ItemPointerEquals(skip, &found->tts_tid))
			;
	} while (exists && WaitForWriter(&dirty));
	index_endscan(scan);
	index_close(index, NoLock);
	return exists;
}

// A virtual slot holding an entry (key, id, doc).
TupleTableSlot *
EntrySlot(DirectWrite *write, Datum key, Datum id, Datum doc)
{
	TupleTableSlot *slot = NewSlot(write, write->entries);
	if (slot->tts_tupleDescriptor->natts != 3)
		elog(ERROR, "store: store.entries does not have the columns this library writes");
	slot->tts_values[0] = key;
	slot->tts_values[1] = id;
	slot->tts_values[2] = doc;
	memset(slot->tts_isnull, 0, 3 * sizeof(bool));
	return ExecStoreVirtualTuple(slot);
}

// Appends a history row (seq, origin, xid, cache_key, item, state, added_on) for this transaction.
void
AppendHistory(DirectWrite *write, Datum key, Datum item, bool item_is_null, const char *state)
{
	const StoreObjects &store = CurrentStoreObjects();
	TupleTableSlot *slot = NewSlot(write, write->history);
	if (slot->tts_tupleDescriptor->natts != 7)
		elog(ERROR, "store: store.history does not have the columns this library writes");
	slot->tts_values[0] = Int64GetDatum(nextval_internal(store.history_seq, false));
	slot->tts_values[1] = Int32GetDatum(store.origin);
	slot->tts_values[2] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	slot->tts_values[3] = key;
	slot->tts_values[4] = item;
	slot->tts_values[5] = CStringGetTextDatum(state);
	slot->tts_values[6] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	memset(slot->tts_isnull, 0, 7 * sizeof(bool));
	slot->tts_isnull[4] = item_is_null;
	ExecSimpleRelationInsert(write->history, write->estate, ExecStoreVirtualTuple(slot));
}

// True when the entry in stored holds exactly doc: identical documents have identical jsonb
// bytes (headers aside: a stored value may have the short one).
bool
StoredDocIs(TupleTableSlot *stored, Datum doc)
{
	bool is_null;
	Datum stored_doc = slot_getattr(stored, 3, &is_null);
	if (is_null)
		return false;
	struct varlena *a = PG_DETOAST_DATUM_PACKED(stored_doc);
	struct varlena *b = PG_DETOAST_DATUM_PACKED(doc);
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
	       memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

// Inserts entry (key, id, doc). The unique index only reports a duplicate here (it cannot exist
// while the store follows its table, so no lookup is paid up front); a stale one is then deleted.
void
InsertEntry(DirectWrite *write, Datum key, Datum id, Datum doc)
{
	TupleTableSlot *entry = EntrySlot(write, key, id, doc);
	simple_table_tuple_insert(write->entries->ri_RelationDesc, entry);
	bool duplicate = false;
	List *suspects = ExecInsertIndexTuples(write->entries, entry, write->estate, false, true, &duplicate, NIL);
	ExecARInsertTriggers(write->estate, write->entries, entry, NIL, nullptr);
	if (suspects == NIL)
		return;
	TupleTableSlot *stale = NewSlot(write, write->entries);
	while (FindEntry(write, key, id, &entry->tts_tid, stale))
		ExecSimpleRelationDelete(write->entries, write->estate, &write->epq, stale);
}

} // namespace

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

Oid
RelationOwner(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

SavedUser
BecomeRole(Oid role, int extra_flags)
{
	SavedUser saved;
	GetUserIdAndSecContext(&saved.user, &saved.context);
	SetUserIdAndSecContext(role,
	                       saved.context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION | extra_flags);
	return saved;
}

SavedUser
BecomeStoreOwner()
{
	return BecomeRole(StoreOwner());
}

void
RestoreUser(SavedUser saved)
{
	SetUserIdAndSecContext(saved.user, saved.context);
}

void
WriteCreate(const char *store_key, Datum id, Datum doc)
{
	DirectWrite write;
	BeginDirectWrite(&write);
	Datum key = CStringGetTextDatum(store_key);
	InsertEntry(&write, key, id, doc);
	AppendHistory(&write, key, id, false, "C");
	EndDirectWrite(&write);
}

bool
WriteUpdate(const char *store_key, Datum id, Datum doc)
{
	DirectWrite write;
	BeginDirectWrite(&write);
	Datum key = CStringGetTextDatum(store_key);
	TupleTableSlot *entry = EntrySlot(&write, key, id, doc);
	TupleTableSlot *old = NewSlot(&write, write.entries);
	bool changed = true;
	if (!FindEntry(&write, key, id, nullptr, old))
		InsertEntry(&write, key, id, doc);
	else if ((changed = !StoredDocIs(old, doc)))
		ExecSimpleRelationUpdate(write.entries, write.estate, &write.epq, old, entry);
	if (changed)
		AppendHistory(&write, key, id, false, "U");
	EndDirectWrite(&write);
	return changed;
}

void
WriteDelete(const char *store_key, Datum id)
{
	DirectWrite write;
	BeginDirectWrite(&write);
	Datum key = CStringGetTextDatum(store_key);
	TupleTableSlot *old = NewSlot(&write, write.entries);
	if (FindEntry(&write, key, id, nullptr, old))
		ExecSimpleRelationDelete(write.entries, write.estate, &write.epq, old);
	AppendHistory(&write, key, id, false, "D");
	EndDirectWrite(&write);
}

void
WriteTruncate(const char *store_key)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	int rc = ExecuteAsOwner(kTruncatePlan, args, false);
	if (rc != SPI_OK_INSERT || SPI_processed != 1)
		elog(ERROR, "store: writing the store failed: %s", SPI_result_code_string(rc));
}

bool
ReadRegistration(const char *store_key, Oid *source, Datum *columns, bool *all_columns)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	int rc = ReadLatestAsOwner(kRegistrationPlan, args);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading store.keys failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		return false;
	bool is_null;
	*source = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null));
	*columns = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, all_columns);
	return true;
}

} // namespace store::pg
