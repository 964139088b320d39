// Reading on a caller's behalf: see reader.hpp.
#include "pg/reader.hpp"
#include "core/cursor.hpp"
#include "pg/canonical.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/guard.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/xact.hpp"

#include <string>

namespace store::pg {

// Refuses to hand out versions in a transaction that changed the store: its data would include
// changes that may still roll back, and its later writes would fall behind the version.
void
RefuseInWritingTransaction()
{
	if (TransactionChangedStore())
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("cannot read store versions in a transaction that changed the store"),
		                errhint("Commit first, then read the snapshot, history or changes; store_get works.")));
}

// Runs a reader's query as the store owner: readers need no privilege on the store's tables, and
// the query (an internal function taking the reader's role) decides what the caller may see.
// Returns the SPI code; results stay in SPI_tuptable until SPI_finish.
int
ExecuteForReader(const char *sql, int nargs, Oid *argtypes, Datum *args, const char *nulls)
{
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, true, 0);
	RestoreUser(saved);
	return rc;
}

// The query that lists the ids the reader may see of the keys (all, or key) row-level security
// filters for it, built by the owner (valid until the next SPI call); *is_null when none is filtered.
Datum
VisibilityQuery(Oid reader, Datum key, bool key_is_null, bool *is_null)
{
	Oid argtypes[2] = {OIDOID, TEXTOID};
	Datum args[2] = {ObjectIdGetDatum(reader), key};
	const char nulls[3] = {' ', key_is_null ? 'n' : ' ', '\0'};
	int rc = ExecuteForReader(sql::kVisibilityQuery, 2, argtypes, args, nulls);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: planning row-level security failed: %s", SPI_result_code_string(rc));
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, is_null);
}

// The {"<key>": [visible ids]} map of the keys (all, or key) whose tables row-level security
// filters for the reader: the owner builds the query, the reader runs it, so its policies apply.
// Needs an open SPI connection; *is_null when no key is filtered.
Datum
VisibleIds(Oid reader, Datum key, bool key_is_null, bool *is_null)
{
	Datum query = VisibilityQuery(reader, key, key_is_null, is_null);
	if (*is_null)
		return (Datum)0;
	int nest_level = EnterCanonicalOutput(); // the ids as the store rendered them
	int rc = SPI_execute(TextDatumGetCString(query), true, 1);
	LeaveCanonicalOutput(nest_level);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: reading row-level security failed: %s", SPI_result_code_string(rc));
	Datum visible = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, is_null);
	return *is_null ? (Datum)0 : datumCopy(visible, false, -1);
}

int
ExecuteForCaller(const char *sql, Datum arg, bool arg_is_null, Datum key, bool key_is_null)
{
	Oid reader = GetUserId();
	bool visible_is_null;
	Datum visible = VisibleIds(reader, key, key_is_null, &visible_is_null);
	Oid argtypes[3] = {TEXTOID, OIDOID, JSONBOID};
	Datum args[3] = {arg, ObjectIdGetDatum(reader), visible};
	const char nulls[4] = {arg_is_null ? 'n' : ' ', ' ', visible_is_null ? 'n' : ' ', '\0'};
	return ExecuteForReader(sql, 3, argtypes, args, nulls);
}

// The first column of the single row an SPI query returned, copied out of SPI (*is_null: none).
Datum
SingleValue(int rc, bool *is_null)
{
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: a reading query failed: %s", SPI_result_code_string(rc));
	*is_null = true;
	if (SPI_processed != 1)
		return (Datum)0;
	Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, is_null);
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, 0);
	return *is_null ? (Datum)0 : SPI_datumTransfer(value, att->attbyval, att->attlen);
}

Datum
CurrentVersionText()
{
	RefuseInWritingTransaction();
	SnapshotXids now = ActiveSnapshotXids();
	const std::string version = core::FormatCursor(CurrentCursor(now));
	Datum result = 0;
	PgCall([&] { result = PointerGetDatum(cstring_to_text_with_len(version.data(), (int)version.size())); });
	return result;
}

Datum
CurrentContentMark(uint64 last_writer, uint64 compacted)
{
	RefuseInWritingTransaction();
	SnapshotXids now = ActiveSnapshotXids();
	const std::string mark = core::ContentMark(CurrentCursor(now), last_writer, compacted);
	Datum result = 0;
	PgCall([&] { result = PointerGetDatum(cstring_to_text_with_len(mark.data(), (int)mark.size())); });
	return result;
}

} // namespace store::pg
