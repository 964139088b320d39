// Reloading a key's documents in place (store._reload_entries, for store._rebuild under READ
// COMMITTED): the table's rows are rendered through a cursor and each document is compared with
// its entry as it comes, so only entries that differ are written (see writer.hpp, BeginReload).
#include "pg/guard.hpp"
#include "pg/source_rows.hpp"
#include "pg/store_objects.hpp"
#include "pg/writer.hpp"

namespace {

using namespace store;

// A rendered document as store.entries stores it (json; jsonb in 0.1.0's layout).
Datum
StoredDoc(Datum doc)
{
	if (pg::StoredDocType() == JSONOID)
		return doc;
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(TextDatumGetCString(doc)));
}

// Brings the entries of one batch of rendered rows (id, doc) level.
void
ReloadBatch(void *state, SPITupleTable *rows, uint64 count)
{
	auto *pass = static_cast<pg::ReloadPass *>(state);
	Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, uint64{1})));
	Datum *docs = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, uint64{1})));
	for (uint64 i = 0; i < count; i++) {
		bool id_null, doc_null;
		ids[i] = SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &id_null);
		docs[i] = SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &doc_null);
		if (id_null || doc_null)
			elog(ERROR, "store: a rendered row has a NULL id or document");
		docs[i] = StoredDoc(docs[i]);
	}
	pg::ReloadEntries(pass, ids, docs, (int)count);
	pfree(ids);
	pfree(docs);
}

// store._reload_entries(key): brings key's entries level with its table, writing only the entries
// that differ; the number written. The caller holds the lock that keeps the key's writers out
// and reads in READ COMMITTED (store._rebuild).
Datum
ReloadEntriesSql(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	if (IsolationUsesXactSnapshot())
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("store._reload_entries needs READ COMMITTED")));
	pg::ReloadPass *pass = pg::BeginReload(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	pg::ConsumeSourceRows(PG_GETARG_DATUM(0), ReloadBatch, pass);
	PG_RETURN_INT64(pg::EndReload(pass));
}

} // namespace

STORE_ENTRY(store_reload_entries, ReloadEntriesSql)
