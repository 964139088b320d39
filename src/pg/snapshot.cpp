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

// One key of a value-per-call stream (copied out of SPI): its name, whether row-level security
// filters it for the reader, and then the ids the reader may see (a jsonb array).
struct StreamKey {
	Datum key;
	bool under_rls;
	Datum ids;
};

// The state of store_snapshot_chunks between calls, in the call's multi-call memory: the keys
// and the version read on the first call, then the position in them. A key's documents come
// from an open scan of store.entries' (key, id) index, or under row-level security from a
// tuplestore of its visible documents filled when the key is reached.
struct ChunkStream {
	StreamKey *keys;
	uint64 key_count;
	uint64 next_key;   // the key whose header comes next
	bool in_documents; // between a key's header and its "]"
	const char *prefix;
	char *tail; // ,"version":"V"}
	bool done;
	Relation entries;
	Relation index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Oid doc_type;
	Tuplestorestate *visible;
	TupleDesc visible_desc;
	TupleTableSlot *visible_slot;
};

// A chunk (text, in the current memory context): prefix then data.
text *
Chunk(const char *prefix, const char *data, Size length)
{
	Size prefix_length = strlen(prefix);
	text *chunk = static_cast<text *>(palloc(VARHDRSZ + prefix_length + length));
	SET_VARSIZE(chunk, VARHDRSZ + prefix_length + length);
	memcpy(VARDATA(chunk), prefix, prefix_length);
	memcpy(VARDATA(chunk) + prefix_length, data, length);
	return chunk;
}

// The chunk of one stored document after prefix (see EmitDocument).
text *
DocumentChunk(const char *prefix, Datum doc, Oid doc_type)
{
	if (doc_type != JSONOID) {
		StringInfoData text;
		initStringInfo(&text);
		Jsonb *jsonb = DatumGetJsonbP(doc);
		JsonbToCString(&text, &jsonb->root, (int)VARSIZE(jsonb));
		return Chunk(prefix, text.data, text.len);
	}
	auto *original = reinterpret_cast<struct varlena *>(DatumGetPointer(doc));
	struct varlena *stored = pg_detoast_datum_packed(original);
	text *chunk = Chunk(prefix, VARDATA_ANY(stored), VARSIZE_ANY_EXHDR(stored));
	if (stored != original)
		pfree(stored);
	return chunk;
}

// Ends the open index scan or visible-documents tuplestore of a stream, if any.
void
EndKeyScan(ChunkStream *stream)
{
	if (stream->scan != nullptr) {
		ExecDropSingleTupleTableSlot(stream->slot);
		index_endscan(stream->scan);
		index_close(stream->index, NoLock);
		table_close(stream->entries, NoLock);
		stream->scan = nullptr;
	}
	if (stream->visible != nullptr) {
		ExecDropSingleTupleTableSlot(stream->visible_slot);
		tuplestore_end(stream->visible);
		stream->visible = nullptr;
	}
}

// Expression-context shutdown callback: a stream its caller stopped reading (LIMIT, an error
// elsewhere in the query) ends its scan.
void
EndStreamCallback(Datum arg)
{
	EndKeyScan(reinterpret_cast<ChunkStream *>(DatumGetPointer(arg)));
}

// First call: checks the reader, lists the keys it may read (as EmitSnapshot does) and reads the
// version, all in the calling statement's snapshot, into a new stream in the current context.
ChunkStream *
StartStream(Datum key, bool key_is_null)
{
	pg::RefuseInWritingTransaction();
	if (!key_is_null)
		pg::RequireReadable(key, false);
	auto *stream = static_cast<ChunkStream *>(palloc0(sizeof(ChunkStream)));
	MemoryContext stream_context = CurrentMemoryContext;
	pg::ConnectSpi();
	int rc = pg::ExecuteForCaller(pg::sql::kReadableKeys, key, key_is_null, key, key_is_null);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: listing the snapshot's keys failed: %s", SPI_result_code_string(rc));
	MemoryContext spi_context = MemoryContextSwitchTo(stream_context);
	stream->key_count = SPI_processed;
	stream->keys = static_cast<StreamKey *>(palloc0(sizeof(StreamKey) * (SPI_processed + 1)));
	for (uint64 row = 0; row < SPI_processed; row++) {
		HeapTuple tuple = SPI_tuptable->vals[row];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool is_null, rls_is_null, ids_is_null;
		Datum name = SPI_getbinval(tuple, desc, 1, &is_null);
		bool under_rls = DatumGetBool(SPI_getbinval(tuple, desc, 2, &rls_is_null));
		Datum ids = SPI_getbinval(tuple, desc, 3, &ids_is_null);
		stream->keys[row].key = datumCopy(name, false, -1);
		stream->keys[row].under_rls = !rls_is_null && under_rls;
		stream->keys[row].ids = ids_is_null ? (Datum)0 : datumCopy(ids, false, -1);
	}
	MemoryContextSwitchTo(spi_context);
	SPI_finish();
	StringInfoData tail;
	initStringInfo(&tail);
	appendStringInfoString(&tail, stream->key_count > 0 ? ",\"version\":" : "\"version\":");
	escape_json(&tail, text_to_cstring(DatumGetTextPP(pg::CurrentVersionText())));
	appendStringInfoChar(&tail, '}');
	stream->tail = tail.data;
	return stream;
}

// Opens the documents of the stream's current key: the (key, id) index scan of EmitKeyDocuments,
// or under row-level security a tuplestore of the visible documents (EmitVisibleDocuments).
void
OpenKeyDocuments(ChunkStream *stream, const StreamKey &key)
{
	stream->prefix = "";
	if (key.under_rls) {
		stream->visible_desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(stream->visible_desc, 1, "c", TEXTOID, -1, 0);
		stream->visible = tuplestore_begin_heap(false, false, work_mem);
		stream->visible_slot = MakeSingleTupleTableSlot(stream->visible_desc, &TTSOpsMinimalTuple);
		SnapshotSink sink = {nullptr, stream->visible, stream->visible_desc};
		pg::ConnectSpi();
		EmitVisibleDocuments(&sink, key.key, key.ids);
		SPI_finish();
		return;
	}
	stream->entries = table_open(pg::StoreEntries(), AccessShareLock);
	stream->index = index_open(RelationGetReplicaIndex(stream->entries), AccessShareLock);
	stream->doc_type = TupleDescAttr(RelationGetDescr(stream->entries), 2)->atttypid;
	ScanKeyData scan_key;
	ScanKeyInit(&scan_key, 1, BTEqualStrategyNumber, F_TEXTEQ, key.key);
	scan_key.sk_collation = stream->index->rd_indcollation[0];
	stream->scan = index_beginscan(stream->entries, stream->index, GetActiveSnapshot(), 1, 0);
	index_rescan(stream->scan, &scan_key, 1, nullptr, 0);
	stream->slot = table_slot_create(stream->entries, nullptr);
}

// The next document chunk of the current key, or nullptr when it has no more.
text *
NextDocumentChunk(ChunkStream *stream, MemoryContext result_context)
{
	text *chunk = nullptr;
	if (stream->scan != nullptr) {
		if (index_getnext_slot(stream->scan, ForwardScanDirection, stream->slot)) {
			bool is_null;
			Datum doc = slot_getattr(stream->slot, 3, &is_null);
			MemoryContext old = MemoryContextSwitchTo(result_context);
			chunk = DocumentChunk(stream->prefix, doc, stream->doc_type);
			MemoryContextSwitchTo(old);
		}
	} else if (tuplestore_gettupleslot(stream->visible, true, false, stream->visible_slot)) {
		bool is_null;
		Datum doc = slot_getattr(stream->visible_slot, 1, &is_null);
		MemoryContext old = MemoryContextSwitchTo(result_context);
		chunk = DatumGetTextPCopy(doc); // EmitVisibleDocuments put the prefixes in
		MemoryContextSwitchTo(old);
	}
	if (chunk == nullptr)
		EndKeyScan(stream);
	stream->prefix = ",";
	return chunk;
}

// The stream's next chunk (in result_context), or nullptr at its end. Runs in the stream's context.
text *
NextChunk(ChunkStream *stream, MemoryContext result_context)
{
	CHECK_FOR_INTERRUPTS();
	if (stream->in_documents) {
		if (text *chunk = NextDocumentChunk(stream, result_context))
			return chunk;
		stream->in_documents = false;
		MemoryContext old = MemoryContextSwitchTo(result_context);
		text *end = Chunk("]", "", 0);
		MemoryContextSwitchTo(old);
		return end;
	}
	if (stream->next_key < stream->key_count) {
		const StreamKey &key = stream->keys[stream->next_key];
		MemoryContext old = MemoryContextSwitchTo(result_context);
		StringInfoData header;
		initStringInfo(&header);
		appendStringInfoString(&header, stream->next_key > 0 ? "," : "");
		escape_json(&header, TextDatumGetCString(key.key));
		appendStringInfoString(&header, ":[");
		text *chunk = Chunk(header.data, "", 0);
		MemoryContextSwitchTo(old);
		OpenKeyDocuments(stream, key);
		stream->next_key++;
		stream->in_documents = true;
		return chunk;
	}
	if (stream->done)
		return nullptr;
	stream->done = true;
	MemoryContext old = MemoryContextSwitchTo(result_context);
	text *tail = Chunk(stream->tail, "", 0);
	MemoryContextSwitchTo(old);
	return tail;
}

// store_snapshot_chunks(key): the chunks of store_snapshot_rows, one per call (value per call):
// in a select list, and in FROM through store_snapshot_rows (a SQL function the planner inlines),
// they go to the caller as they are read, without a tuplestore. The first chunk is "{".
Datum
SnapshotChunks(FunctionCallInfo fcinfo)
{
	FuncCallContext *call;
	if (SRF_IS_FIRSTCALL()) {
		call = SRF_FIRSTCALL_INIT();
		MemoryContext old = MemoryContextSwitchTo(call->multi_call_memory_ctx);
		ChunkStream *stream = StartStream(PG_GETARG_DATUM(0), PG_ARGISNULL(0));
		call->user_fctx = stream;
		MemoryContextSwitchTo(old);
		auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		RegisterExprContextCallback(rsinfo->econtext, EndStreamCallback, PointerGetDatum(stream));
		SRF_RETURN_NEXT(call, PointerGetDatum(Chunk("{", "", 0)));
	}
	call = SRF_PERCALL_SETUP();
	auto *stream = static_cast<ChunkStream *>(call->user_fctx);
	MemoryContext result_context = CurrentMemoryContext;
	MemoryContext old = MemoryContextSwitchTo(call->multi_call_memory_ctx);
	text *chunk = NextChunk(stream, result_context);
	MemoryContextSwitchTo(old);
	if (chunk != nullptr)
		SRF_RETURN_NEXT(call, PointerGetDatum(chunk));
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	UnregisterExprContextCallback(rsinfo->econtext, EndStreamCallback, PointerGetDatum(stream));
	SRF_RETURN_DONE(call);
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
STORE_ENTRY(store_snapshot_chunks, SnapshotChunks)
STORE_ENTRY(store_snapshot_tag, SnapshotTag)
STORE_ENTRY(store_key_documents, KeyDocuments)
