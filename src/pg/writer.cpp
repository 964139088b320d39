// Store writes. Item writes and history rows go straight to store.entries and store.history
// through the executor's per-tuple routines (heap, indexes, constraints): no parser, planner or
// executor start-up per row, and the row events of one statement share one executor state
// (StatementWrite). Emptying a key uses an SPI plan kept per backend. Every write runs as
// the owner of the store tables, which ordinary users cannot write.
#include "pg/writer.hpp"
#include "pg/direct_write.hpp"
#include "pg/sql_names.hpp"
#include "pg/guard.hpp"
#include "pg/kept_plan.hpp"
#include "pg/roles.hpp"
#include "pg/store_objects.hpp"

extern "C" {
#include "access/genam.h"
#include "access/nbtree.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"
}

namespace store::pg {

namespace {

const Oid kTruncateArgtypes[1] = {TEXTOID};

// Deletes the entries of key $1; fully schema-qualified, so it means the same under any search_path.
KeptPlan truncate_plan = {sql::kDeleteKeyEntries, 1, kTruncateArgtypes, nullptr};

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

// The (key, id) index of store.entries among info's open indexes.
Relation
EntriesIndex(ResultRelInfo *info)
{
	Oid replica = RelationGetReplicaIndex(info->ri_RelationDesc);
	for (int i = 0; i < info->ri_NumIndices; i++)
		if (RelationGetRelid(info->ri_IndexRelationDescs[i]) == replica)
			return info->ri_IndexRelationDescs[i];
	elog(ERROR, "store: the (key, id) index of store.entries is not open");
}

// One statement's direct writes to store.entries and store.history (E1): opened by the first
// item write of a statement's AFTER row events, kept across its row events (in memory of its own
// under TopTransactionContext), closed when the statement's executor state is freed (its
// ExecutorEnd), dropped without closing (the resource owner releases its relations and pins) when
// its transaction or subtransaction aborts. Item writes from anything else (a nested statement,
// COPY, a deferred trigger, another subtransaction or resource owner) open a state of their own
// for the one write, as before.
struct StatementWrite {
	DirectWrite write;
	MemoryContext context;   // holds this and the executor state
	MemoryContext statement; // the executor state memory of the statement whose events write
	uint64 generation;       // tells a stale end-of-statement callback from this one
	SubTransactionId sub;
	ResourceOwner owner;
};

StatementWrite *statement_write = nullptr;

// Numbers the statement write states, for their end-of-statement callbacks.
uint64 statement_generation = 0;

// Forgets the statement's write state without closing it (its transaction or subtransaction is
// aborting: the resource owner releases what it holds).
void
DropStatementWrite()
{
	MemoryContext context = statement_write->context;
	statement_write = nullptr;
	MemoryContextDelete(context);
}

// Closes the statement's write state (its statement ended).
void
CloseStatementWrite()
{
	StatementWrite *open = statement_write;
	statement_write = nullptr;
	ResourceOwner saved_owner = CurrentResourceOwner;
	CurrentResourceOwner = open->owner;
	CloseDirectWrite(&open->write);
	CurrentResourceOwner = saved_owner;
	MemoryContextDelete(open->context);
}

// The statement's executor memory is going: closes its write state (drops it when the memory goes
// because the transaction or subtransaction is aborting); a state since dropped is left alone.
void
EndOfStatement(void *arg)
{
	uint64 generation = *static_cast<uint64 *>(arg);
	if (statement_write == nullptr || statement_write->generation != generation)
		return;
	if (IsTransactionState())
		CloseStatementWrite();
	else
		DropStatementWrite();
}

// The executor state memory of the statement whose AFTER row event is running, when that is what
// runs (the trigger manager calls each event in a per-event context under the memory of the
// executor state that fires them); nullptr for anything else.
MemoryContext
FiringStatement()
{
	MemoryContext event = CurrentMemoryContext;
	if (strcmp(event->name, "AfterTriggerTupleContext") != 0)
		return nullptr;
	MemoryContext statement = MemoryContextGetParent(event);
	if (statement == nullptr || strcmp(statement->name, "ExecutorState") != 0)
		return nullptr;
	return statement;
}

// The statement's write state when this item write may use it (opened now if need be), else
// nullptr.
DirectWrite *
StatementDirectWrite()
{
	MemoryContext statement = FiringStatement();
	if (statement == nullptr || !ActiveSnapshotSet())
		return nullptr;
	if (statement_write != nullptr)
		return statement_write->statement == statement && statement_write->sub == GetCurrentSubTransactionId() &&
		               statement_write->owner == CurrentResourceOwner
		           ? &statement_write->write
		           : nullptr;
	MemoryContext context =
	    AllocSetContextCreate(TopTransactionContext, "store statement write", ALLOCSET_DEFAULT_SIZES);
	auto *open = static_cast<StatementWrite *>(MemoryContextAllocZero(context, sizeof(StatementWrite)));
	open->context = context;
	open->statement = statement;
	open->generation = ++statement_generation;
	open->sub = GetCurrentSubTransactionId();
	open->owner = CurrentResourceOwner;
	// the callback and its argument live in the statement's memory: they go with it
	auto *callback = static_cast<MemoryContextCallback *>(MemoryContextAlloc(statement, sizeof(MemoryContextCallback)));
	auto *generation = static_cast<uint64 *>(MemoryContextAlloc(statement, sizeof(uint64)));
	*generation = open->generation;
	callback->func = EndOfStatement;
	callback->arg = generation;
	MemoryContext caller = MemoryContextSwitchTo(context);
	OpenDirectWrite(&open->write, true);
	MemoryContextSwitchTo(caller);
	MemoryContextRegisterResetCallback(statement, callback);
	statement_write = open;
	return &open->write;
}

// An item write's state: the statement's, or one opened for this write alone (*single).
DirectWrite *
BeginItemWrite(DirectWrite *single)
{
	DirectWrite *write = StatementDirectWrite();
	if (write == nullptr) {
		write = single;
		OpenDirectWrite(write, true);
	}
	BeginWriting(write);
	return write;
}

// Ends an item write begun with BeginItemWrite.
void
EndItemWrite(DirectWrite *write, DirectWrite *single)
{
	EndWriting(write);
	if (write == single)
		CloseDirectWrite(write);
}

// Finds the entry (key, id) as it is now (committed, or written by this transaction), other than
// the tuple at skip (if valid), after waiting for any other transaction still writing it.
bool
FindEntry(DirectWrite *write, Datum key, Datum id, ItemPointer skip, TupleTableSlot *found)
{
	Relation entries = write->entries->ri_RelationDesc;
	Relation index = write->entries_index;
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
	return exists;
}

// *slot (created on first use), emptied.
TupleTableSlot *
EmptySlot(DirectWrite *write, ResultRelInfo *info, TupleTableSlot **slot)
{
	if (*slot == nullptr)
		*slot = NewSlot(write, info);
	return ExecClearTuple(*slot);
}

// A virtual slot holding an entry (key, id, doc).
TupleTableSlot *
EntrySlot(DirectWrite *write, Datum key, Datum id, Datum doc)
{
	const EntriesColumns &columns = CurrentStoreObjects().entries_columns;
	TupleTableSlot *slot = NullSlot(write, write->entries, &write->entry_slot);
	SetColumn(slot, columns.key, key);
	SetColumn(slot, columns.id, id);
	SetColumn(slot, columns.doc, doc);
	return ExecStoreVirtualTuple(slot);
}

// Appends a history row (seq, origin, xid, cache_key, item, state, added_on) for this
// transaction; key or item NULL when key_is_null or item_is_null.
void
AppendHistory(DirectWrite *write, Datum key, bool key_is_null, Datum item, bool item_is_null, const char *state)
{
	const StoreObjects &store = CurrentStoreObjects();
	const HistoryColumns &columns = store.history_columns;
	TupleTableSlot *slot = NullSlot(write, write->history, &write->history_slot);
	SetColumn(slot, columns.seq, Int64GetDatum(nextval_internal(store.history_seq, false)));
	SetColumn(slot, columns.origin, Int32GetDatum(store.origin));
	SetColumn(slot, columns.xid, FullTransactionIdGetDatum(GetTopFullTransactionId()));
	if (!key_is_null)
		SetColumn(slot, columns.cache_key, key);
	if (!item_is_null)
		SetColumn(slot, columns.item, item);
	SetColumn(slot, columns.state, CStringGetTextDatum(state));
	SetColumn(slot, columns.added_on, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()));
	ExecSimpleRelationInsert(write->history, write->estate, ExecStoreVirtualTuple(slot));
}

// Inserts entry (key, id, doc), as InsertEntrySlot.
void
InsertEntry(DirectWrite *write, Datum key, Datum id, Datum doc)
{
	InsertEntrySlot(write, EntrySlot(write, key, id, doc), key, id);
}

} // namespace

// Opens store.history (and store.entries with with_entries) for writes, in the current memory
// context: executor state, result relations and their indexes (locks them as an INSERT would).
void
OpenDirectWrite(DirectWrite *write, bool with_entries)
{
	const StoreObjects &store = CurrentStoreObjects();
	write->estate = CreateExecutorState();
	MemoryContext caller = MemoryContextSwitchTo(write->estate->es_query_cxt);
	if (with_entries) // (entries locked first, always)
		ExecInitRangeTable(write->estate, list_make2(WrittenTable(store.entries), WrittenTable(store.history)));
	else
		ExecInitRangeTable(write->estate, list_make1(WrittenTable(store.history)));
	write->entries = with_entries ? OpenResultRelation(write->estate, 1) : nullptr;
	write->history = OpenResultRelation(write->estate, with_entries ? 2 : 1);
	write->entries_index = with_entries ? EntriesIndex(write->entries) : nullptr;
	EvalPlanQualInit(&write->epq, write->estate, nullptr, NIL, -1);
	write->entry_slot = write->old_slot = write->stale_slot = write->history_slot = nullptr;
	MemoryContextSwitchTo(caller);
}

// Closes what OpenDirectWrite opened, and the store tables the trigger manager opened to fire a
// superuser's triggers on them (they leaked before: a "relcache reference leak" warning per row
// at commit); locks stay until commit. Frees its memory.
void
CloseDirectWrite(DirectWrite *write)
{
	EvalPlanQualEnd(&write->epq);
	ExecCloseResultRelations(write->estate);
	if (write->entries != nullptr)
		ExecCloseIndices(write->entries);
	ExecCloseIndices(write->history);
	ExecResetTupleTable(write->estate->es_tupleTable, false);
	ExecCloseRangeTableRelations(write->estate);
	FreeExecutorState(write->estate);
}

// Starts one write through an open state, as the store owner, in the current command and the
// active snapshot (a fresh one when the caller has none); the write's own after-trigger query
// level, so triggers a superuser put on the store tables fire at EndWriting.
void
BeginWriting(DirectWrite *write)
{
	write->saved = BecomeStoreOwner();
	write->pushed_snapshot = !ActiveSnapshotSet();
	if (write->pushed_snapshot)
		PushActiveSnapshot(GetTransactionSnapshot());
	write->estate->es_output_cid = GetCurrentCommandId(true);
	write->estate->es_snapshot = GetActiveSnapshot();
	AfterTriggerBeginQuery();
}

// Fires what the write queued, lets go of the tuples it held and returns to the calling user.
void
EndWriting(DirectWrite *write)
{
	AfterTriggerEndQuery(write->estate);
	TupleTableSlot *slots[] = {write->entry_slot, write->old_slot, write->stale_slot, write->history_slot};
	for (TupleTableSlot *slot : slots)
		if (slot != nullptr)
			ExecClearTuple(slot);
	ResetPerTupleExprContext(write->estate);
	write->estate->es_snapshot = InvalidSnapshot;
	if (write->pushed_snapshot)
		PopActiveSnapshot();
	RestoreUser(write->saved);
}

// An empty slot for rows of info's table, in the executor state's memory and freed with it.
TupleTableSlot *
NewSlot(DirectWrite *write, ResultRelInfo *info)
{
	MemoryContext caller = MemoryContextSwitchTo(write->estate->es_query_cxt);
	TupleTableSlot *slot = table_slot_create(info->ri_RelationDesc, &write->estate->es_tupleTable);
	MemoryContextSwitchTo(caller);
	return slot;
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

// *slot (created on first use) emptied, with every column NULL, to be filled by position.
TupleTableSlot *
NullSlot(DirectWrite *write, ResultRelInfo *info, TupleTableSlot **slot)
{
	if (*slot == nullptr)
		*slot = NewSlot(write, info);
	ExecClearTuple(*slot);
	memset((*slot)->tts_isnull, 1, (*slot)->tts_tupleDescriptor->natts * sizeof(bool));
	return *slot;
}

// Sets column index of slot to value (not NULL).
void
SetColumn(TupleTableSlot *slot, int index, Datum value)
{
	slot->tts_values[index] = value;
	slot->tts_isnull[index] = false;
}

// True when the entry in stored holds exactly doc: identical documents have identical jsonb
// bytes (headers aside: a stored value may have the short one).
bool
StoredDocIs(TupleTableSlot *stored, Datum doc)
{
	bool is_null;
	Datum stored_doc = slot_getattr(stored, CurrentStoreObjects().entries_columns.doc + 1, &is_null);
	if (is_null)
		return false;
	struct varlena *a = PG_DETOAST_DATUM_PACKED(stored_doc);
	struct varlena *b = PG_DETOAST_DATUM_PACKED(doc);
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
	       memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

// Inserts the entry in slot entry (virtual: key, id, doc; its position is set after). The unique
// index only reports a duplicate here (it cannot exist while the store follows its table, so no
// lookup is paid up front); a stale one is then deleted.
void
InsertEntrySlot(DirectWrite *write, TupleTableSlot *entry, Datum key, Datum id)
{
	simple_table_tuple_insert(write->entries->ri_RelationDesc, entry);
	bool duplicate = false;
	List *suspects = ExecInsertIndexTuples(write->entries, entry, write->estate, false, true, &duplicate, NIL);
	ExecARInsertTriggers(write->estate, write->entries, entry, NIL, nullptr);
	if (suspects == NIL)
		return;
	TupleTableSlot *stale = EmptySlot(write, write->entries, &write->stale_slot);
	while (FindEntry(write, key, id, &entry->tts_tid, stale))
		ExecSimpleRelationDelete(write->entries, write->estate, &write->epq, stale);
}

namespace {

// A transaction's end forgets its statement write state (its memory goes with the transaction).
// One still open at commit would be a bug (its statement's end closes it): forgotten, not closed
// (its resource owner may be gone), so the commit reports its relations as leaked.
extern "C" void
store_writer_on_xact_event(XactEvent event, void *)
{
	statement_write = nullptr;
}

// A subtransaction's abort drops the statement write state it opened.
extern "C" void
store_writer_on_subxact_event(SubXactEvent event, SubTransactionId sub, SubTransactionId, void *)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && statement_write != nullptr && statement_write->sub == sub)
		DropStatementWrite();
}

} // namespace

void
WriteCreate(const char *store_key, Datum id, Datum doc)
{
	DirectWrite single;
	DirectWrite *write = BeginItemWrite(&single);
	Datum key = CStringGetTextDatum(store_key);
	InsertEntry(write, key, id, doc);
	AppendHistory(write, key, false, id, false, "C");
	EndItemWrite(write, &single);
}

bool
WriteUpdate(const char *store_key, Datum id, Datum doc)
{
	DirectWrite single;
	DirectWrite *write = BeginItemWrite(&single);
	Datum key = CStringGetTextDatum(store_key);
	TupleTableSlot *old = EmptySlot(write, write->entries, &write->old_slot);
	bool changed = true;
	if (!FindEntry(write, key, id, nullptr, old))
		InsertEntry(write, key, id, doc);
	else if ((changed = !StoredDocIs(old, doc)))
		ExecSimpleRelationUpdate(write->entries, write->estate, &write->epq, old, EntrySlot(write, key, id, doc));
	if (changed)
		AppendHistory(write, key, false, id, false, "U");
	EndItemWrite(write, &single);
	return changed;
}

void
WriteDelete(const char *store_key, Datum id)
{
	DirectWrite single;
	DirectWrite *write = BeginItemWrite(&single);
	Datum key = CStringGetTextDatum(store_key);
	TupleTableSlot *old = EmptySlot(write, write->entries, &write->old_slot);
	if (FindEntry(write, key, id, nullptr, old))
		ExecSimpleRelationDelete(write->entries, write->estate, &write->epq, old);
	AppendHistory(write, key, false, id, false, "D");
	EndItemWrite(write, &single);
}

void
WriteTruncate(const char *store_key)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	int rc = ExecuteKeptPlan(&truncate_plan, args, false);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "store: writing the store failed: %s", SPI_result_code_string(rc));
	AppendHistoryRow(store_key, (Datum)0, true, "U");
}

void
InitDirectWrites()
{
	RegisterXactCallback(store_writer_on_xact_event, nullptr);
	RegisterSubXactCallback(store_writer_on_subxact_event, nullptr);
}

void
AppendHistoryRow(const char *store_key, Datum item, bool item_is_null, const char *state)
{
	DirectWrite write;
	OpenDirectWrite(&write, false);
	BeginWriting(&write);
	Datum key = store_key == nullptr ? (Datum)0 : CStringGetTextDatum(store_key);
	AppendHistory(&write, key, store_key == nullptr, item, item_is_null, state);
	EndWriting(&write);
	CloseDirectWrite(&write);
}

} // namespace store::pg

namespace {

// Errors unless state is one a row with item NULL may have: U (the key's documents replaced) or
// D (the key removed) for a key, F (every key reloaded) for the whole store (key NULL); the
// readers take any other such row for something it is not.
void
RequireWholeKeyState(const char *key, const char *state)
{
	bool whole_key = strcmp(state, "U") == 0 || strcmp(state, "D") == 0;
	bool whole_store = strcmp(state, "F") == 0;
	if (!whole_key && !whole_store)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("invalid state \"%s\" for a whole-key or whole-store history row", state),
		                errhint("Use U (the key's documents replaced) or D (the key removed) with a store key, "
		                        "or F (every key reloaded) with cache_key NULL.")));
	if (whole_store && key != nullptr)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("history state \"F\" is for the whole store, not for store key \"%s\"", key),
		                errhint("Pass cache_key NULL with F; a single key's documents replaced is U.")));
	if (whole_key && key == nullptr)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("history state \"%s\" needs a store key", state),
		         errhint("Pass the key as cache_key; the whole store reloaded is F with cache_key NULL.")));
}

// store._append_history(cache_key, state): the SQL functions' way to the one history appender
// (a whole-key or whole-store row, item NULL).
Datum
AppendHistorySql(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("a history row needs a state")));
	const char *key = PG_ARGISNULL(0) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *state = text_to_cstring(PG_GETARG_TEXT_PP(1));
	RequireWholeKeyState(key, state);
	store::pg::AppendHistoryRow(key, (Datum)0, true, state);
	PG_RETURN_VOID();
}

} // namespace

STORE_ENTRY(store_append_history, AppendHistorySql)
