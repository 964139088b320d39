// store_history(after): the history rows after a version, streamed in bounded memory into the
// result's tuplestore (which spills to disk past work_mem). Read in the caller's snapshot with a
// plain statement over the store's tables (sql_names.hpp, "the feed") run as the store owner.
#include "core/cursor.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/feed.hpp"
#include "pg/guard.hpp"
#include "pg/kept_plan.hpp"
#include "pg/reader.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "utils/timestamp.h"
#include "utils/xid8.h"
}

#include <string>

namespace {

using namespace store;

// Rows fetched from the history cursor at a time.
constexpr long kHistoryBatch = 1000;

const Oid kHistoryRowsArgtypes[9] = {INT4OID,      XID8OID, XID8ARRAYOID, BOOLOID, TEXTARRAYOID,
                                     TEXTARRAYOID, XID8OID, XID8OID,      JSONBOID};

// The history rows' statement: a generic plan kept per backend, planned under the feed's settings
// (EnterFeedSettings: range scans of the history's index bounded by the arguments).
pg::KeptPlan history_rows_plan = {pg::sql::kHistoryRows, 9, kHistoryRowsArgtypes, nullptr,
                                  CURSOR_OPT_NO_SCROLL | CURSOR_OPT_GENERIC_PLAN};

// Puts the one row that tells a client whose version is too old to reload everything.
void
PutReloadRow(ReturnSetInfo *rsinfo, Datum version)
{
	Datum values[5] = {version, (Datum)0, (Datum)0, CStringGetTextDatum("F"),
	                   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())};
	bool nulls[5] = {false, true, true, false, false};
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

// Copies every row of the history cursor into the tuplestore, in batches, after the version.
void
FetchRowsInto(Portal portal, ReturnSetInfo *rsinfo, Datum version)
{
	for (;;) {
		SPI_cursor_fetch(portal, true, kHistoryBatch);
		if (SPI_processed == 0)
			break;
		for (uint64 row = 0; row < SPI_processed; row++) {
			Datum values[5] = {version};
			bool nulls[5] = {false};
			heap_deform_tuple(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, values + 1, nulls + 1);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
}

// Puts the history rows after cursor that reader may see (visible: row-level security's ids),
// read through a cursor run as the store owner (its query runs in every fetch).
void
PutHistoryRows(ReturnSetInfo *rsinfo, const pg::FeedCursor &cursor, Oid reader, Datum version)
{
	Datum readable, registered, visible;
	bool visible_is_null;
	pg::HistoryKeys(reader, &readable, &registered, &visible, &visible_is_null);
	pg::PartArgs args = pg::MakePartArgs(cursor, readable, registered, JSONBOID);
	pg::SetPartArg(&args, 9, visible, visible_is_null);
	// from "0" (the whole history) planned with the arguments, as kKeptPlanRows says
	bool kept = !cursor.from_start;
	int nest_level = pg::EnterFeedSettings(kept);
	pg::SavedUser saved = pg::BecomeStoreOwner();
	Portal portal = kept ? pg::OpenKeptCursor(&history_rows_plan, args.values, args.nulls)
	                     : SPI_cursor_open_with_args(nullptr, pg::sql::kHistoryRows, 9, args.types, args.values,
	                                                 args.nulls, true, CURSOR_OPT_NO_SCROLL);
	FetchRowsInto(portal, rsinfo, version);
	SPI_cursor_close(portal);
	pg::RestoreUser(saved);
	pg::LeaveFeedSettings(nest_level);
}

// store_history(after): the rows after a version the caller may see, fetched in batches through a
// cursor into the tuplestore: never the whole history in memory at once. A version too old for
// the compacted history gets one F row; one ahead of the caller's snapshot, none.
Datum
History(FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, 0);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	pg::ConnectSpi();
	Oid reader = GetUserId();
	const pg::FeedCursor cursor = pg::ReadFeedCursor(PG_ARGISNULL(0) ? (Datum)0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0));
	Datum version = CStringGetTextDatum(cursor.answer);
	if (cursor.too_old)
		PutReloadRow(rsinfo, version);
	else if (!cursor.ahead)
		PutHistoryRows(rsinfo, cursor, reader, version);
	SPI_finish();
	return (Datum)0;
}

} // namespace

STORE_ENTRY(store_history, History)
