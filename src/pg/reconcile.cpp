// Reconciling a partitioned key (see reconcile.hpp): store._reconcile(key) for the event
// triggers on partition DDL and DROP (sql/0.3.0/20-tables.sql, 40-triggers.sql), and Reconcile()
// for the capture trigger when one partition is truncated. Every write goes through writer.cpp.
#include "pg/reconcile.hpp"
#include "pg/guard.hpp"
#include "pg/roles.hpp"
#include "pg/source_rows.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/store_objects.hpp"
#include "pg/writer.hpp"
#include "pg/xact.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "utils/snapmgr.h"
}

namespace store::pg {

namespace {

// Rows of one or two columns (id jsonb[, doc json]) kept for the comparison.
TupleDesc
RowsDesc(bool with_doc)
{
	TupleDesc desc = CreateTemplateTupleDesc(with_doc ? 2 : 1);
	TupleDescInitEntry(desc, 1, "id", JSONBOID, -1, 0);
	if (with_doc)
		TupleDescInitEntry(desc, 2, "doc", JSONOID, -1, 0);
	return desc;
}

// The tuplestores of one reconciliation: the table's rows in id order, and what differs.
struct Difference {
	MemoryContext context; // where rows read back live (not SPI's, which ends first)
	TupleDesc rows_desc;   // (id, doc)
	TupleDesc ids_desc;    // (id)
	Tuplestorestate *rows; // the table's rows, in id order
	Tuplestorestate *gone; // ids of entries without a row, in id order
	Tuplestorestate *came; // rows without an entry, in id order
	TupleTableSlot *row;   // the current row of rows
	bool have_row;         // row holds one (rows not used up)
};

// Empty tuplestores (and a slot for the rows) in the current memory context.
void
BeginDifference(Difference *diff)
{
	diff->context = CurrentMemoryContext;
	diff->rows_desc = RowsDesc(true);
	diff->ids_desc = RowsDesc(false);
	diff->rows = tuplestore_begin_heap(false, false, work_mem);
	diff->gone = tuplestore_begin_heap(false, false, work_mem);
	diff->came = tuplestore_begin_heap(false, false, work_mem);
	diff->row = MakeSingleTupleTableSlot(diff->rows_desc, &TTSOpsMinimalTuple);
	diff->have_row = false;
}

// The id of the current row.
Datum
RowId(Difference *diff)
{
	bool is_null;
	return slot_getattr(diff->row, 1, &is_null);
}

// Moves to the next row of the table; false when they are used up. (A row read back from disk
// is allocated in the current memory context: diff's, which outlives the SPI connection.)
bool
NextRow(Difference *diff)
{
	MemoryContext caller = MemoryContextSwitchTo(diff->context);
	diff->have_row = tuplestore_gettupleslot(diff->rows, true, false, diff->row);
	MemoryContextSwitchTo(caller);
	return diff->have_row;
}

// Order of two ids as ORDER BY sorts jsonb (the rows and the entries come sorted by it).
int
CompareIds(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(jsonb_cmp, a, b));
}

// Takes the entry id as the merge meets it: the rows before it have no entry (came), a row with
// the same id has it (neither), no such row leaves it without one (gone).
void
MeetEntry(Difference *diff, Datum id)
{
	int order = -1;
	while (diff->have_row && (order = CompareIds(RowId(diff), id)) < 0) {
		tuplestore_puttupleslot(diff->came, diff->row);
		NextRow(diff);
	}
	if (diff->have_row && order == 0) {
		NextRow(diff);
		return;
	}
	bool is_null = false;
	tuplestore_putvalues(diff->gone, diff->ids_desc, &id, &is_null);
}

// Merges key's entry ids (in id order, read as the store owner) with the table's rows in diff.
void
CompareWithEntries(Difference *diff, Datum key)
{
	NextRow(diff);
	ConnectSpi();
	SavedUser saved = BecomeStoreOwner();
	Oid argtypes[1] = {TEXTOID};
	Datum args[1] = {key};
	Portal portal =
	    SPI_cursor_open_with_args(nullptr, sql::kKeyEntryIds, 1, argtypes, args, nullptr, true, CURSOR_OPT_NO_SCROLL);
	for (;;) {
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++) {
			bool is_null;
			MeetEntry(diff, SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &is_null));
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	RestoreUser(saved);
	SPI_finish();
	for (; diff->have_row; NextRow(diff))
		tuplestore_puttupleslot(diff->came, diff->row);
}

// A rendered document as store.entries stores it (json; jsonb in 0.1.0's layout).
Datum
StoredDoc(Datum doc)
{
	if (StoredDocType() == JSONOID)
		return doc;
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(TextDatumGetCString(doc)));
}

// Writes the difference: the gone entries deleted (D), then the rows that came (C); the number
// of history rows appended.
int64
WriteDifference(Difference *diff, const char *store_key)
{
	int64 changes = 0;
	TupleTableSlot *id_slot = MakeSingleTupleTableSlot(diff->ids_desc, &TTSOpsMinimalTuple);
	bool is_null;
	while (tuplestore_gettupleslot(diff->gone, true, false, id_slot)) {
		WriteDelete(store_key, slot_getattr(id_slot, 1, &is_null));
		changes++;
	}
	while (tuplestore_gettupleslot(diff->came, true, false, diff->row)) {
		WriteCreate(store_key, slot_getattr(diff->row, 1, &is_null), StoredDoc(slot_getattr(diff->row, 2, &is_null)));
		changes++;
	}
	ExecDropSingleTupleTableSlot(id_slot);
	return changes;
}

// Frees the tuplestores and the slot.
void
EndDifference(Difference *diff)
{
	ExecDropSingleTupleTableSlot(diff->row);
	tuplestore_end(diff->rows);
	tuplestore_end(diff->gone);
	tuplestore_end(diff->came);
}

} // namespace

void
Reconcile(const char *store_key)
{
	Datum key = CStringGetTextDatum(store_key);
	Difference diff;
	BeginDifference(&diff);
	// what this transaction did so far and what others committed, in every isolation level: under
	// REPEATABLE READ the transaction's snapshot would miss rows committed since it was taken
	CommandCounterIncrement();
	PushActiveSnapshot(GetLatestSnapshot());
	SavedUser saved = BecomeStoreOwner(); // (the registration is read as the store owner)
	RenderSourceRows(key, true, diff.rows, diff.rows_desc);
	RestoreUser(saved);
	CompareWithEntries(&diff, key);
	PopActiveSnapshot();
	int64 changes = WriteDifference(&diff, store_key);
	EndDifference(&diff);
	if (changes > 0)
		NoteChange(store_key);
}

} // namespace store::pg

namespace {

// store._reconcile(key): Reconcile for the event triggers on partition DDL and DROP.
Datum
ReconcileSql(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	store::pg::Reconcile(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

} // namespace

STORE_ENTRY(store_reconcile, ReconcileSql)
