// What store_history and store_changes share: see feed.hpp.
#include "pg/feed.hpp"
#include "core/cursor.hpp"
#include "pg/guard.hpp"
#include "pg/kept_plan.hpp"
#include "pg/reader.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "utils/xid8.h"
}

#include <string>

namespace store::pg {

namespace {

const Oid kHorizonArgtypes[1] = {INT4OID};
const Oid kHistoryKeysArgtypes[1] = {OIDOID};

// The feed's lookups of the compaction horizon and of the keys a reader may see: plans kept per
// backend (the keys' rights are still decided on every call, by store._may_read in the query).
KeptPlan horizon_plan = {sql::kHorizon, 1, kHorizonArgtypes, nullptr};
KeptPlan history_keys_plan = {sql::kHistoryKeys, 1, kHistoryKeysArgtypes, nullptr};

// The compaction horizon versions of the store of origin are read against (store.meta).
core::Horizon
ReadHorizon(int32 origin)
{
	Datum args[1] = {Int32GetDatum(origin)};
	int rc = ExecuteKeptPlan(&horizon_plan, args, true);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: reading the compaction horizon failed: %s", SPI_result_code_string(rc));
	bool xid_is_null, ever_is_null;
	core::Horizon horizon;
	horizon.compacted_xid =
	    DatumGetUInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &xid_is_null));
	horizon.ever_compacted =
	    DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &ever_is_null));
	return horizon;
}

// Reads cursor->after against cursor->now and horizon into cursor (C++ only; the results are
// palloc'd under PgCall while the strings are alive). Throws core's errors for bad versions.
void
ReadAgainst(FeedCursor *cursor, const core::Horizon &horizon)
{
	const core::Cursor current = MakeCursor(cursor->now, cursor->store_id);
	const core::CursorReading reading = core::ReadCursor(cursor->after, current, cursor->now.next_xid, horizon);
	const std::string answer = reading.ahead ? std::string(cursor->after) : core::FormatCursor(current);
	cursor->xmax = reading.cursor.xmax;
	cursor->nxip = (int)reading.cursor.xip.size();
	cursor->from_start = reading.cursor.store_id.empty();
	cursor->too_old = reading.too_old;
	cursor->ahead = reading.ahead;
	PgCall([&] {
		cursor->answer = pstrdup(answer.c_str());
		cursor->xip = static_cast<uint64 *>(palloc(sizeof(uint64) * Max(cursor->nxip, 1)));
	});
	for (int i = 0; i < cursor->nxip; i++)
		cursor->xip[i] = reading.cursor.xip[i];
}

// The xid8[] datum of the client's running transactions.
Datum
XipArray(const FeedCursor &cursor)
{
	Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * Max(cursor.nxip, 1)));
	for (int i = 0; i < cursor.nxip; i++)
		elements[i] = Xid8Datum(cursor.xip[i]);
	return PointerGetDatum(construct_array(elements, cursor.nxip, XID8OID, sizeof(uint64), true, TYPALIGN_DOUBLE));
}

} // namespace

FeedCursor
ReadFeedCursor(Datum after, bool after_is_null)
{
	RefuseInWritingTransaction();
	if (after_is_null)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("version must not be NULL")));
	FeedCursor cursor;
	memset(&cursor, 0, sizeof cursor);
	cursor.after = text_to_cstring(DatumGetTextPP(after));
	cursor.origin = (int32)StoreOrigin();
	core::Horizon horizon = ReadHorizon(cursor.origin);
	cursor.now = ActiveSnapshotXids();
	StoreId(cursor.store_id);
	ReadAgainst(&cursor, horizon);
	return cursor;
}

void
HistoryKeys(Oid reader, Datum *readable, Datum *registered, Datum *visible, bool *visible_is_null)
{
	Datum args[1] = {ObjectIdGetDatum(reader)};
	int rc = ExecuteKeptPlan(&history_keys_plan, args, true);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: listing the readable keys failed: %s", SPI_result_code_string(rc));
	SPITupleTable *keys = SPI_tuptable; // (valid until SPI_finish)
	bool readable_is_null, registered_is_null, rls_is_null;
	*readable = SPI_getbinval(keys->vals[0], keys->tupdesc, 1, &readable_is_null);
	*registered = SPI_getbinval(keys->vals[0], keys->tupdesc, 2, &registered_is_null);
	bool under_rls = DatumGetBool(SPI_getbinval(keys->vals[0], keys->tupdesc, 3, &rls_is_null));
	*visible_is_null = true;
	*visible = under_rls ? VisibleIds(reader, (Datum)0, true, visible_is_null) : (Datum)0;
}

PartArgs
MakePartArgs(const FeedCursor &cursor, Datum readable, Datum registered, Oid ninth_type)
{
	PartArgs args = {
	    {INT4OID, XID8OID, XID8ARRAYOID, BOOLOID, TEXTARRAYOID, TEXTARRAYOID, XID8OID, XID8OID, ninth_type},
	    {Int32GetDatum(cursor.origin), Xid8Datum(cursor.xmax), XipArray(cursor), BoolGetDatum(cursor.from_start),
	     readable, registered, (Datum)0, (Datum)0, (Datum)0},
	    "      nnn"};
	return args;
}

void
SetPartArg(PartArgs *args, int n, Datum value, bool is_null)
{
	args->values[n - 1] = is_null ? (Datum)0 : value;
	args->nulls[n - 1] = is_null ? 'n' : ' ';
}

Datum
Xid8Datum(uint64 xid)
{
	return FullTransactionIdGetDatum(FullTransactionIdFromU64(xid));
}

int
EnterFeedSettings(bool kept_plans)
{
	int nest_level = NewGUCNestLevel();
	const char *settings[][2] = {{"jit", "off"},
	                             {"enable_seqscan", "off"},
	                             {"enable_bitmapscan", "off"},
	                             {"enable_hashagg", "off"},
	                             {"max_parallel_workers_per_gather", "0"}};
	for (const auto &setting : settings) {
		(void)set_config_option(setting[0], setting[1], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		if (!kept_plans)
			break; // JIT off only
	}
	return nest_level;
}

void
LeaveFeedSettings(int nest_level)
{
	AtEOXact_GUC(true, nest_level);
}

} // namespace store::pg
