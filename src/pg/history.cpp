// Reading the history after a version in bounded memory: store_history streams its rows into the
// result's tuplestore (which spills to disk past work_mem); store_changes(after, max_changes)
// answers one page of the delta, and store._page_version the version that page answers with.
#include "core/cursor.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/guard.hpp"
#include "pg/reader.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "utils/xid8.h"
}

#include <limits>
#include <string>
#include <string_view>

namespace {

using namespace store;

// Rows fetched from the history cursor at a time.
constexpr long kHistoryBatch = 1000;

// store_history(after): the rows after a version the caller may see, fetched in batches through a
// cursor into the tuplestore: never the whole history in memory at once.
Datum
History(FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, 0);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	pg::ConnectSpi();
	Oid reader = GetUserId();
	bool visible_is_null;
	Datum visible = pg::VisibleIds(reader, (Datum)0, true, &visible_is_null);
	Oid argtypes[3] = {TEXTOID, OIDOID, JSONBOID};
	Datum args[3] = {PG_ARGISNULL(0) ? (Datum)0 : PG_GETARG_DATUM(0), ObjectIdGetDatum(reader), visible};
	const char nulls[4] = {PG_ARGISNULL(0) ? 'n' : ' ', ' ', visible_is_null ? 'n' : ' ', '\0'};
	// as the store owner throughout: the cursor's query runs in every fetch
	pg::SavedUser saved = pg::BecomeStoreOwner();
	Portal portal =
	    SPI_cursor_open_with_args(nullptr, pg::sql::kHistoryRows, 3, argtypes, args, nulls, true, CURSOR_OPT_NO_SCROLL);
	for (;;) {
		SPI_cursor_fetch(portal, true, kHistoryBatch);
		if (SPI_processed == 0)
			break;
		for (uint64 row = 0; row < SPI_processed; row++) {
			Datum values[5];
			bool row_nulls[5];
			heap_deform_tuple(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, values, row_nulls);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, row_nulls);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	pg::RestoreUser(saved);
	SPI_finish();
	return (Datum)0;
}

// store_changes(after, max_changes): one page of the delta after a version, over the keys the
// caller may read (store._changes_page_text assembles it as text; returned as json unparsed).
Datum
ChangesPage(FunctionCallInfo fcinfo)
{
	pg::RefuseInWritingTransaction();
	if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("max_changes must be a positive number of history rows, not %s",
		                       PG_ARGISNULL(1) ? "NULL" : psprintf("%d", PG_GETARG_INT32(1))),
		                errhint("Pass the page size, e.g. 10000, or call store_changes(after) for the default.")));
	pg::ConnectSpi();
	Oid reader = GetUserId();
	bool visible_is_null;
	Datum visible = pg::VisibleIds(reader, (Datum)0, true, &visible_is_null);
	Oid argtypes[4] = {TEXTOID, INT4OID, OIDOID, JSONBOID};
	Datum args[4] = {PG_ARGISNULL(0) ? (Datum)0 : PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), ObjectIdGetDatum(reader),
	                 visible};
	const char nulls[5] = {PG_ARGISNULL(0) ? 'n' : ' ', ' ', ' ', visible_is_null ? 'n' : ' ', '\0'};
	bool is_null;
	Datum json = pg::SingleValue(pg::ExecuteForReader(pg::sql::kChangesPageText, 4, argtypes, args, nulls), &is_null);
	SPI_finish();
	if (is_null)
		PG_RETURN_NULL();
	return json;
}

// store._page_version(after, page_end): the version of a page of changes after `after` that ends
// at page_end (NULL: the last page), read in the active snapshot (core::PageCursor). A version
// ahead of the snapshot (nothing to deliver) is answered with itself.
Datum
PageVersion(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("version must not be NULL")));
	text *arg = PG_GETARG_TEXT_PP(0);
	uint64 page_end =
	    PG_ARGISNULL(1) ? std::numeric_limits<uint64>::max() : U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(1));
	pg::SnapshotXids now = pg::ActiveSnapshotXids();
	// C++ only from here to the result (no PostgreSQL call while the strings are alive; CurrentCursor
	// makes its calls before its cursor exists)
	const core::Cursor current = pg::CurrentCursor(now);
	const std::string_view after(VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg));
	const core::Cursor client = core::ParseCursor(after);
	core::CheckCursorStore(client, current.store_id);
	const std::string version = core::IsAhead(client, current)
	                                ? std::string(after)
	                                : core::FormatCursor(core::PageCursor(client, current, page_end));
	Datum result = 0;
	pg::PgCall([&] { result = PointerGetDatum(cstring_to_text_with_len(version.data(), (int)version.size())); });
	return result;
}

} // namespace

STORE_ENTRY(store_history, History)
STORE_ENTRY(store_changes_page, ChangesPage)
STORE_ENTRY(store_page_version, PageVersion)
