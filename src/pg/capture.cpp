// The capture trigger: keeps store.entries and store.history in step with a registered table,
// inside the writing transaction. AFTER ... FOR EACH ROW for INSERT/UPDATE/DELETE and
// AFTER TRUNCATE FOR EACH STATEMENT; the trigger's single argument is the store key.
#include "pg/doc_shape.hpp"
#include "pg/filter.hpp"
#include "pg/reconcile.hpp"
#include "pg/guard.hpp"
#include "pg/spi_session.hpp"
#include "pg/store_objects.hpp"
#include "pg/writer.hpp"
#include "pg/xact.hpp"

namespace {

using namespace store::pg;

// Checks that PostgreSQL called us the way store_register installs us; returns the trigger data.
TriggerData *
CheckTriggerCall(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("store.capture() must be called as a trigger")));
	auto *data = reinterpret_cast<TriggerData *>(fcinfo->context);
	if (!TRIGGER_FIRED_AFTER(data->tg_event) || data->tg_trigger->tgnargs != 1)
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("store.capture() must be an AFTER trigger with the store key as its argument"),
		                errhint("Use store_register() to install store triggers.")));
	bool row_level = TRIGGER_FIRED_FOR_ROW(data->tg_event);
	if (row_level == TRIGGER_FIRED_BY_TRUNCATE(data->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("store.capture() runs per row for INSERT, UPDATE and DELETE and per statement for "
		                       "TRUNCATE")));
	return data;
}

// Byte equality of two freshly built jsonb values: identical documents have identical bytes.
bool
SameJsonb(Datum a, Datum b)
{
	return datumIsEqual(a, b, false, -1);
}

// What one row event writes: the old row's id, the new row's id and document (each 0 when the
// event has no such row), rendered canonically with the table owner's rights.
struct RenderedRow {
	Datum old_id;
	Datum new_id;
	Datum new_doc;
};

// Renders what the event needs: ids of the old and new rows, the new row's document (called
// between BeginRendering and EndRendering).
RenderedRow
RenderRow(const DocShape *shape, HeapTuple old_row, HeapTuple new_row, TupleDesc desc)
{
	RenderedRow rendered = {0, 0, 0};
	if (old_row != nullptr)
		rendered.old_id = BuildId(shape, old_row, desc);
	if (new_row != nullptr) {
		rendered.new_id = BuildId(shape, new_row, desc);
		rendered.new_doc = BuildDoc(shape, new_row, desc, StoredDocType());
	}
	return rendered;
}

// The rows an event keeps under the key's filter, and what they render, as the table's owner
// under canonical settings (one switch for both). false: the event concerns no stored row.
bool
RenderEvent(const DocShape *shape, HeapTuple old_row, HeapTuple new_row, TupleDesc desc, RenderedRow *row)
{
	Rendering rendering = BeginRendering(shape);
	// under a filter, a row that does not match is no row: entering is C, leaving D, neither nothing
	KeepMatchingRows(shape, &old_row, &new_row);
	bool concerned = old_row != nullptr || new_row != nullptr;
	if (concerned)
		*row = RenderRow(shape, old_row, new_row, desc);
	EndRendering(rendering);
	return concerned;
}

// INSERT: the new row's document arrives (C).
void
CaptureInsert(const char *key, const RenderedRow &row)
{
	WriteCreate(key, row.new_id, row.new_doc);
	NoteChange(key);
}

// DELETE: the old row's document goes (D).
void
CaptureDelete(const char *key, const RenderedRow &row)
{
	WriteDelete(key, row.old_id);
	NoteChange(key);
}

// UPDATE: a changed primary key is D + C; else U, unless the stored document is unchanged.
void
CaptureUpdate(const char *key, const RenderedRow &row)
{
	if (!SameJsonb(row.old_id, row.new_id)) {
		CaptureDelete(key, row);
		CaptureInsert(key, row);
		return;
	}
	if (WriteUpdate(key, row.new_id, row.new_doc))
		NoteChange(key);
}

// TRUNCATE: the key is emptied (U with item NULL), if it really is this table's key; a TRUNCATE
// of one partition of the key's partitioned table deletes that partition's documents only.
void
CaptureTruncate(Relation rel, const char *key)
{
	bool all_columns;
	Oid source;
	ConnectSpi();
	RequireRegistration(rel, key, &all_columns, &source);
	if (source != RelationGetRelid(rel)) {
		SPI_finish();
		Reconcile(key);
		return;
	}
	WriteTruncate(key);
	SPI_finish();
	NoteChange(key);
}

// Dispatches one trigger event to the matching capture step.
void
CaptureEvent(TriggerData *data)
{
	const char *key = data->tg_trigger->tgargs[0];
	if (TRIGGER_FIRED_BY_TRUNCATE(data->tg_event)) {
		CaptureTruncate(data->tg_relation, key);
		return;
	}
	Relation rel = data->tg_relation;
	const DocShape *shape = LookupDocShape(rel, key);
	bool inserted = TRIGGER_FIRED_BY_INSERT(data->tg_event);
	bool deleted = TRIGGER_FIRED_BY_DELETE(data->tg_event);
	HeapTuple old_row = inserted ? nullptr : data->tg_trigtuple;
	HeapTuple new_row = inserted ? data->tg_trigtuple : deleted ? nullptr : data->tg_newtuple;
	RenderedRow row = {0, 0, 0};
	if (!RenderEvent(shape, old_row, new_row, RelationGetDescr(rel), &row))
		return;
	if (row.old_id == 0)
		CaptureInsert(key, row);
	else if (row.new_id == 0)
		CaptureDelete(key, row);
	else
		CaptureUpdate(key, row);
}

// The trigger body.
Datum
Capture(FunctionCallInfo fcinfo)
{
	CaptureEvent(CheckTriggerCall(fcinfo));
	return PointerGetDatum(nullptr);
}

} // namespace

extern "C" {
PG_FUNCTION_INFO_V1(store_capture);

// store.capture(): trigger entry point.
Datum
store_capture(PG_FUNCTION_ARGS)
{
	return CallGuarded("store.capture", [&] { return Capture(fcinfo); });
}
}
