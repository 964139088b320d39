// SQL-callable C functions: store_get, store_history, store_changes, store_version, and the
// internal helpers of the extension's SQL functions (schema "store"). Snapshots: snapshot.cpp.
#include "core/cursor.hpp"
#include "core/key.hpp"
#include "pg/canonical.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/doc_shape.hpp"
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

// The text argument n as a string_view over its (detoasted) bytes; NULL is refused by name.
std::string_view
TextArg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", what)));
	text *arg = PG_GETARG_TEXT_PP(n);
	return {VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg)};
}

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
// current snapshot.
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

// The entry id (jsonb) of a key value given as text, read with the input function of type's
// base type (a domain's input would run its CHECK constraints, user code) as the current user.
Datum
EntryIdFromText(Oid type, const char *id_text)
{
	if (!pg::IsCanonicalKeyType(type))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("store keys with primary keys of type %s cannot be read by id", format_type_be(type)),
		                errhint("Unregister the key; ALTER EXTENSION store UPDATE refuses such keys.")));
	type = getBaseType(type);
	Oid input_fn, input_param;
	getTypeInputInfo(type, &input_fn, &input_param);
	Datum value = OidInputFunctionCall(input_fn, const_cast<char *>(id_text), input_param, -1);
	FmgrInfo to_jsonb;
	pg::InitToJson(&to_jsonb, F_TO_JSONB, type, -1, InvalidOid, CurrentMemoryContext);
	int nest_level = pg::EnterCanonicalOutput();
	Datum id = FunctionCall1(&to_jsonb, value);
	pg::LeaveCanonicalOutput(nest_level);
	return id;
}

// The text of one element of a composite id given as a JSON array (a string's content, a
// number's or boolean's text); errors for anything else.
const char *
IdElementText(const JsonbValue &element, const char *id_text)
{
	switch (element.type) {
	case jbvString:
		return pnstrdup(element.val.string.val, element.val.string.len);
	case jbvNumeric:
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(element.val.numeric)));
	case jbvBool:
		return element.val.boolean ? "true" : "false";
	default:
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
		                errmsg("invalid id for a composite primary key: %s", id_text),
		                errhint("Give the key's values as a JSON array of strings and numbers, in key-column "
		                        "order, e.g. [1,23].")));
	}
	return nullptr;
}

// The entry id (jsonb array) of a composite key value given as the text of a JSON array: each
// element read with the input function of its key column's type (key_types, in key order).
Datum
CompositeIdFromText(const Oid *key_types, int nkeys, const char *id_text)
{
	Jsonb *given = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(id_text)));
	if (!JB_ROOT_IS_ARRAY(given) || JB_ROOT_IS_SCALAR(given) || (int)JB_ROOT_COUNT(given) != nkeys)
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
		                errmsg("invalid id for a composite primary key of %d columns: %s", nkeys, id_text),
		                errhint("Give the key's values as a JSON array of strings and numbers, in key-column "
		                        "order, e.g. [1,23].")));
	Datum *parts = static_cast<Datum *>(palloc(sizeof(Datum) * nkeys));
	for (int i = 0; i < nkeys; i++) {
		JsonbValue *element = getIthJsonbValueFromContainer(&given->root, i);
		parts[i] = EntryIdFromText(key_types[i], IdElementText(*element, id_text));
	}
	return pg::JsonbArrayOf(parts, nkeys);
}

// The entry id (jsonb) of an id given as text for the key of source: its primary key's types
// (the table's, as documents are rendered now) read id_text.
Datum
KeyIdFromText(Oid source, const char *id_text)
{
	Relation rel = table_open(source, AccessShareLock);
	AttrNumber *attnums;
	int nkeys = pg::PrimaryKeyAttnums(rel, &attnums);
	Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * nkeys));
	for (int i = 0; i < nkeys; i++)
		types[i] = TupleDescAttr(RelationGetDescr(rel), attnums[i] - 1)->atttypid;
	table_close(rel, AccessShareLock);
	if (nkeys == 1)
		return EntryIdFromText(types[0], id_text);
	return CompositeIdFromText(types, nkeys, id_text);
}

// store._item_id(id_type, id): the entry id (jsonb) of a key value given as text.
Datum
EntryIdOf(FunctionCallInfo fcinfo)
{
	Oid type = PG_GETARG_OID(0);
	std::string_view id = TextArg(fcinfo, 1, "id");
	PG_RETURN_DATUM(EntryIdFromText(type, pnstrdup(id.data(), id.size())));
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

// Runs "SELECT store._x($1, reader, visible)" (an internal function assembling JSON text from
// stored documents) in the caller's snapshot and returns its text as json without parsing it again;
// NULL stays NULL. key: the key whose row-level security matters (NULL: all).
Datum
AssembledJson(FunctionCallInfo fcinfo, const char *sql, Datum arg, bool arg_is_null, Datum key, bool key_is_null)
{
	pg::ConnectSpi();
	int rc = pg::ExecuteForCaller(sql, arg, arg_is_null, key, key_is_null);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: assembling JSON failed: %s", SPI_result_code_string(rc));
	bool is_null;
	Datum json = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null);
	if (!is_null)
		json = SPI_datumTransfer(json, false, -1);
	SPI_finish();
	if (is_null)
		PG_RETURN_NULL();
	return json;
}

// store_changes(after): the delta after a version, over the keys the caller may read.
Datum
ChangesAfter(FunctionCallInfo fcinfo)
{
	pg::RefuseInWritingTransaction();
	return AssembledJson(fcinfo, pg::sql::kChangesText, PG_GETARG_DATUM(0), PG_ARGISNULL(0), 0, true);
}

// store_get(key, id): one document, if the caller may read the key (and, under row-level
// security, the row). The id is read as the caller: its type's input and casts are the table
// owner's code, which must not run as the store's owner.
Datum
Get(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("id must not be NULL")));
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	Oid reader = GetUserId();
	pg::ConnectSpi();
	Oid key_types[2] = {TEXTOID, OIDOID};
	Datum key_args[2] = {PG_GETARG_DATUM(0), ObjectIdGetDatum(reader)};
	bool is_null;
	Datum source =
	    pg::SingleValue(pg::ExecuteForReader(pg::sql::kReadableSource, 2, key_types, key_args, nullptr), &is_null);
	Datum id = KeyIdFromText(DatumGetObjectId(source), TextDatumGetCString(PG_GETARG_DATUM(1)));
	bool visible_is_null;
	Datum visible = pg::VisibleIds(reader, PG_GETARG_DATUM(0), false, &visible_is_null);
	Oid argtypes[4] = {TEXTOID, JSONBOID, OIDOID, JSONBOID};
	Datum args[4] = {PG_GETARG_DATUM(0), id, ObjectIdGetDatum(reader), visible};
	const char nulls[5] = {' ', ' ', ' ', visible_is_null ? 'n' : ' ', '\0'};
	Datum doc = pg::SingleValue(pg::ExecuteForReader(pg::sql::kGetText, 4, argtypes, args, nulls), &is_null);
	SPI_finish();
	if (is_null)
		PG_RETURN_NULL();
	return doc;
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

void
RenderSourceRows(Datum key, bool by_id, Tuplestorestate *rows, TupleDesc rows_desc)
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
	FetchAllInto(portal, rows, rows_desc);
	SPI_cursor_close(portal);
	RestoreUser(saved);
	LeaveCanonicalOutput(nest_level);
	SPI_finish();
}

} // namespace store::pg

STORE_ENTRY(store_check_key, CheckKey)
STORE_ENTRY(store_current_cursor, CurrentCursorText)
STORE_ENTRY(store_origin, Origin)
STORE_ENTRY(store_read_cursor, ReadCursor)
STORE_ENTRY(store_item_id, EntryIdOf)
STORE_ENTRY(store_note_change, NoteChange)
STORE_ENTRY(store_changes, ChangesAfter)
STORE_ENTRY(store_get, Get)
STORE_ENTRY(store_source_rows, SourceRows)
STORE_ENTRY(store_check_source, CheckSource)
STORE_ENTRY(store_rls_active, RlsActive)
