// SQL-callable C functions: store_version and the internal helpers of the extension's SQL
// functions (schema "store"). Readers: snapshot.cpp, changes.cpp, history.cpp, get.cpp.
#include "core/cursor.hpp"
#include "core/key.hpp"
#include "pg/canonical.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/doc_shape.hpp"
#include "pg/args.hpp"
#include "pg/guard.hpp"
#include "pg/reader.hpp"
#include "pg/roles.hpp"
#include "pg/source_rows.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/trust.hpp"
#include "pg/xact.hpp"

extern "C" {
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"
}

#include <string>
#include <string_view>

namespace {

using namespace store;
using pg::TextArg;

// A text datum holding the C++ string (converted under PgCall: the string is still alive).
Datum
TextDatum(const std::string &value)
{
	Datum result = 0;
	pg::PgCall([&] { result = PointerGetDatum(cstring_to_text_with_len(value.data(), (int)value.size())); });
	return result;
}

// store._check_key(key): errors unless key is a well-formed, unreserved store key.
Datum
CheckKey(FunctionCallInfo fcinfo)
{
	core::CheckKey(TextArg(fcinfo, 0, "store key"));
	PG_RETURN_VOID();
}

// store._current_cursor() and store_version(): the version of the current snapshot.
Datum
CurrentCursorText(FunctionCallInfo fcinfo)
{
	return pg::CurrentVersionText();
}

// store._origin(): this store's identity, stamped on every history row it writes.
Datum
Origin(FunctionCallInfo fcinfo)
{
	PG_RETURN_INT32((int32)pg::StoreOrigin());
}

// An xid8[] datum of the given ids.
Datum
Xid8Array(const std::vector<std::uint64_t> &xids)
{
	Datum result = 0;
	pg::PgCall([&] {
		Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * Max(xids.size(), size_t{1})));
		for (size_t i = 0; i < xids.size(); i++)
			elements[i] = FullTransactionIdGetDatum(FullTransactionIdFromU64(xids[i]));
		result = PointerGetDatum(
		    construct_array(elements, (int)xids.size(), XID8OID, sizeof(uint64), true, TYPALIGN_DOUBLE));
	});
	return result;
}

// The record of store._read_cursor: what to look for after the cursor, and the version to answer
// with (the current one; the client's own when it is ahead of this snapshot).
Datum
CursorRecord(FunctionCallInfo fcinfo, uint32 origin, const core::CursorReading &reading,
             const std::string &answer_version)
{
	Datum values[7] = {
	    Int32GetDatum((int32)origin),  FullTransactionIdGetDatum(FullTransactionIdFromU64(reading.cursor.xmax)),
	    Xid8Array(reading.cursor.xip), BoolGetDatum(reading.cursor.store_id.empty()),
	    BoolGetDatum(reading.too_old), BoolGetDatum(reading.ahead),
	    TextDatum(answer_version)};
	Datum result = 0;
	pg::PgCall([&] {
		TupleDesc desc;
		if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "store._read_cursor must return a record");
		bool nulls[7] = {false, false, false, false, false, false, false};
		result = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
	});
	return result;
}

// store._read_cursor(after, compacted_xid, ever_compacted): a client's version read against the
// current snapshot. (No caller since 0.3.0, which drops it; the released scripts create it.)
Datum
ReadCursor(FunctionCallInfo fcinfo)
{
	pg::RefuseInWritingTransaction();
	std::string_view after = TextArg(fcinfo, 0, "version");
	core::Horizon horizon;
	horizon.compacted_xid = U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(1));
	horizon.ever_compacted = PG_GETARG_BOOL(2);
	pg::SnapshotXids now = pg::ActiveSnapshotXids();
	uint32 origin = pg::StoreOrigin(); // (PostgreSQL calls before any C++ object is alive here)
	const core::Cursor current = pg::CurrentCursor(now);
	const core::CursorReading reading = core::ReadCursor(after, current, now.next_xid, horizon);
	return CursorRecord(fcinfo, origin, reading, reading.ahead ? std::string(after) : core::FormatCursor(current));
}

// store._rls_active(source, reader): row-level security filters source for reader.
Datum
RlsActive(FunctionCallInfo fcinfo)
{
	PG_RETURN_BOOL(check_enable_rls(PG_GETARG_OID(0), PG_GETARG_OID(1), true) == RLS_ENABLED);
}

// store._note_change(key): a SQL-side store change, for the one NOTIFY at commit.
Datum
NoteChange(FunctionCallInfo fcinfo)
{
	char *key = PG_ARGISNULL(0) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(0));
	pg::NoteChange(key);
	PG_RETURN_VOID();
}

// The registration of key as RenderSourceRows needs it, read in a fresh snapshot (the latest one, in
// any isolation level): source table, chosen column numbers and the query rendering its rows.
HeapTuple
LatestSourceQuery(Datum key, TupleDesc *desc)
{
	Oid argtypes[1] = {TEXTOID};
	SPIPlanPtr plan = SPI_prepare(pg::sql::kKeySourceQuery, 1, argtypes);
	if (plan == nullptr)
		elog(ERROR, "store: preparing the registration query failed: %s", SPI_result_code_string(SPI_result));
	Datum args[1] = {key};
	int rc = SPI_execute_snapshot(plan, args, nullptr, GetLatestSnapshot(), InvalidSnapshot, true, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg("store key \"%s\" is not registered", TextDatumGetCString(key))));
	*desc = SPI_tuptable->tupdesc;
	return SPI_tuptable->vals[0];
}

// Errors unless source's chosen columns (int2[], or all when null) render canonically and only
// through code its owner trusts (trust.hpp).
void
RequireRenderable(Oid source, Datum column_numbers, bool all_columns)
{
	Datum *numbers = nullptr;
	int count = 0;
	if (!all_columns)
		deconstruct_array(DatumGetArrayTypeP(column_numbers), INT2OID, 2, true, TYPALIGN_SHORT, &numbers, nullptr,
		                  &count);
	AttrNumber *attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * Max(count, 1)));
	for (int i = 0; i < count; i++)
		attnums[i] = DatumGetInt16(numbers[i]);
	pg::RequireRenderableSource(source, attnums, count);
}

// Copies every row (id, doc) of an open cursor into rows, in batches.
void
FetchAllInto(Portal portal, Tuplestorestate *rows, TupleDesc rows_desc)
{
	for (;;) {
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 row = 0; row < SPI_processed; row++) {
			Datum values[2];
			bool nulls[2];
			heap_deform_tuple(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, values, nulls);
			tuplestore_putvalues(rows, rows_desc, values, nulls);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
}

// store._source_rows(key): every row of key's table as (id, doc), fetched into a tuplestore.
Datum
SourceRows(FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, 0);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	pg::RenderSourceRows(PG_GETARG_DATUM(0), false, rsinfo->setResult, rsinfo->setDesc);
	return (Datum)0;
}

// store._check_source(source, column_numbers): errors unless source's documents (the chosen
// columns; NULL: all) render canonically and only through code its owner trusts. Registration,
// DDL on the table and new casts or functions check it.
Datum
CheckSource(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("source table must not be NULL")));
	RequireRenderable(PG_GETARG_OID(0), PG_GETARG_DATUM(1), PG_ARGISNULL(1));
	PG_RETURN_VOID();
}

} // namespace

namespace store::pg {

namespace {

// Where the rendered rows go: a tuplestore, or a consumer.
struct RowsSink {
	Tuplestorestate *rows;
	TupleDesc rows_desc;
	SourceRowsConsumer consume;
	void *state;
};

// Renders key's rows (in id order with by_id) into sink: checks who may render them, then reads
// them through a cursor as the table owner under canonical output settings.
void
RenderInto(Datum key, bool by_id, const RowsSink &sink)
{
	ConnectSpi();
	TupleDesc desc;
	HeapTuple registration = LatestSourceQuery(key, &desc);
	bool is_null, all_columns;
	Oid source = DatumGetObjectId(SPI_getbinval(registration, desc, 1, &is_null));
	char *query = TextDatumGetCString(SPI_getbinval(registration, desc, 2, &is_null));
	Datum column_numbers = SPI_getbinval(registration, desc, 3, &all_columns);
	Oid owner = RelationOwner(source);
	if (!OidIsValid(owner))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the table of a store key no longer exists")));
	RequireRenderable(source, column_numbers, all_columns);
	if (by_id)
		query = psprintf(sql::kSourceRowsById, query);
	int nest_level = EnterCanonicalOutput();
	SavedUser saved = BecomeRole(owner, SECURITY_NOFORCE_RLS);
	Portal portal = SPI_cursor_open_with_args(nullptr, query, 0, nullptr, nullptr, nullptr, true, CURSOR_OPT_NO_SCROLL);
	if (sink.consume == nullptr)
		FetchAllInto(portal, sink.rows, sink.rows_desc);
	else
		for (;;) {
			SPI_cursor_fetch(portal, true, 1000);
			if (SPI_processed == 0)
				break;
			SPITupleTable *batch = SPI_tuptable;
			uint64 count = SPI_processed;
			RestoreUser(saved); // (the consumer runs as the caller)
			sink.consume(sink.state, batch, count);
			saved = BecomeRole(owner, SECURITY_NOFORCE_RLS);
			SPI_freetuptable(batch);
			CHECK_FOR_INTERRUPTS();
		}
	SPI_cursor_close(portal);
	RestoreUser(saved);
	LeaveCanonicalOutput(nest_level);
	SPI_finish();
}

} // namespace

void
RenderSourceRows(Datum key, bool by_id, Tuplestorestate *rows, TupleDesc rows_desc)
{
	RenderInto(key, by_id, RowsSink{rows, rows_desc, nullptr, nullptr});
}

void
ConsumeSourceRows(Datum key, SourceRowsConsumer consume, void *state)
{
	RenderInto(key, false, RowsSink{nullptr, nullptr, consume, state});
}

} // namespace store::pg

STORE_ENTRY(store_check_key, CheckKey)
STORE_ENTRY(store_current_cursor, CurrentCursorText)
STORE_ENTRY(store_origin, Origin)
STORE_ENTRY(store_read_cursor, ReadCursor)
STORE_ENTRY(store_note_change, NoteChange)
STORE_ENTRY(store_source_rows, SourceRows)
STORE_ENTRY(store_check_source, CheckSource)
STORE_ENTRY(store_rls_active, RlsActive)
