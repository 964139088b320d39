// Building and caching document shapes.
#include "pg/doc_shape.hpp"
#include "pg/canonical.hpp"
#include "pg/filter.hpp"
#include "pg/trust.hpp"
#include "pg/writer.hpp"

namespace store::pg {

// Backend-local cache of shapes, keyed by (relid, store key).
HTAB *shape_cache = nullptr;

} // namespace store::pg

// Marks every shape stale; each is rebuilt (and its rendering checked again) on next use. Called
// for any relcache invalidation (DDL on a table or on a composite type a column uses, trigger
// changes from register/unregister) and any change of casts, functions, types or roles (who may
// render a document).
extern "C" void
store_invalidate_shapes(Datum, Oid)
{
	if (store::pg::shape_cache == nullptr)
		return;
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, store::pg::shape_cache);
	for (auto *shape = static_cast<store::pg::DocShape *>(hash_seq_search(&status)); shape != nullptr;
	     shape = static_cast<store::pg::DocShape *>(hash_seq_search(&status)))
		shape->valid = false;
}

// The syscache form of store_invalidate_shapes.
extern "C" void
store_invalidate_shapes_syscache(Datum arg, int, uint32)
{
	store_invalidate_shapes(arg, InvalidOid);
}

namespace store::pg {

namespace {

// Creates the backend-local shape hash table on first use.
void
EnsureShapeCache()
{
	if (shape_cache != nullptr)
		return;
	HASHCTL ctl;
	ctl.keysize = sizeof(DocShape::Key);
	ctl.entrysize = sizeof(DocShape);
	ctl.hcxt = CacheMemoryContext;
	shape_cache = hash_create("store document shapes", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

// Fills the shape's column list: every live column, or the registered ones by attribute number
// (they follow renames). Reads store.keys through SPI, which resets CurrentMemoryContext;
// allocates in context.
void
ResolveColumns(DocShape *shape, Relation rel, const char *store_key, MemoryContext context)
{
	TupleDesc desc = RelationGetDescr(rel);
	bool all_columns;
	Datum columns = RequireRegistration(rel, store_key, &all_columns);
	MemoryContextSwitchTo(context);
	shape->attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * Max(desc->natts, 1)));
	shape->natts = 0;
	if (all_columns) {
		for (int i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				shape->attnums[shape->natts++] = TupleDescAttr(desc, i)->attnum;
		return;
	}
	Datum *numbers;
	int count;
	deconstruct_array(DatumGetArrayTypeP(columns), INT2OID, 2, true, TYPALIGN_SHORT, &numbers, nullptr, &count);
	shape->attnums = static_cast<AttrNumber *>(repalloc(shape->attnums, sizeof(AttrNumber) * Max(count, 1)));
	for (int i = 0; i < count; i++) {
		AttrNumber attnum = DatumGetInt16(numbers[i]);
		if (attnum < 1 || attnum > desc->natts || TupleDescAttr(desc, attnum - 1)->attisdropped)
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
			                errmsg("a column chosen for store key \"%s\" no longer exists in table \"%s\"", store_key,
			                       RelationGetRelationName(rel)),
			                errhint("Unregister the key and register it again with the table's current columns.")));
		shape->attnums[shape->natts++] = attnum;
	}
}

// Builds the record descriptor of the chosen columns and blesses it as an anonymous record type.
TupleDesc
BuildProjection(const DocShape *shape, TupleDesc desc)
{
	TupleDesc projection = CreateTemplateTupleDesc(shape->natts);
	for (int i = 0; i < shape->natts; i++)
		TupleDescCopyEntry(projection, i + 1, desc, shape->attnums[i]);
	return BlessTupleDesc(projection);
}

// Fills a fresh shape for (rel, store_key), allocating in context.
void
BuildShape(DocShape *shape, Relation rel, const char *store_key, MemoryContext context)
{
	TupleDesc desc = RelationGetDescr(rel);
	MemoryContext caller = CurrentMemoryContext;
	ResolveColumns(shape, rel, store_key, context);
	MemoryContextSwitchTo(caller);
	RequireRenderableSource(RelationGetRelid(rel), shape->attnums, shape->natts);
	shape->filter = LoadFilter(rel, store_key, context);
	MemoryContextSwitchTo(context);
	shape->owner = rel->rd_rel->relowner;
	shape->projection = BuildProjection(shape, desc);
	shape->id_attnum = PrimaryKeyAttnum(rel);
	Form_pg_attribute id_att = TupleDescAttr(desc, shape->id_attnum - 1);
	InitToJson(&shape->doc_to_json, F_TO_JSON, RECORDOID, -1, InvalidOid, CurrentMemoryContext);
	InitToJson(&shape->doc_to_jsonb, F_TO_JSONB, RECORDOID, -1, InvalidOid, CurrentMemoryContext);
	InitToJson(&shape->id_to_jsonb, F_TO_JSONB, id_att->atttypid, id_att->atttypmod, id_att->attcollation,
	           CurrentMemoryContext);
	MemoryContextSwitchTo(caller);
}

} // namespace

Datum
RequireRegistration(Relation rel, const char *store_key, bool *all_columns)
{
	Oid source;
	Datum columns;
	if (!ReadRegistration(store_key, &source, &columns, all_columns))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("store key \"%s\" is not registered", store_key),
		                errhint("A store trigger is left on a table whose key was removed; drop the trigger or "
		                        "register the key again.")));
	if (source != RelationGetRelid(rel))
		ereport(ERROR,
		        (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		         errmsg("store key \"%s\" is not registered for table \"%s\"", store_key, RelationGetRelationName(rel)),
		         errhint("Store triggers are installed by store_register(); drop this one.")));
	return columns;
}

void
InitDocShapes()
{
	CacheRegisterRelcacheCallback(store_invalidate_shapes, (Datum)0);
	const int caches[] = {CASTSOURCETARGET, PROCOID, TYPEOID, AUTHOID, AUTHMEMROLEMEM};
	for (int cache : caches)
		CacheRegisterSyscacheCallback(cache, store_invalidate_shapes_syscache, (Datum)0);
}

void
InitToJson(FmgrInfo *fn, Oid function, Oid argtype, int32 typmod, Oid collation, MemoryContext context)
{
	fmgr_info_cxt(function, fn, context);
	MemoryContext old = MemoryContextSwitchTo(context);
	Const *arg = makeNullConst(argtype, typmod, collation);
	Oid result_type = function == F_TO_JSON ? JSONOID : JSONBOID;
	FuncExpr *call = makeFuncExpr(function, result_type, list_make1(arg), InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	MemoryContextSwitchTo(old);
	fmgr_info_set_expr(reinterpret_cast<Node *>(call), fn);
}

AttrNumber
PrimaryKeyAttnum(Relation rel)
{
	Oid index_oid = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(index_oid))
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("table \"%s\" has no primary key", RelationGetRelationName(rel)),
		                errhint("The store identifies documents by a single-column primary key.")));
	HeapTuple index_tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index_oid));
	if (!HeapTupleIsValid(index_tuple))
		elog(ERROR, "store: cache lookup failed for index %u", index_oid);
	auto *index = reinterpret_cast<Form_pg_index>(GETSTRUCT(index_tuple));
	int nkeys = index->indnkeyatts;
	AttrNumber attnum = index->indkey.values[0];
	ReleaseSysCache(index_tuple);
	if (nkeys != 1)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("table \"%s\" has a composite primary key", RelationGetRelationName(rel)),
		                errhint("The store identifies documents by a single-column primary key.")));
	return attnum;
}

DocShape *
LookupDocShape(Relation rel, const char *store_key)
{
	EnsureShapeCache();
	DocShape::Key key;
	memset(&key, 0, sizeof key);
	key.relid = RelationGetRelid(rel);
	strlcpy(key.store_key, store_key, NAMEDATALEN);
	bool found;
	auto *shape = static_cast<DocShape *>(hash_search(shape_cache, &key, HASH_ENTER, &found));
	if (found && shape->valid && shape->context != nullptr)
		return shape;
	if (found && shape->context != nullptr)
		MemoryContextDelete(shape->context);
	// valid goes up before building, so an invalidation that arrives during the build (SPI and
	// catalog reads accept them) stays recorded and forces another build on next use. context
	// stays NULL until the build completes, so a failed build is never used.
	shape->valid = true;
	shape->context = nullptr;
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "store document shape", ALLOCSET_SMALL_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "store: SPI_connect failed");
	BuildShape(shape, rel, store_key, context);
	SPI_finish();
	MemoryContextSetParent(context, CacheMemoryContext);
	shape->context = context;
	return shape;
}

Datum
BuildDoc(const DocShape *shape, HeapTuple tuple, TupleDesc desc, Oid doc_type)
{
	Datum *row_values = static_cast<Datum *>(palloc(sizeof(Datum) * desc->natts));
	bool *row_nulls = static_cast<bool *>(palloc(sizeof(bool) * desc->natts));
	heap_deform_tuple(tuple, desc, row_values, row_nulls);
	Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * shape->natts));
	bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * shape->natts));
	for (int i = 0; i < shape->natts; i++) {
		values[i] = row_values[shape->attnums[i] - 1];
		nulls[i] = row_nulls[shape->attnums[i] - 1];
	}
	HeapTuple record = heap_form_tuple(shape->projection, values, nulls);
	const FmgrInfo *render = doc_type == JSONOID ? &shape->doc_to_json : &shape->doc_to_jsonb;
	return FunctionCall1(const_cast<FmgrInfo *>(render), HeapTupleGetDatum(record));
}

Rendering
BeginRendering(const DocShape *shape)
{
	Rendering rendering;
	rendering.nest_level = EnterCanonicalOutput();
	rendering.saved = BecomeRole(shape->owner);
	return rendering;
}

void
EndRendering(Rendering rendering)
{
	RestoreUser(rendering.saved);
	LeaveCanonicalOutput(rendering.nest_level);
}

Datum
BuildId(const DocShape *shape, HeapTuple tuple, TupleDesc desc)
{
	bool is_null;
	Datum id = heap_getattr(tuple, shape->id_attnum, desc, &is_null);
	if (is_null)
		elog(ERROR, "store: primary key of a stored row is NULL");
	return FunctionCall1(const_cast<FmgrInfo *>(&shape->id_to_jsonb), id);
}

} // namespace store::pg
