// Reloading a key's documents in place (store._reload_entries, for store._rebuild under READ
// COMMITTED): the table's rows are rendered through a cursor and each document is compared with
// its entry as it comes, so only entries that differ are written. A pass over the key's entries
// (ReloadPass) follows the rendered rows with a stepping index scan, remembers the entries it kept,
// and at the end deletes the entries no row came for. No history row is written here (the caller
// logs the whole key).
#include "pg/direct_write.hpp"
#include "pg/guard.hpp"
#include "pg/source_rows.hpp"
#include "pg/store_objects.hpp"

extern "C" {
#include "access/genam.h"
#include "access/nbtree.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
}

namespace store::pg {

namespace {

// The kept entries of a reload: one bit per heap tuple position (block, offset) of
// store.entries, in chunks of kBlocksPerChunk blocks allocated as positions come (memory follows
// where the key's entries are, not the size of the whole table).
struct KeptTids {
	uint64 **chunks;
	uint64 nchunks;
};

constexpr uint64 kTidsPerBlock = MaxHeapTuplesPerPage + 1;
constexpr uint64 kBlocksPerChunk = 1024;
constexpr uint64 kWordsPerChunk = kBlocksPerChunk * kTidsPerBlock / 64 + 1;

// The chunk of tid, its bit in it.
uint64
TidChunk(ItemPointer tid)
{
	return ItemPointerGetBlockNumber(tid) / kBlocksPerChunk;
}

uint64
TidBit(ItemPointer tid)
{
	return (ItemPointerGetBlockNumber(tid) % kBlocksPerChunk) * kTidsPerBlock + ItemPointerGetOffsetNumber(tid);
}

// Marks tid kept (the chunks in context).
void
KeepTid(KeptTids *kept, MemoryContext context, ItemPointer tid)
{
	uint64 chunk = TidChunk(tid);
	if (chunk >= kept->nchunks) {
		uint64 grown = Max(kept->nchunks * 2, chunk + 16);
		kept->chunks =
		    static_cast<uint64 **>(kept->chunks == nullptr ? MemoryContextAllocHuge(context, grown * sizeof(uint64 *))
		                                                   : repalloc_huge(kept->chunks, grown * sizeof(uint64 *)));
		memset(kept->chunks + kept->nchunks, 0, (grown - kept->nchunks) * sizeof(uint64 *));
		kept->nchunks = grown;
	}
	if (kept->chunks[chunk] == nullptr)
		kept->chunks[chunk] = static_cast<uint64 *>(MemoryContextAllocZero(context, kWordsPerChunk * sizeof(uint64)));
	uint64 bit = TidBit(tid);
	kept->chunks[chunk][bit / 64] |= uint64{1} << (bit % 64);
}

// True when tid was kept.
bool
TidKept(const KeptTids *kept, ItemPointer tid)
{
	uint64 chunk = TidChunk(tid);
	if (chunk >= kept->nchunks || kept->chunks[chunk] == nullptr)
		return false;
	uint64 bit = TidBit(tid);
	return (kept->chunks[chunk][bit / 64] & (uint64{1} << (bit % 64))) != 0;
}

// The next entry an index scan in a dirty snapshot finds, as index_getnext_slot finds it, with the
// position the index gave (root: the head of its HOT chain). Entries at a kept position are
// passed over unread when kept is given.
bool
NextEntry(IndexScanDesc scan, TupleTableSlot *found, ItemPointer root, const KeptTids *kept)
{
	for (;;) {
		if (!scan->xs_heap_continue) {
			ItemPointer tid = index_getnext_tid(scan, ForwardScanDirection);
			if (tid == nullptr)
				return false;
			*root = *tid;
			if (kept != nullptr && TidKept(kept, tid))
				continue;
		}
		if (index_fetch_heap(scan, found))
			return true;
	}
}

// Finds entry (key, id) with an open index scan of store.entries in snapshot dirty, after waiting
// for any other transaction still writing it.
bool
LookUpEntry(IndexScanDesc scan, ScanKey keys, SnapshotData *dirty, TupleTableSlot *found, ItemPointer root)
{
	bool exists;
	do {
		index_rescan(scan, keys, 2, nullptr, 0);
		exists = NextEntry(scan, found, root, nullptr);
	} while (exists && WaitForWriter(dirty));
	return exists;
}

// An index scan of one key's entries that follows the rendered rows: while they come in id order
// (a table filled in key order, a serial key), each lookup steps to the next index entry instead
// of descending the index again; any other order repositions it (a descent, as a lookup would).
struct SteppingScan {
	Relation entries;
	Relation index;
	SnapshotData dirty;
	IndexScanDesc scan;
	ScanKeyData keys[2]; // key = the key, id >= the id looked up
	FmgrInfo *compare;   // the index's id order
	Oid collation;
	bool positioned;  // a lookup ran since the last repositioning
	Datum last_id;    // the id it looked up (a copy in the pass's context)
	Datum bound;      // the id it was repositioned at (a copy: the scan key points to it)
	bool pending;     // the scan stands on an index entry no lookup has taken yet
	Datum pending_id; // its id (in the scan's tuple copy)
	bool exhausted;   // the scan passed the key's last entry (a key without entries: at once)
};

struct ReloadPass {
	const char *store_key;
	Datum key;
	MemoryContext context; // the pass's: the kept positions, the stepping scan
	MemoryContext batch;   // reset after each batch
	KeptTids kept;
	SteppingScan step;
	int64 written;
	int64 steps, descents; // (how lookups went)
};

// Order of ids a and b in the index's order.
int
CompareIds(SteppingScan *step, Datum a, Datum b)
{
	return DatumGetInt32(FunctionCall2Coll(step->compare, step->collation, a, b));
}

// Opens the stepping scan of key's entries (in the current memory context).
void
BeginSteppingScan(SteppingScan *step, Datum key)
{
	step->entries = table_open(StoreEntries(), RowExclusiveLock);
	step->index = index_open(RelationGetReplicaIndex(step->entries), RowExclusiveLock);
	InitDirtySnapshot(step->dirty);
	step->scan = index_beginscan(step->entries, step->index, &step->dirty, 2, 0);
	step->scan->xs_want_itup = true; // (the ids are read from the index before the heap)
	ScanKeyInit(&step->keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, key);
	step->keys[0].sk_collation = step->index->rd_indcollation[0];
	ScanKeyInit(&step->keys[1], 2, BTGreaterEqualStrategyNumber, F_JSONB_GE, (Datum)0);
	step->compare = index_getprocinfo(step->index, 2, BTORDER_PROC);
	step->collation = step->index->rd_indcollation[1];
	index_rescan(step->scan, step->keys, 2, nullptr, 0); // (btree's tuple workspace, here, in this context)
	step->positioned = false;
	step->pending = false;
	step->exhausted = false;
	step->last_id = (Datum)0;
	step->bound = (Datum)0;
}

// Closes it.
void
EndSteppingScan(SteppingScan *step)
{
	index_endscan(step->scan);
	index_close(step->index, NoLock);
	table_close(step->entries, NoLock);
}

// The next index entry's id, the scan standing on it (pending); false at the key's end.
bool
StepToNext(SteppingScan *step)
{
	if (!step->pending) {
		if (index_getnext_tid(step->scan, ForwardScanDirection) == nullptr)
			return false;
		bool is_null;
		step->pending_id = index_getattr(step->scan->xs_itup, 2, step->scan->xs_itupdesc, &is_null);
		step->pending = true;
	}
	return true;
}

// StepTo's work, in the pass's memory context.
bool
StepToIn(ReloadPass *pass, SteppingScan *step, Datum id, TupleTableSlot *found, ItemPointer root, bool *sure)
{
	bool reposition = !step->positioned || CompareIds(step, step->last_id, id) >= 0;
	if (step->last_id != (Datum)0)
		pfree(DatumGetPointer(step->last_id));
	step->last_id = datumCopy(id, false, -1);
	step->positioned = true;
	if (reposition) {
		Datum previous = step->bound;
		step->bound = datumCopy(id, false, -1);
		step->keys[1].sk_argument = step->bound;
		index_rescan(step->scan, step->keys, 2, nullptr, 0);
		if (previous != (Datum)0)
			pfree(DatumGetPointer(previous));
		step->pending = false;
		step->exhausted = false;
		pass->descents++;
	} else if (step->exhausted) { // past the key's last entry, and id comes after the last one
		*sure = true;
		return false;
	} else
		pass->steps++;
	for (int skipped = 0; StepToNext(step);) {
		int order = CompareIds(step, step->pending_id, id);
		if (order > 0) { // no entry for id: the scan stays on the next one
			*sure = true;
			return false;
		}
		if (order < 0) { // an entry no row before id came for (or a row that comes later)
			step->pending = false;
			if (++skipped > 8) { // far behind: descend instead
				step->positioned = false;
				return false;
			}
			continue;
		}
		step->pending = false; // taken
		*root = step->scan->xs_heaptid;
		while (index_fetch_heap(step->scan, found)) {
			if (WaitForWriter(&step->dirty)) { // (then the caller looks again, by descending)
				step->positioned = false;
				return false;
			}
			*sure = true;
			return true;
		}
	}
	*sure = true; // the key's entries end before id
	step->exhausted = true;
	return false;
}

// Looks id up by stepping (see SteppingScan): the entry as it is now into found and the index's
// position of it into root, true when it exists; waits for a writer still at it. False also when
// stepping cannot tell (the caller then looks it up by descending).
bool
StepTo(ReloadPass *pass, Datum id, TupleTableSlot *found, ItemPointer root, bool *sure)
{
	SteppingScan *step = &pass->step;
	*sure = false;
	// (the scan allocates as it goes, e.g. btree's list of dead items: in the pass's context)
	MemoryContext caller = MemoryContextSwitchTo(pass->context);
	bool exists = StepToIn(pass, step, id, found, root, sure);
	MemoryContextSwitchTo(caller);
	return exists;
}

// store.entries' (key, id) index scanned in a dirty snapshot (entries as they are now), with a
// slot for what it finds: a reload's lookups and its final pass.
struct EntriesScan {
	SnapshotData dirty;
	IndexScanDesc scan;
	TupleTableSlot *found;
};

// Opens it with nkeys scan keys, through write's open index.
void
OpenEntriesScan(DirectWrite *write, EntriesScan *entries, int nkeys)
{
	InitDirtySnapshot(entries->dirty);
	entries->scan = index_beginscan(write->entries->ri_RelationDesc, write->entries_index, &entries->dirty, nkeys, 0);
	entries->found = NewSlot(write, write->entries);
}

// Starts a reload of key's entries (READ COMMITTED, under the lock that keeps the key's writers out).
ReloadPass *
BeginReload(const char *store_key)
{
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "store reload", ALLOCSET_DEFAULT_SIZES);
	ReloadPass *pass = static_cast<ReloadPass *>(MemoryContextAllocZero(context, sizeof(ReloadPass)));
	pass->context = context;
	pass->batch = AllocSetContextCreate(context, "store reload batch", ALLOCSET_DEFAULT_SIZES);
	pass->store_key = MemoryContextStrdup(context, store_key);
	MemoryContext caller = MemoryContextSwitchTo(context);
	pass->key = CStringGetTextDatum(store_key);
	BeginSteppingScan(&pass->step, pass->key);
	MemoryContextSwitchTo(caller);
	return pass;
}

// Brings count entries (ids[i], docs[i]) level: an entry already holding its document is left as it
// is, one holding another is updated, a missing one inserted.
void
ReloadEntries(ReloadPass *pass, const Datum *ids, const Datum *docs, int count)
{
	MemoryContext caller = MemoryContextSwitchTo(pass->batch);
	DirectWrite write;
	OpenDirectWrite(&write, true);
	BeginWriting(&write);
	EntriesScan lookup;
	OpenEntriesScan(&write, &lookup, 2);
	Relation index = write.entries_index;
	TupleTableSlot *found = lookup.found;
	TupleTableSlot *entry = NullSlot(&write, write.entries, &write.entry_slot);
	const EntriesColumns &columns = CurrentStoreObjects().entries_columns;
	for (int i = 0; i < count; i++) {
		ItemPointerData root;
		ItemPointerSetInvalid(&root);
		bool sure;
		bool exists = StepTo(pass, ids[i], found, &root, &sure);
		if (!sure) {
			ScanKeyData keys[2];
			ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, pass->key);
			keys[0].sk_collation = index->rd_indcollation[0];
			ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_JSONB_EQ, ids[i]);
			exists = LookUpEntry(lookup.scan, keys, &lookup.dirty, found, &root);
		}
		if (exists && StoredDocIs(found, docs[i])) { // unchanged: nothing to write
			KeepTid(&pass->kept, pass->context, &root);
			continue;
		}
		ExecClearTuple(entry);
		memset(entry->tts_isnull, 1, entry->tts_tupleDescriptor->natts * sizeof(bool));
		SetColumn(entry, columns.key, pass->key);
		SetColumn(entry, columns.id, ids[i]);
		SetColumn(entry, columns.doc, docs[i]);
		ExecStoreVirtualTuple(entry);
		if (exists) {
			ExecSimpleRelationUpdate(write.entries, write.estate, &write.epq, found, entry);
			KeepTid(&pass->kept, pass->context, &root); // (a HOT update keeps the chain's head)
		} else
			InsertEntrySlot(&write, entry, pass->key, ids[i]);
		KeepTid(&pass->kept, pass->context, &entry->tts_tid);
		pass->written++;
	}
	index_endscan(lookup.scan);
	EndWriting(&write);
	CloseDirectWrite(&write);
	MemoryContextSwitchTo(caller);
	MemoryContextReset(pass->batch);
}

// Deletes the key's entries no document came for and frees the pass; the number of entries written.
int64
EndReload(ReloadPass *pass)
{
	EndSteppingScan(&pass->step);
	elog(DEBUG1, "store: reload of \"%s\": %ld lookups stepped, %ld descended", pass->store_key, (long)pass->steps,
	     (long)pass->descents);
	MemoryContext caller = MemoryContextSwitchTo(pass->batch);
	DirectWrite write;
	OpenDirectWrite(&write, true);
	BeginWriting(&write);
	EntriesScan rest;
	OpenEntriesScan(&write, &rest, 1);
	IndexScanDesc scan = rest.scan;
	ScanKeyData keys[1];
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, pass->key);
	keys[0].sk_collation = write.entries_index->rd_indcollation[0];
	TupleTableSlot *found = rest.found;
	bool again = true;
	while (again) { // (from the start again after waiting for a writer)
		again = false;
		index_rescan(scan, keys, 1, nullptr, 0);
		ItemPointerData root;
		ItemPointerSetInvalid(&root);
		while (NextEntry(scan, found, &root, &pass->kept)) {
			if ((again = WaitForWriter(&rest.dirty)))
				break;
			ExecSimpleRelationDelete(write.entries, write.estate, &write.epq, found);
			pass->written++;
		}
	}
	index_endscan(scan);
	EndWriting(&write);
	CloseDirectWrite(&write);
	MemoryContextSwitchTo(caller);
	int64 written = pass->written;
	MemoryContextDelete(pass->context);
	return written;
}

// A rendered document as store.entries stores it (json; jsonb in 0.1.0's layout).
Datum
StoredDoc(Datum doc)
{
	if (StoredDocType() == JSONOID)
		return doc;
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(TextDatumGetCString(doc)));
}

// Brings the entries of one batch of rendered rows (id, doc) level.
void
ReloadBatch(void *state, SPITupleTable *rows, uint64 count)
{
	auto *pass = static_cast<ReloadPass *>(state);
	Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, uint64{1})));
	Datum *docs = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, uint64{1})));
	for (uint64 i = 0; i < count; i++) {
		bool id_null, doc_null;
		ids[i] = SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &id_null);
		docs[i] = SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &doc_null);
		if (id_null || doc_null)
			elog(ERROR, "store: a rendered row has a NULL id or document");
		docs[i] = StoredDoc(docs[i]);
	}
	ReloadEntries(pass, ids, docs, (int)count);
	pfree(ids);
	pfree(docs);
}

// store._reload_entries(key): brings key's entries level with its table, writing only the entries
// that differ; the number written. The caller holds the lock that keeps the key's writers out
// and reads in READ COMMITTED (store._rebuild).
Datum
ReloadEntriesSql(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	if (IsolationUsesXactSnapshot())
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("store._reload_entries needs READ COMMITTED")));
	ReloadPass *pass = BeginReload(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	ConsumeSourceRows(PG_GETARG_DATUM(0), ReloadBatch, pass);
	PG_RETURN_INT64(EndReload(pass));
}

} // namespace

} // namespace store::pg

using store::pg::ReloadEntriesSql;

STORE_ENTRY(store_reload_entries, ReloadEntriesSql)
