// Building and caching document shapes.
#include "pg/doc_shape.hpp"
#include "pg/canonical.hpp"
#include "pg/filter.hpp"
#include "pg/registration.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/trust.hpp"

extern "C" {
#include "catalog/partition.h"
}

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

// The attribute number in rel of the source's column source_attnum (rel is the source itself, or
// one of its partitions, whose columns may be numbered differently: matched by name); 0 when the
// column no longer exists.
AttrNumber
ColumnInRelation(Relation rel, Relation source, AttrNumber source_attnum)
{
	TupleDesc source_desc = RelationGetDescr(source);
	if (source_attnum < 1 || source_attnum > source_desc->natts ||
	    TupleDescAttr(source_desc, source_attnum - 1)->attisdropped)
		return 0;
	if (source == rel)
		return source_attnum;
	return get_attnum(RelationGetRelid(rel), NameStr(TupleDescAttr(source_desc, source_attnum - 1)->attname));
}

// Fills the shape's column list, as attribute numbers of rel, in the source's column order: every
// live column of the source, or the registered ones by the source's attribute numbers (they
// follow renames). Reads store.keys through SPI, which resets CurrentMemoryContext; allocates in
// context. *source_attnums: the same columns as the source numbers them (for the trust checks).
void
ResolveColumns(DocShape *shape, Relation rel, const char *store_key, MemoryContext context, Oid *source_relid,
               AttrNumber **source_attnums, int *source_count)
{
	bool all_columns;
	Datum columns = RequireRegistration(rel, store_key, &all_columns, source_relid);
	Relation source = *source_relid == RelationGetRelid(rel) ? rel : table_open(*source_relid, AccessShareLock);
	TupleDesc desc = RelationGetDescr(source);
	Datum *numbers = nullptr;
	int count = 0;
	if (!all_columns)
		deconstruct_array(DatumGetArrayTypeP(columns), INT2OID, 2, true, TYPALIGN_SHORT, &numbers, nullptr, &count);
	MemoryContextSwitchTo(context);
	int room = Max(all_columns ? desc->natts : count, 1);
	shape->attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * room));
	*source_attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * room));
	shape->natts = 0;
	*source_count = all_columns ? 0 : count;
	for (int i = 0; i < (all_columns ? desc->natts : count); i++) {
		AttrNumber source_attnum = all_columns ? TupleDescAttr(desc, i)->attnum : DatumGetInt16(numbers[i]);
		if (all_columns && TupleDescAttr(desc, i)->attisdropped)
			continue;
		AttrNumber attnum = ColumnInRelation(rel, source, source_attnum);
		if (attnum == InvalidAttrNumber)
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
			                errmsg("a column chosen for store key \"%s\" no longer exists in table \"%s\"", store_key,
			                       RelationGetRelationName(rel)),
			                errhint("Unregister the key and register it again with the table's current columns.")));
		(*source_attnums)[shape->natts] = source_attnum;
		shape->attnums[shape->natts++] = attnum;
	}
	if (source != rel)
		table_close(source, AccessShareLock);
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

// Prepares to_jsonb for each primary-key column of rel (the parts of an id).
void
InitIdRendering(DocShape *shape, Relation rel)
{
	TupleDesc desc = RelationGetDescr(rel);
	shape->nkeys = PrimaryKeyAttnums(rel, &shape->id_attnums);
	shape->id_to_jsonb = static_cast<FmgrInfo *>(palloc(sizeof(FmgrInfo) * shape->nkeys));
	for (int i = 0; i < shape->nkeys; i++) {
		Form_pg_attribute id_att = TupleDescAttr(desc, shape->id_attnums[i] - 1);
		InitToJson(&shape->id_to_jsonb[i], F_TO_JSONB, id_att->atttypid, id_att->atttypmod, id_att->attcollation,
		           CurrentMemoryContext);
	}
}

// Fills a fresh shape for (rel, store_key), allocating in context.
void
BuildShape(DocShape *shape, Relation rel, const char *store_key, MemoryContext context)
{
	TupleDesc desc = RelationGetDescr(rel);
	MemoryContext caller = CurrentMemoryContext;
	Oid source;
	AttrNumber *source_attnums;
	int source_count;
	ResolveColumns(shape, rel, store_key, context, &source, &source_attnums, &source_count);
	MemoryContextSwitchTo(caller);
	RequireRenderableSource(source, source_attnums, source_count);
	shape->filter = LoadFilter(rel, store_key, context);
	MemoryContextSwitchTo(context);
	shape->owner = RelationOwner(source); // a partition's rows render as the registered table's (_source_rows)
	shape->projection = BuildProjection(shape, desc);
	InitIdRendering(shape, rel);
	InitToJson(&shape->doc_to_json, F_TO_JSON, RECORDOID, -1, InvalidOid, CurrentMemoryContext);
	InitToJson(&shape->doc_to_jsonb, F_TO_JSONB, RECORDOID, -1, InvalidOid, CurrentMemoryContext);
	MemoryContextSwitchTo(caller);
}

// True when rel is a partition (at any depth) of the partitioned table source.
bool
IsPartitionOf(Relation rel, Oid source)
{
	return rel->rd_rel->relispartition && list_member_oid(get_partition_ancestors(RelationGetRelid(rel)), source);
}

} // namespace

Datum
RequireRegistration(Relation rel, const char *store_key, bool *all_columns, Oid *registered_source)
{
	Oid source;
	Datum columns;
	if (!ReadRegistration(store_key, &source, &columns, all_columns))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("store key \"%s\" is not registered", store_key),
		                errhint("A store trigger is left on a table whose key was removed; drop the trigger or "
		                        "register the key again.")));
	if (registered_source != nullptr)
		*registered_source = source;
	if (source != RelationGetRelid(rel) && !IsPartitionOf(rel, source))
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

int
PrimaryKeyAttnums(Relation rel, AttrNumber **attnums)
{
	Oid index_oid = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(index_oid))
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("table \"%s\" has no primary key", RelationGetRelationName(rel)),
		                errhint("The store identifies documents by their table's primary key.")));
	HeapTuple index_tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index_oid));
	if (!HeapTupleIsValid(index_tuple))
		elog(ERROR, "store: cache lookup failed for index %u", index_oid);
	auto *index = reinterpret_cast<Form_pg_index>(GETSTRUCT(index_tuple));
	int nkeys = index->indnkeyatts;
	*attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * nkeys));
	for (int i = 0; i < nkeys; i++)
		(*attnums)[i] = index->indkey.values[i];
	ReleaseSysCache(index_tuple);
	return nkeys;
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
	ConnectSpi();
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

// The jsonb of one key column of a row, rendered by to_jsonb.
Datum
KeyValueJsonb(const DocShape *shape, int i, HeapTuple tuple, TupleDesc desc)
{
	bool is_null;
	Datum value = heap_getattr(tuple, shape->id_attnums[i], desc, &is_null);
	if (is_null)
		elog(ERROR, "store: primary key of a stored row is NULL");
	return FunctionCall1(const_cast<FmgrInfo *>(&shape->id_to_jsonb[i]), value);
}

Datum
BuildId(const DocShape *shape, HeapTuple tuple, TupleDesc desc)
{
	if (shape->nkeys == 1)
		return KeyValueJsonb(shape, 0, tuple, desc);
	Datum *parts = static_cast<Datum *>(palloc(sizeof(Datum) * shape->nkeys));
	for (int i = 0; i < shape->nkeys; i++)
		parts[i] = KeyValueJsonb(shape, i, tuple, desc);
	return JsonbArrayOf(parts, shape->nkeys);
}

Datum
JsonbArrayOf(const Datum *scalars, int count)
{
	JsonbParseState *state = nullptr;
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
	for (int i = 0; i < count; i++) {
		JsonbValue element;
		if (!JsonbExtractScalar(&DatumGetJsonbP(scalars[i])->root, &element))
			elog(ERROR, "store: a key column did not render as a JSON scalar");
		pushJsonbValue(&state, WJB_ELEM, &element);
	}
	JsonbValue *array = pushJsonbValue(&state, WJB_END_ARRAY, nullptr);
	return JsonbPGetDatum(JsonbValueToJsonb(array));
}

} // namespace store::pg
