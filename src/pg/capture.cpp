// The capture trigger: keeps store.entries and store.history in step with a registered table,
// inside the writing transaction. AFTER ... FOR EACH ROW for INSERT/UPDATE/DELETE and
// AFTER TRUNCATE FOR EACH STATEMENT; the trigger's single argument is the store key.
#include "pg/doc_shape.hpp"
#include "pg/guard.hpp"
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

// INSERT: the new row's document arrives (C).
void
CaptureInsert(const char *key, const DocShape *shape, HeapTuple row, TupleDesc desc)
{
	WriteCreate(key, BuildId(shape, row, desc), BuildDoc(shape, row, desc, StoredDocType()));
	NoteChange(key);
}

// DELETE: the old row's document goes (D).
void
CaptureDelete(const char *key, const DocShape *shape, HeapTuple row, TupleDesc desc)
{
	WriteDelete(key, BuildId(shape, row, desc));
	NoteChange(key);
}

// UPDATE: a changed primary key is D + C; else U, unless the stored document is unchanged.
void
CaptureUpdate(const char *key, const DocShape *shape, HeapTuple old_row, HeapTuple new_row, TupleDesc desc)
{
	Datum old_id = BuildId(shape, old_row, desc);
	Datum new_id = BuildId(shape, new_row, desc);
	if (!SameJsonb(old_id, new_id)) {
		CaptureDelete(key, shape, old_row, desc);
		CaptureInsert(key, shape, new_row, desc);
		return;
	}
	if (WriteUpdate(key, new_id, BuildDoc(shape, new_row, desc, StoredDocType())))
		NoteChange(key);
}

// TRUNCATE: the key is emptied (U with item NULL), if it really is this table's key.
void
CaptureTruncate(Relation rel, const char *key)
{
	bool all_columns;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "store: SPI_connect failed");
	RequireRegistration(rel, key, &all_columns);
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
	TupleDesc desc = RelationGetDescr(rel);
	const DocShape *shape = LookupDocShape(rel, key);
	if (TRIGGER_FIRED_BY_INSERT(data->tg_event))
		CaptureInsert(key, shape, data->tg_trigtuple, desc);
	else if (TRIGGER_FIRED_BY_DELETE(data->tg_event))
		CaptureDelete(key, shape, data->tg_trigtuple, desc);
	else
		CaptureUpdate(key, shape, data->tg_trigtuple, data->tg_newtuple, desc);
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
