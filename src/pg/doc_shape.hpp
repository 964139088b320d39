// How rows of a registered table become store documents: the chosen columns as a record,
// rendered by PostgreSQL's own to_json (to_jsonb while the store's tables are still 0.1.0's), as
// the table's owner under canonical output settings (RenderAsOwner). Shapes are cached per
// (table, key), built from the latest registration after checking who may render them
// (trust.hpp), and rebuilt after any relcache invalidation or change of casts, functions, types
// or roles.
#pragma once

#include "pg/postgres_headers.hpp"
#include "pg/roles.hpp"

namespace store::pg {

struct Filter;

// A registered table's document recipe; lives in its own memory context under CacheMemoryContext.
struct DocShape {
	struct Key {
		Oid relid;
		char store_key[NAMEDATALEN];
	} key;
	bool valid;
	MemoryContext context;
	Oid owner;              // the table's owner: documents are rendered with its rights
	int natts;              // number of chosen columns
	AttrNumber *attnums;    // their attribute numbers in the table
	TupleDesc projection;   // blessed record descriptor of the chosen columns
	int nkeys;              // number of primary-key columns
	AttrNumber *id_attnums; // the primary-key columns, in key order
	FmgrInfo doc_to_json;   // to_json(record)
	FmgrInfo doc_to_jsonb;  // to_jsonb(record), for store.entries of version 0.1.0
	FmgrInfo *id_to_jsonb;  // to_jsonb(<key column type>), per key column
	Filter *filter;         // the key's filter (filter.hpp); nullptr: every row
};

// Registers the relcache callback that invalidates shapes; called from _PG_init.
void InitDocShapes();

// The shape for (rel, store_key), built on first use (reading store.keys through SPI).
DocShape *LookupDocShape(Relation rel, const char *store_key);

// The document of a row: its chosen columns as doc_type (json, or jsonb for version 0.1.0).
Datum BuildDoc(const DocShape *shape, HeapTuple tuple, TupleDesc desc, Oid doc_type);

// The jsonb form of a row's primary key (the entry's id; item_id is its text): the key value, or
// for a composite key the array of its values in key-column order.
Datum BuildId(const DocShape *shape, HeapTuple tuple, TupleDesc desc);

// The jsonb array of the given jsonb scalars (a composite key's id), built as jsonb_build_array
// builds it from the same values.
Datum JsonbArrayOf(const Datum *scalars, int count);

// The registered column numbers (int2[], the source's attribute numbers) of store_key
// (*all_columns: every column) and its source table; errors unless store_key is registered for
// rel itself or for a partitioned table rel is a partition of. Needs an open SPI connection.
Datum RequireRegistration(Relation rel, const char *store_key, bool *all_columns, Oid *source = nullptr);

// The attribute numbers of rel's primary-key columns in key order (palloc'd in the current
// memory context) and their count; errors when there is none.
int PrimaryKeyAttnums(Relation rel, AttrNumber **attnums);

// The rendering state of one capture: canonical output settings and the table owner's rights.
struct Rendering {
	int nest_level;
	SavedUser saved;
};

// Renders from now on as shape's table owner, in a security-restricted operation, under canonical
// output settings; an error before EndRendering is undone by the (sub)transaction's abort.
Rendering BeginRendering(const DocShape *shape);

// Returns to the caller's rights and settings.
void EndRendering(Rendering rendering);

// Prepares fn to call to_json or to_jsonb (function) on values of argtype (they need its type).
void InitToJson(FmgrInfo *fn, Oid function, Oid argtype, int32 typmod, Oid collation, MemoryContext context);

} // namespace store::pg
