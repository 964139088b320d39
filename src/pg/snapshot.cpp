// The snapshot readers: store_snapshot(), store_snapshot(key) and store_snapshot_rows(key).
// Both forms walk the same path: the readable keys in name order, each key's stored documents in
// primary-key order (a direct scan of store.entries' (key, id) index in the caller's snapshot, or for
// a key under row-level security only the ids its reader may see), then the version. The text
// goes to a sink: one growing buffer that becomes the json result, or a tuplestore of chunks
// (each at most one document) whose concatenation is that same text.
#include "pg/guard.hpp"
#include "pg/reader.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/store_objects.hpp"

extern "C" {
#include "access/genam.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "common/md5.h"
#include "utils/json.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
}

namespace {

using namespace store;

// Where snapshot text goes: one buffer (store_snapshot), or chunk rows (store_snapshot_rows).
struct SnapshotSink {
	StringInfo buffer;
	Tuplestorestate *chunks;
	TupleDesc chunk_desc;
};

// Refuses to grow a snapshot past the 1 GB a single value can hold, pointing to the stream.
void
CheckSnapshotRoom(StringInfo buffer, Size more)
{
	if ((Size)buffer->len + more >= MaxAllocSize - 64)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		                errmsg("the store snapshot is larger than 1 GB, the most one value can hold"),
		                errhint("Read it in chunks with store_snapshot_rows().")));
}

// Emits prefix then data: appended to the buffer, or as one chunk row.
void
Emit(SnapshotSink *sink, const char *prefix, const char *data, Size length)
{
	Size prefix_length = strlen(prefix);
	if (sink->buffer != nullptr) {
		CheckSnapshotRoom(sink->buffer, prefix_length + length);
		appendBinaryStringInfo(sink->buffer, prefix, (int)prefix_length);
		appendBinaryStringInfo(sink->buffer, data, (int)length);
		return;
	}
	text *chunk = static_cast<text *>(palloc(VARHDRSZ + prefix_length + length));
	SET_VARSIZE(chunk, VARHDRSZ + prefix_length + length);
	memcpy(VARDATA(chunk), prefix, prefix_length);
	memcpy(VARDATA(chunk) + prefix_length, data, length);
	Datum value = PointerGetDatum(chunk);
	bool is_null = false;
	tuplestore_putvalues(sink->chunks, sink->chunk_desc, &value, &is_null);
	pfree(chunk);
}

// Emits one stored document after prefix: its JSON text as stored (rendered once, when it was
// written), or for store.entries still at version 0.1.0 the text of its jsonb.
void
EmitDocument(SnapshotSink *sink, const char *prefix, Datum doc, Oid doc_type)
{
	auto *original = reinterpret_cast<struct varlena *>(DatumGetPointer(doc));
	if (doc_type != JSONOID) {
		StringInfoData text;
		initStringInfo(&text);
		Jsonb *jsonb = DatumGetJsonbP(doc);
		JsonbToCString(&text, &jsonb->root, (int)VARSIZE(jsonb));
		Emit(sink, prefix, text.data, text.len);
		pfree(text.data);
		return;
	}
	struct varlena *stored = pg_detoast_datum_packed(original);
	Emit(sink, prefix, VARDATA_ANY(stored), VARSIZE_ANY_EXHDR(stored));
	if (stored != original)
		pfree(stored);
}

// Emits every document of key, in primary-key order, from a scan of store.entries' (key, id)
// index (its replica identity) in the caller's snapshot: each stored text is copied once, into the sink.
void
EmitKeyDocuments(SnapshotSink *sink, Datum key)
{
	Relation entries = table_open(pg::StoreEntries(), AccessShareLock);
	Relation index = index_open(RelationGetReplicaIndex(entries), AccessShareLock);
	Oid doc_type = TupleDescAttr(RelationGetDescr(entries), 2)->atttypid;
	ScanKeyData scan_key;
	ScanKeyInit(&scan_key, 1, BTEqualStrategyNumber, F_TEXTEQ, key);
	scan_key.sk_collation = index->rd_indcollation[0];
	IndexScanDesc scan = index_beginscan(entries, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &scan_key, 1, nullptr, 0);
	TupleTableSlot *slot = table_slot_create(entries, nullptr);
	for (const char *prefix = ""; index_getnext_slot(scan, ForwardScanDirection, slot); prefix = ",") {
		bool is_null;
		EmitDocument(sink, prefix, slot_getattr(slot, 3, &is_null), doc_type);
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, NoLock);
	table_close(entries, NoLock);
}

// Emits the documents of a key under row-level security among ids (a jsonb array: the ones its
// reader may see), in primary-key order, through a cursor run as the store owner.
void
EmitVisibleDocuments(SnapshotSink *sink, Datum key, Datum ids)
{
	Oid argtypes[2] = {TEXTOID, JSONBOID};
	Datum args[2] = {key, ids};
	pg::SavedUser saved = pg::BecomeStoreOwner();
	Portal portal = SPI_cursor_open_with_args(nullptr, pg::sql::kDocumentsOfIds, 2, argtypes, args, nullptr, true,
	                                          CURSOR_OPT_NO_SCROLL);
	const char *prefix = "";
	for (SPI_cursor_fetch(portal, true, 1000); SPI_processed > 0; SPI_cursor_fetch(portal, true, 1000)) {
		Oid doc_type = SPI_gettypeid(SPI_tuptable->tupdesc, 1);
		for (uint64 row = 0; row < SPI_processed; row++, prefix = ",") {
			bool is_null;
			EmitDocument(sink, prefix, SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1, &is_null),
			             doc_type);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	pg::RestoreUser(saved);
}

// Emits "<key>":[documents] for each row of keys (key, under row-level security, visible ids).
void
EmitKeys(SnapshotSink *sink, SPITupleTable *keys, uint64 count)
{
	for (uint64 row = 0; row < count; row++) {
		bool is_null, rls_is_null, ids_is_null;
		Datum key = SPI_getbinval(keys->vals[row], keys->tupdesc, 1, &is_null);
		bool under_rls = DatumGetBool(SPI_getbinval(keys->vals[row], keys->tupdesc, 2, &rls_is_null));
		Datum ids = SPI_getbinval(keys->vals[row], keys->tupdesc, 3, &ids_is_null);
		StringInfoData header;
		initStringInfo(&header);
		appendStringInfoString(&header, row > 0 ? "," : "");
		escape_json(&header, TextDatumGetCString(key));
		appendStringInfoString(&header, ":[");
		Emit(sink, header.data, "", 0);
		if (!rls_is_null && under_rls)
			EmitVisibleDocuments(sink, key, ids);
		else
			EmitKeyDocuments(sink, key);
		Emit(sink, "]", "", 0);
	}
}

// Emits the snapshot of every key the caller may read (or only key) into sink, read in the
// caller's snapshot, ending with that snapshot's version.
void
EmitSnapshot(SnapshotSink *sink, Datum key, bool key_is_null)
{
	pg::RefuseInWritingTransaction();
	Emit(sink, "{", "", 0);
	pg::ConnectSpi();
	int rc = pg::ExecuteForCaller(pg::sql::kReadableKeys, key, key_is_null, key, key_is_null);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: listing the snapshot's keys failed: %s", SPI_result_code_string(rc));
	SPITupleTable *keys = SPI_tuptable;
	uint64 count = SPI_processed;
	EmitKeys(sink, keys, count);
	SPI_finish();
	StringInfoData tail;
	initStringInfo(&tail);
	appendStringInfoString(&tail, count > 0 ? ",\"version\":" : "\"version\":");
	escape_json(&tail, text_to_cstring(DatumGetTextPP(pg::CurrentVersionText())));
	appendStringInfoChar(&tail, '}');
	Emit(sink, tail.data, "", 0);
}

// The snapshot as one json value, assembled in a buffer that becomes the result as it is.
Datum
SnapshotValue(Datum key, bool key_is_null)
{
	StringInfoData buffer;
	initStringInfo(&buffer);
	appendStringInfoSpaces(&buffer, VARHDRSZ);
	SnapshotSink sink = {&buffer, nullptr, nullptr};
	EmitSnapshot(&sink, key, key_is_null);
	SET_VARSIZE(buffer.data, buffer.len);
	return PointerGetDatum(buffer.data);
}

// store._key_documents(key): key's documents as a JSON array text, in id order, for the SQL
// readers (they run as the store owner and have checked the reader may read key).
Datum
KeyDocuments(FunctionCallInfo fcinfo)
{
	StringInfoData buffer;
	initStringInfo(&buffer);
	appendStringInfoSpaces(&buffer, VARHDRSZ);
	SnapshotSink sink = {&buffer, nullptr, nullptr};
	Emit(&sink, "[", "", 0);
	EmitKeyDocuments(&sink, PG_GETARG_DATUM(0));
	Emit(&sink, "]", "", 0);
	SET_VARSIZE(buffer.data, buffer.len);
	return PointerGetDatum(buffer.data);
}

// store_snapshot(): every key the caller may read.
Datum
WholeSnapshot(FunctionCallInfo fcinfo)
{
	return SnapshotValue(0, true);
}

// store_snapshot(key): one key, which the caller must be able to read.
Datum
SnapshotOfKey(FunctionCallInfo fcinfo)
{
	pg::RequireReadable(PG_GETARG_DATUM(0), PG_ARGISNULL(0));
	return SnapshotValue(PG_GETARG_DATUM(0), false);
}

// store_snapshot_rows(key): the snapshot as chunks in a tuplestore, which spills to disk past
// work_mem: memory stays bounded however large the store is.
Datum
SnapshotRows(FunctionCallInfo fcinfo)
{
	pg::RefuseInWritingTransaction();
	if (!PG_ARGISNULL(0))
		pg::RequireReadable(PG_GETARG_DATUM(0), false);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	SnapshotSink sink = {nullptr, rsinfo->setResult, rsinfo->setDesc};
	EmitSnapshot(&sink, PG_GETARG_DATUM(0), PG_ARGISNULL(0));
	return (Datum)0;
}

// Appends the md5 (hex) of the names of the keys the caller may read, each as a JSON string, in
// name order. Needs an open SPI connection.
void
AppendReadableKeysDigest(StringInfo out)
{
	Oid argtypes[3] = {TEXTOID, OIDOID, JSONBOID};
	Datum args[3] = {0, ObjectIdGetDatum(GetUserId()), 0};
	int rc = pg::ExecuteForReader(pg::sql::kReadableKeys, 3, argtypes, args, "n n");
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: listing the snapshot's keys failed: %s", SPI_result_code_string(rc));
	StringInfoData names;
	initStringInfo(&names);
	for (uint64 row = 0; row < SPI_processed; row++) {
		bool is_null;
		Datum key = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1, &is_null);
		escape_json(&names, TextDatumGetCString(key));
	}
	char hex[33];
	const char *error = nullptr;
	if (!pg_md5_hash(names.data, names.len, hex, &error))
		elog(ERROR, "store: hashing the snapshot's keys failed: %s", error ? error : "out of memory");
	appendStringInfoString(out, hex);
}

// Reads the newest store-writing transaction the history shows and the compaction horizon (as the
// store owner). Needs an open SPI connection.
void
ReadContentWriters(uint64 *last_writer, uint64 *compacted)
{
	int rc = pg::ExecuteForReader(pg::sql::kContentWriters, 0, nullptr, nullptr, nullptr);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: reading the store's newest writer failed: %s", SPI_result_code_string(rc));
	*last_writer = strtou64(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), nullptr, 10);
	*compacted = strtou64(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), nullptr, 10);
}

// store_snapshot_tag(): what the caller's store_snapshot() documents depend on, as
// "<content mark>/<md5 of the keys the caller may read>" (core::ContentMark: unlike the version, it
// stays while no transaction writes to the store); NULL when row-level security filters a key for
// the caller (its policies may read anything). Equal tags mean equal documents: a client may keep
// them under the tag (store-http caches GET /store/ so).
Datum
SnapshotTag(FunctionCallInfo fcinfo)
{
	pg::RefuseInWritingTransaction();
	StringInfoData digest;
	initStringInfo(&digest);
	uint64 last_writer = 0, compacted = 0;
	pg::ConnectSpi();
	bool unfiltered;
	pg::VisibilityQuery(GetUserId(), 0, true, &unfiltered);
	if (unfiltered) {
		AppendReadableKeysDigest(&digest);
		ReadContentWriters(&last_writer, &compacted);
	}
	SPI_finish();
	if (!unfiltered)
		PG_RETURN_NULL();
	Datum mark = pg::CurrentContentMark(last_writer, compacted);
	StringInfoData tag;
	initStringInfo(&tag);
	appendStringInfo(&tag, "%s/%s", text_to_cstring(DatumGetTextPP(mark)), digest.data);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(tag.data, tag.len));
}

} // namespace

void
store::pg::AppendKeyDocuments(StringInfo out, Datum key, bool under_rls, Datum ids)
{
	SnapshotSink sink = {out, nullptr, nullptr};
	if (under_rls)
		EmitVisibleDocuments(&sink, key, ids);
	else
		EmitKeyDocuments(&sink, key);
}

STORE_ENTRY(store_snapshot, WholeSnapshot)
STORE_ENTRY(store_snapshot_key, SnapshotOfKey)
STORE_ENTRY(store_snapshot_rows, SnapshotRows)
STORE_ENTRY(store_snapshot_tag, SnapshotTag)
STORE_ENTRY(store_key_documents, KeyDocuments)
