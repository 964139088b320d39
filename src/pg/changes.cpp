// store_changes(after) and store_changes(after, max_changes): the delta after a version, over the
// keys the caller may read, in pages of about max_changes history rows cut at transaction
// boundaries in transaction-id order. A page delivers every change of the transactions below its
// end and answers with the version that sees exactly what the client's version saw plus those
// transactions (core::PageCursor), with "more": true while changes remain. Read in the caller's
// snapshot with plain statements over the store's tables (sql_names.hpp, "the feed") run as the
// store owner; the JSON text is assembled here, documents copied as stored.
#include "core/cursor.hpp"
#include "pg/feed.hpp"
#include "pg/guard.hpp"
#include "pg/kept_plan.hpp"
#include "pg/reader.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "utils/json.h"
#include "utils/xid8.h"
}

#include <limits>
#include <string>

namespace {

using namespace store;

// The page size of store_changes(after), in history rows.
constexpr int32 kDefaultPageRows = 10000;

// Where a page of changes ends: bounded, before the transaction end (exclusive); unbounded, with
// the last change. more: changes remain after the page. rows: at most this many history rows
// (INT64_MAX: unknown, a first transaction larger than the page).
struct PageEnd {
	bool bounded;
	uint64 end;
	bool more;
	int64 rows;
};

const Oid kPartKeysArgtypes[9] = {INT4OID,      XID8OID, XID8ARRAYOID, BOOLOID, TEXTARRAYOID,
                                  TEXTARRAYOID, XID8OID, XID8OID,      INT8OID};
const Oid kPageChangesArgtypes[9] = {INT4OID,      XID8OID, XID8ARRAYOID, BOOLOID, TEXTARRAYOID,
                                     TEXTARRAYOID, XID8OID, XID8OID,      JSONBOID};

// A statement of the feed kept per backend: a generic plan, planned under the feed's settings
// (EnterFeedSettings: range scans of the history's index bounded by the arguments).
constexpr pg::KeptPlan
FeedPlan(const char *sql, const Oid *argtypes)
{
	return {sql, 9, argtypes, nullptr, CURSOR_OPT_GENERIC_PLAN};
}

pg::KeptPlan part1_keys_plan = FeedPlan(pg::sql::kPart1Keys, kPartKeysArgtypes);
pg::KeptPlan part2_keys_plan = FeedPlan(pg::sql::kPart2Keys, kPartKeysArgtypes);
pg::KeptPlan part3_keys_plan = FeedPlan(pg::sql::kPart3Keys, kPartKeysArgtypes);
pg::KeptPlan part2_next_plan = FeedPlan(pg::sql::kPart2Next, kPartKeysArgtypes);
pg::KeptPlan part3_next_plan = FeedPlan(pg::sql::kPart3Next, kPartKeysArgtypes);
pg::KeptPlan page_changes_plan = FeedPlan(pg::sql::kPageChanges, kPageChangesArgtypes);

// Runs one of the page-key statements with args as the store owner; its single row.
HeapTuple
PartRow(pg::KeptPlan *plan, pg::PartArgs *args)
{
	int rc = pg::ExecuteKeptPlanWithNulls(plan, args->values, args->nulls, true);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: reading the history's page keys failed: %s", SPI_result_code_string(rc));
	return SPI_tuptable->vals[0];
}

// The xid8 in column n of a part statement's row.
uint64
PartXid(HeapTuple row, int n)
{
	bool is_null;
	return DatumGetUInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, n, &is_null));
}

// The first transaction after last_key in parts 2 and 3, where a page filled by one transaction
// (or by the rows of other stores) ends; false when none follows.
bool
NextTransaction(pg::PartArgs *args, uint64 last_key, uint64 *next)
{
	pg::KeptPlan *parts[2] = {&part2_next_plan, &part3_next_plan};
	pg::SetPartArg(args, 7, pg::Xid8Datum(last_key), false);
	for (pg::KeptPlan *part : parts) {
		bool is_null;
		HeapTuple row = PartRow(part, args);
		Datum key = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &is_null);
		if (!is_null) {
			*next = DatumGetUInt64(key);
			return true;
		}
	}
	return false;
}

// Where the page after cursor ends: unbounded when all the changes fit in max_rows history rows;
// otherwise at the first transaction (in id order) that does not fit, so that a page holds whole
// transactions. A first transaction larger than max_rows goes whole, alone (as do the rows of
// other stores on the first page from "0"). Reads the page keys of the first max_rows + 1 rows,
// part after part, each in index order under a LIMIT: O(log n + max_rows) however long the history.
PageEnd
PageEndOf(const pg::FeedCursor &cursor, pg::PartArgs *args, int32 max_rows)
{
	pg::KeptPlan *parts[3] = {&part1_keys_plan, &part2_keys_plan, &part3_keys_plan};
	int64 rows_read = 0;
	uint64 first_key = 0, last_key = 0;
	for (int part = 0; part < 3 && rows_read <= max_rows; part++) {
		if (part == 0 && !cursor.from_start)
			continue; // other stores' rows come only from "0"
		pg::SetPartArg(args, 9, Int64GetDatum((int64)max_rows + 1 - rows_read), false);
		HeapTuple row = PartRow(parts[part], args);
		bool is_null;
		int64 rows = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &is_null));
		if (rows == 0)
			continue;
		first_key = rows_read == 0 ? PartXid(row, 2) : first_key;
		last_key = PartXid(row, 3);
		rows_read += rows;
	}
	if (rows_read <= max_rows)
		return {false, 0, false, rows_read};
	if (last_key > first_key) // the page ends at the transaction the limit cut through
		return {true, last_key, true, max_rows};
	uint64 next = 0;
	bool more = NextTransaction(args, last_key, &next);
	return {more, next, more, std::numeric_limits<int64>::max()};
}

// The version a page answers with (C++ only; palloc'd under PgCall while the strings are alive).
const char *
PageVersion(const pg::FeedCursor &cursor, const PageEnd &page)
{
	const core::Cursor current = pg::MakeCursor(cursor.now, cursor.store_id);
	const core::Cursor client = core::ParseCursor(cursor.after);
	const uint64 end = page.bounded ? page.end : std::numeric_limits<uint64>::max();
	const std::string version = core::FormatCursor(core::PageCursor(client, current, end));
	const char *result = nullptr;
	pg::PgCall([&] { result = pstrdup(version.c_str()); });
	return result;
}

// Appends the text of column n of row (NULL: nothing).
void
AppendColumn(StringInfo out, SPITupleTable *rows, uint64 row, int n)
{
	char *value = SPI_getvalue(rows->vals[row], rows->tupdesc, n);
	if (value != nullptr)
		appendStringInfoString(out, value);
}

// Appends the change of one key (a row of sql::kPageChanges).
void
AppendChange(StringInfo out, SPITupleTable *rows, uint64 row, Datum key)
{
	bool whole_is_null, registered_is_null, rls_is_null, ids_is_null;
	bool whole = DatumGetBool(SPI_getbinval(rows->vals[row], rows->tupdesc, 2, &whole_is_null));
	bool registered = DatumGetBool(SPI_getbinval(rows->vals[row], rows->tupdesc, 3, &registered_is_null));
	bool under_rls = DatumGetBool(SPI_getbinval(rows->vals[row], rows->tupdesc, 4, &rls_is_null));
	Datum ids = SPI_getbinval(rows->vals[row], rows->tupdesc, 5, &ids_is_null);
	if (whole && registered) {
		appendStringInfoString(out, "{\"replaced\":true,\"upserted\":[");
		pg::AppendKeyDocuments(out, key, !rls_is_null && under_rls, ids);
		appendStringInfoString(out, "],\"deleted\":[]}");
	} else if (whole) {
		appendStringInfoString(out, "{\"replaced\":true,\"removed\":true,\"upserted\":[],\"deleted\":[]}");
	} else {
		appendStringInfoString(out, "{\"upserted\":[");
		AppendColumn(out, rows, row, 6);
		appendStringInfoString(out, "],\"deleted\":[");
		AppendColumn(out, rows, row, 7);
		appendStringInfoString(out, "]}");
	}
}

// Appends "<key>":<change>,... for the rows of sql::kPageChanges, in their (key) order.
void
AppendChanges(StringInfo out, SPITupleTable *rows, uint64 count)
{
	for (uint64 row = 0; row < count; row++) {
		bool is_null;
		Datum key = SPI_getbinval(rows->vals[row], rows->tupdesc, 1, &is_null);
		if (row > 0)
			appendStringInfoChar(out, ',');
		escape_json(out, TextDatumGetCString(key));
		appendStringInfoChar(out, ':');
		AppendChange(out, rows, row, key);
	}
}

// Appends the page after cursor: its version, "more" and changes (the rest of the JSON object).
void
AppendPage(StringInfo out, const pg::FeedCursor &cursor, Oid reader, int32 max_rows)
{
	Datum readable, registered, visible;
	bool visible_is_null;
	pg::HistoryKeys(reader, &readable, &registered, &visible, &visible_is_null);
	int nest_level = pg::EnterFeedSettings(true);
	pg::PartArgs args = pg::MakePartArgs(cursor, readable, registered, INT8OID);
	const PageEnd page = PageEndOf(cursor, &args, max_rows);
	pg::LeaveFeedSettings(nest_level);
	pg::PartArgs rows_args = pg::MakePartArgs(cursor, readable, registered, JSONBOID);
	pg::SetPartArg(&rows_args, 8, pg::Xid8Datum(page.end), !page.bounded);
	pg::SetPartArg(&rows_args, 9, visible, visible_is_null);
	// a large page planned with its arguments, as pg::kKeptPlanRows says
	bool kept = page.rows <= pg::kKeptPlanRows;
	nest_level = pg::EnterFeedSettings(kept);
	int rc = kept ? pg::ExecuteKeptPlanWithNulls(&page_changes_plan, rows_args.values, rows_args.nulls, true)
	              : pg::ExecuteForReader(pg::sql::kPageChanges, 9, rows_args.types, rows_args.values, rows_args.nulls);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading a page of changes failed: %s", SPI_result_code_string(rc));
	pg::LeaveFeedSettings(nest_level);
	SPITupleTable *rows = SPI_tuptable;
	uint64 count = SPI_processed;
	escape_json(out, PageVersion(cursor, page));
	appendStringInfoString(out, page.more ? ",\"reload\":false,\"more\":true,\"changes\":{"
	                                      : ",\"reload\":false,\"changes\":{");
	AppendChanges(out, rows, count);
	appendStringInfoString(out, "}}");
}

// One page of at most about max_rows history rows after `after`, as the json result.
Datum
ChangesJson(Datum after, bool after_is_null, int32 max_rows)
{
	StringInfoData out; // in the caller's memory context: it outlives SPI
	initStringInfo(&out);
	appendStringInfoSpaces(&out, VARHDRSZ);
	pg::ConnectSpi();
	Oid reader = GetUserId();
	const pg::FeedCursor cursor = pg::ReadFeedCursor(after, after_is_null);
	appendStringInfoString(&out, "{\"version\":");
	if (cursor.too_old) {
		escape_json(&out, cursor.answer);
		appendStringInfoString(&out, ",\"reload\":true}");
	} else if (cursor.ahead) {
		escape_json(&out, cursor.answer);
		appendStringInfoString(&out, ",\"reload\":false,\"changes\":{}}");
	} else {
		AppendPage(&out, cursor, reader, max_rows);
	}
	SPI_finish();
	SET_VARSIZE(out.data, out.len);
	return PointerGetDatum(out.data);
}

// store_changes(after): the delta after a version, in pages of the default size.
Datum
ChangesAfter(FunctionCallInfo fcinfo)
{
	pg::RefuseInWritingTransaction();
	return ChangesJson(PG_GETARG_DATUM(0), PG_ARGISNULL(0), kDefaultPageRows);
}

// store_changes(after, max_changes): one page of the delta after a version.
Datum
ChangesPage(FunctionCallInfo fcinfo)
{
	pg::RefuseInWritingTransaction();
	if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("max_changes must be a positive number of history rows, not %s",
		                       PG_ARGISNULL(1) ? "NULL" : psprintf("%d", PG_GETARG_INT32(1))),
		                errhint("Pass the page size, e.g. 10000, or call store_changes(after) for the default.")));
	return ChangesJson(PG_GETARG_DATUM(0), PG_ARGISNULL(0), PG_GETARG_INT32(1));
}

} // namespace

STORE_ENTRY(store_changes, ChangesAfter)
STORE_ENTRY(store_changes_page, ChangesPage)
