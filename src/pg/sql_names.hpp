// The one place the C++ glue names the store's SQL internals (schema store): the functions, tables
// and columns it uses, and the statements built from them. Renaming one of them in sql/ is a change
// here plus a compile.
//
// Where each is defined: the install script's source, sql/src/NN-concern.sql (older installs
// still run the released scripts' objects until ALTER EXTENSION store UPDATE):
// - tables store.keys, store.entries, store.history, store.meta: 00-schema.sql; the column
//   store.keys.filter_node is 0.3.0's (absent before the update: StoreHasFilters).
// - administration, run as the store owner by admin.cpp: store._register, store._unregister,
//   store._reload, store._compact in 60-admin.sql.
// - reading rights: store._may_read, store._visibility_query in 40-reading.sql; store._trigger_state
//   in 30-capture.sql (0.3.0's: looked up first).
// - documents: store._source_query in 20-rendering.sql.
// - the feed (store_history, store_changes): plain SQL over store.history, store.keys,
//   store.entries and store.meta, calling store._may_read only.
//
// Statements are fully qualified (pg_catalog., OPERATOR(pg_catalog.=)): they mean the same under
// any search_path. The names are macros so that statements are joined from them at compile time
// (adjacent string literals); C++ code uses the constants in namespace store::pg::sql. (The
// columns of store.entries and store.history that writer.cpp fills by position are looked up by
// these names in store_objects.cpp, which names each one in the error it raises when a column is
// missing.)
#pragma once

// Schema, tables and columns.
#define STORE_SQL_SCHEMA "store"
#define STORE_SQL_KEYS_TABLE "keys"
#define STORE_SQL_ENTRIES_TABLE "entries"
#define STORE_SQL_HISTORY_TABLE "history"
#define STORE_SQL_HISTORY_SEQ_TABLE "history_seq"
#define STORE_SQL_KEYS STORE_SQL_SCHEMA "." STORE_SQL_KEYS_TABLE
#define STORE_SQL_ENTRIES STORE_SQL_SCHEMA "." STORE_SQL_ENTRIES_TABLE
#define STORE_SQL_HISTORY STORE_SQL_SCHEMA "." STORE_SQL_HISTORY_TABLE
#define STORE_SQL_META STORE_SQL_SCHEMA ".meta"
#define STORE_SQL_MUTATIONS STORE_SQL_SCHEMA ".mutations"

// Columns of store.keys.
#define STORE_SQL_KEYS_KEY "key"
#define STORE_SQL_KEYS_SOURCE "source"
#define STORE_SQL_KEYS_COLUMN_NUMBERS "column_numbers"
#define STORE_SQL_KEYS_SHAPE "shape"
#define STORE_SQL_FILTER_NODE_COLUMN "filter_node"

// Columns of store.entries.
#define STORE_SQL_ENTRIES_KEY "key"
#define STORE_SQL_ENTRIES_ID "id"
#define STORE_SQL_ENTRIES_DOC "doc"

// Columns of store.history.
#define STORE_SQL_HISTORY_SEQ "seq"
#define STORE_SQL_HISTORY_ORIGIN "origin"
#define STORE_SQL_HISTORY_XID "xid"
#define STORE_SQL_HISTORY_CACHE_KEY "cache_key"
#define STORE_SQL_HISTORY_ITEM "item"
#define STORE_SQL_HISTORY_STATE "state"
#define STORE_SQL_HISTORY_ADDED_ON "added_on"

// The columns (id, doc) of the query store._source_query gives.
#define STORE_SQL_SOURCE_ID "id"
#define STORE_SQL_SOURCE_DOC "doc"

// Administration.
#define STORE_SQL_REGISTER STORE_SQL_SCHEMA "._register"
#define STORE_SQL_UNREGISTER STORE_SQL_SCHEMA "._unregister"
#define STORE_SQL_RELOAD STORE_SQL_SCHEMA "._reload"
#define STORE_SQL_COMPACT STORE_SQL_SCHEMA "._compact"

// Reading rights.
#define STORE_SQL_MAY_READ STORE_SQL_SCHEMA "._may_read"
#define STORE_SQL_TRIGGER_STATE STORE_SQL_SCHEMA "._trigger_state"
#define STORE_SQL_VISIBILITY_QUERY STORE_SQL_SCHEMA "._visibility_query"

// Documents.
#define STORE_SQL_SOURCE_QUERY STORE_SQL_SCHEMA "._source_query"

// Nested keys (0.3.0 only: a nested key exists only there): store.keys.nested in 00-schema.sql,
// store._nested_render_query in 20-rendering.sql, store._rebuild and store._log as above.
#define STORE_SQL_KEYS_NESTED "nested"
#define STORE_SQL_NESTED_RENDER_QUERY STORE_SQL_SCHEMA "._nested_render_query"
#define STORE_SQL_ORIGIN STORE_SQL_SCHEMA "._origin"
// This transaction's history rows of one key ($1) and some items ($2, text[] of jsonb ids).
#define STORE_SQL_OWN_HISTORY_ROWS                                                                                     \
	" h." STORE_SQL_HISTORY_ORIGIN " OPERATOR(pg_catalog.=) " STORE_SQL_ORIGIN "() AND h." STORE_SQL_HISTORY_XID       \
	" OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id() AND h." STORE_SQL_HISTORY_CACHE_KEY                       \
	" OPERATOR(pg_catalog.=) $1"

// The feed: the history rows after a client's version that a reader may see, in three parts that
// follow one another in page-key order, each row with its page key (pk): 1, the rows restored from
// another store (only the "0" version reads them, all on its first page: page key 0); 2, this
// store's rows of the transactions running in the version (xid = ANY (xip)); 3, its rows of
// transactions at or after the version's xmax; in parts 2 and 3 the page key is the xid, and each
// is a range scan of the (origin, xid) index. Parameters: $1 origin (int4), $2 xmax (xid8), $3 xip
// (xid8[]), $4 from_start (the "0" version), $5 the keys the reader may read and $6 every registered
// key (text[]; rows saying a key is gone are seen unless the key is registered), $7 and $8 the page
// keys to stay above and below (exclusive; NULL: none). $9 is each statement's own.
#define STORE_SQL_SEEN_ROW                                                                                             \
	"(h.cache_key IS NULL OR h.cache_key OPERATOR(pg_catalog.=) ANY ($5)"                                              \
	" OR (h.item IS NULL AND h.cache_key OPERATOR(pg_catalog.<>) ALL ($6)))"
// (As bounds of the index scan, also in a generic plan: NULL is the lowest or highest xid8.)
#define STORE_SQL_PAGE_BOUNDS                                                                                          \
	"h.xid OPERATOR(pg_catalog.>) coalesce($7, '0'::pg_catalog.xid8)"                                                  \
	" AND h.xid OPERATOR(pg_catalog.<) coalesce($8, '18446744073709551615'::pg_catalog.xid8)"
#define STORE_SQL_HISTORY_PART1                                                                                        \
	"SELECT '0'::pg_catalog.xid8 AS pk, h.* FROM " STORE_SQL_HISTORY " AS h WHERE $4 AND $7 IS NULL"                   \
	" AND ($8 IS NULL OR '0'::pg_catalog.xid8 OPERATOR(pg_catalog.<) $8)"                                              \
	" AND (h.origin OPERATOR(pg_catalog.<) $1 OR h.origin OPERATOR(pg_catalog.>) $1) AND " STORE_SQL_SEEN_ROW
// Part 2's index scan is fenced (OFFSET 0) to xid = ANY ($3), a few descents: with the xid range
// beside it, a generic plan may take the range as the scan's bound and filter the array, reading
// every older row of the history on every call.
#define STORE_SQL_HISTORY_PART2                                                                                        \
	"SELECT h.xid AS pk, h.* FROM (SELECT h.* FROM " STORE_SQL_HISTORY                                                 \
	" AS h WHERE h.origin OPERATOR(pg_catalog.=) $1"                                                                   \
	" AND h.xid OPERATOR(pg_catalog.=) ANY ($3) OFFSET 0) AS h WHERE h.xid OPERATOR(pg_catalog.<) $2"                  \
	" AND " STORE_SQL_PAGE_BOUNDS " AND " STORE_SQL_SEEN_ROW
#define STORE_SQL_HISTORY_PART3                                                                                        \
	"SELECT h.xid AS pk, h.* FROM " STORE_SQL_HISTORY " AS h WHERE h.origin OPERATOR(pg_catalog.=) $1"                 \
	" AND h.xid OPERATOR(pg_catalog.>=) $2 AND " STORE_SQL_PAGE_BOUNDS " AND " STORE_SQL_SEEN_ROW
// The rows of all three parts (a CTE: WITH h AS MATERIALIZED (...)).
#define STORE_SQL_SEEN_ROWS                                                                                            \
	"h AS MATERIALIZED (" STORE_SQL_HISTORY_PART1 " UNION ALL " STORE_SQL_HISTORY_PART2                                \
	" UNION ALL " STORE_SQL_HISTORY_PART3 ")"
// The page keys of the first $9 rows of a part, in index order: (rows, first, last).
#define STORE_SQL_PART_KEYS(part)                                                                                      \
	"SELECT pg_catalog.count(*), pg_catalog.min(p.pk), pg_catalog.max(p.pk) FROM (" part " ORDER BY 1 LIMIT $9) AS p"
// The first page key of a part (above $7): where the next transaction begins.
#define STORE_SQL_PART_NEXT(part) "SELECT pg_catalog.min(p.pk) FROM (" part " ORDER BY 1 LIMIT 1) AS p"

namespace store::pg::sql {

// Catalog lookups by name (unqualified: the schema is looked up on its own).
constexpr char kSchema[] = STORE_SQL_SCHEMA;
constexpr char kKeysTable[] = STORE_SQL_KEYS_TABLE;

// The capture trigger function (store.capture()), and the fields of a store.keys row that
// store._may_read reads.
constexpr char kCaptureFunction[] = "capture";
constexpr char kCaptureNestedFunction[] = "capture_nested";
constexpr char kFlushNestedFunction[] = "flush_nested";
constexpr char kKeysKey[] = STORE_SQL_KEYS_KEY;
constexpr char kKeysSource[] = STORE_SQL_KEYS_SOURCE;
constexpr char kKeysShape[] = STORE_SQL_KEYS_SHAPE;
constexpr char kKeysColumnNumbers[] = STORE_SQL_KEYS_COLUMN_NUMBERS;
constexpr char kEntriesTable[] = STORE_SQL_ENTRIES_TABLE;
constexpr char kHistoryTable[] = STORE_SQL_HISTORY_TABLE;
constexpr char kHistorySeq[] = STORE_SQL_HISTORY_SEQ_TABLE;
constexpr char kFilterNodeColumn[] = STORE_SQL_FILTER_NODE_COLUMN;
constexpr char kEntriesKeyColumn[] = STORE_SQL_ENTRIES_KEY;
constexpr char kEntriesIdColumn[] = STORE_SQL_ENTRIES_ID;
constexpr char kEntriesDocColumn[] = STORE_SQL_ENTRIES_DOC;
constexpr char kHistorySeqColumn[] = STORE_SQL_HISTORY_SEQ;
constexpr char kHistoryOriginColumn[] = STORE_SQL_HISTORY_ORIGIN;
constexpr char kHistoryXidColumn[] = STORE_SQL_HISTORY_XID;
constexpr char kHistoryCacheKeyColumn[] = STORE_SQL_HISTORY_CACHE_KEY;
constexpr char kHistoryItemColumn[] = STORE_SQL_HISTORY_ITEM;
constexpr char kHistoryStateColumn[] = STORE_SQL_HISTORY_STATE;
constexpr char kHistoryAddedOnColumn[] = STORE_SQL_HISTORY_ADDED_ON;

// The internal functions behind store_register & co (admin.cpp calls each with its entry
// point's arguments).
constexpr char kRegister[] = STORE_SQL_REGISTER;
constexpr char kUnregister[] = STORE_SQL_UNREGISTER;
constexpr char kReload[] = STORE_SQL_RELOAD;
constexpr char kCompact[] = STORE_SQL_COMPACT;

// $1 = key: its registration (source oid, chosen column numbers; no row: not registered).
constexpr char kRegistration[] =
    "SELECT k." STORE_SQL_KEYS_SOURCE "::pg_catalog.oid, k." STORE_SQL_KEYS_COLUMN_NUMBERS " FROM " STORE_SQL_KEYS
    " AS k WHERE k." STORE_SQL_KEYS_KEY " OPERATOR(pg_catalog.=) $1";

// $1 = key: deletes all of its documents (a TRUNCATE of its table).
constexpr char kDeleteKeyEntries[] =
    "DELETE FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY " OPERATOR(pg_catalog.=) $1";

// Every registered key and its table (key, source oid), in key order.
constexpr char kAllKeySources[] =
    "SELECT k." STORE_SQL_KEYS_KEY ", k." STORE_SQL_KEYS_SOURCE "::pg_catalog.oid FROM " STORE_SQL_KEYS
    " AS k ORDER BY k." STORE_SQL_KEYS_KEY " COLLATE pg_catalog.\"C\"";

// $1 = key: its filter node tree (no row: not registered; NULL: no filter). 0.3.0 only.
constexpr char kKeyFilterNode[] = "SELECT k." STORE_SQL_FILTER_NODE_COLUMN " FROM " STORE_SQL_KEYS
                                  " AS k WHERE k." STORE_SQL_KEYS_KEY " OPERATOR(pg_catalog.=) $1";

// $1 = key: (source oid, the query rendering its rows, chosen column numbers).
constexpr char kKeySourceQuery[] = "SELECT k." STORE_SQL_KEYS_SOURCE "::pg_catalog.oid, " STORE_SQL_SOURCE_QUERY
                                   "(k), k." STORE_SQL_KEYS_COLUMN_NUMBERS " FROM " STORE_SQL_KEYS
                                   " AS k WHERE k." STORE_SQL_KEYS_KEY " OPERATOR(pg_catalog.=) $1";

// The query (given as %s) of store._source_query, its rows in id order.
constexpr char kSourceRowsById[] =
    "SELECT s." STORE_SQL_SOURCE_ID ", s." STORE_SQL_SOURCE_DOC " FROM (%s) AS s ORDER BY s." STORE_SQL_SOURCE_ID;

// $1 = key, $2 = reader: the key's source oid and whether reader may read it (no row: not registered).
constexpr char kKeyReadable[] = "SELECT k.source::pg_catalog.oid, " STORE_SQL_MAY_READ
                                "(k, $2, false) FROM " STORE_SQL_KEYS " AS k WHERE k.key OPERATOR(pg_catalog.=) $1";

// Whether store._trigger_state exists (0.3.0 only).
constexpr char kHasTriggerState[] = "SELECT pg_catalog.to_regprocedure('" STORE_SQL_TRIGGER_STATE
                                    "(pg_catalog.regclass, pg_catalog.text)') IS NOT NULL";

// $1 = source, $2 = key: whether a trigger of the key is missing, disabled or replaced.
constexpr char kTriggersStopped[] =
    "SELECT EXISTS (SELECT FROM pg_catalog.jsonb_each_text(" STORE_SQL_TRIGGER_STATE "($1, $2)) AS s"
    " WHERE s.value OPERATOR(pg_catalog.<>) ALL ('{always,enabled,extra}'::pg_catalog.text[]))";

// $1 = reader, $2 = key (NULL: all): the query of the ids row-level security lets reader see.
constexpr char kVisibilityQuery[] = "SELECT " STORE_SQL_VISIBILITY_QUERY "($1, $2)";

// $1 = key (NULL: all), $2 = reader, $3 = visible ids: the keys reader may read, in key order, with
// whether row-level security filters each and its visible ids (key, under_rls, ids).
constexpr char kReadableKeys[] =
    "SELECT k." STORE_SQL_KEYS_KEY ", $3 OPERATOR(pg_catalog.?) k." STORE_SQL_KEYS_KEY
    ", $3 OPERATOR(pg_catalog.->) k." STORE_SQL_KEYS_KEY " FROM " STORE_SQL_KEYS
    " AS k WHERE ($1 IS NULL OR k." STORE_SQL_KEYS_KEY " OPERATOR(pg_catalog.=) $1) AND " STORE_SQL_MAY_READ
    "(k, $2, $1 IS NULL) ORDER BY k." STORE_SQL_KEYS_KEY;

// $1 = key, $2 = ids (jsonb array): the documents of those ids, in id order.
constexpr char kDocumentsOfIds[] =
    "SELECT e." STORE_SQL_ENTRIES_DOC " FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY
    " OPERATOR(pg_catalog.=) $1 AND e." STORE_SQL_ENTRIES_ID
    " OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.jsonb_array_elements($2))) ORDER BY e." STORE_SQL_ENTRIES_ID;

// $1 = key, $2 = id, $3 = visible ids: the document as text (no row: none visible).
constexpr char kGetDocument[] =
    "SELECT e.doc::pg_catalog.text FROM " STORE_SQL_ENTRIES " AS e WHERE e.key OPERATOR(pg_catalog.=) $1"
    " AND e.id OPERATOR(pg_catalog.=) $2 AND (NOT coalesce($3 OPERATOR(pg_catalog.?) $1, false)"
    " OR e.id OPERATOR(pg_catalog.=) ANY (SELECT pg_catalog.jsonb_array_elements($3 OPERATOR(pg_catalog.->) $1)))";

// $1 = key, $2 = id: the document as text, for a reader row-level security does not filter.
constexpr char kGetDocumentUnfiltered[] =
    "SELECT e.doc::pg_catalog.text FROM " STORE_SQL_ENTRIES " AS e WHERE e.key OPERATOR(pg_catalog.=) $1"
    " AND e.id OPERATOR(pg_catalog.=) $2";

// $1 = key: the ids of its documents, in id order (the order of ORDER BY over jsonb).
constexpr char kKeyEntryIds[] =
    "SELECT e." STORE_SQL_ENTRIES_ID " FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY
    " OPERATOR(pg_catalog.=) $1 ORDER BY e." STORE_SQL_ENTRIES_ID;

// $1 = this store's origin: the compaction horizon versions are read against (newest compacted
// xid of this store, 0 when none; whether any history at all was ever compacted).
constexpr char kHorizon[] =
    "SELECT coalesce(pg_catalog.max(m.compacted_xid) FILTER (WHERE m.origin OPERATOR(pg_catalog.=) $1),"
    " '0'::pg_catalog.xid8),"
    " coalesce(pg_catalog.bool_or(m.compacted_xid OPERATOR(pg_catalog.>) '0'::pg_catalog.xid8), false)"
    " FROM " STORE_SQL_META " AS m";

// The newest store-writing transaction this store's history shows (0: none) and its compaction
// horizon (0: never compacted), as text: what store_snapshot_tag() marks the documents with.
constexpr char kContentWriters[] =
    "SELECT coalesce((SELECT h.xid FROM " STORE_SQL_HISTORY
    " AS h WHERE h.origin OPERATOR(pg_catalog.=) " STORE_SQL_ORIGIN
    "() ORDER BY h.origin DESC, h.xid DESC LIMIT 1), '0')::pg_catalog.text, coalesce((SELECT "
    "pg_catalog.max(m.compacted_xid) FROM " STORE_SQL_META
    " AS m WHERE m.origin OPERATOR(pg_catalog.=) " STORE_SQL_ORIGIN "()), '0')::pg_catalog.text";

// $1 = reader: the keys whose history rows it may see (readable: may read in bulk; registered: all),
// and whether row-level security filters one of the readable ones for it (as
// store._visibility_query decides: only then are the visible ids queried).
constexpr char kHistoryKeys[] =
    "SELECT coalesce(pg_catalog.array_agg(r.key) FILTER (WHERE r.readable), '{}'::pg_catalog.text[]),"
    " coalesce(pg_catalog.array_agg(r.key), '{}'::pg_catalog.text[]),"
    " coalesce(pg_catalog.bool_or(r.readable AND " STORE_SQL_SCHEMA "._rls_active(r.source, $1)), false)"
    " FROM (SELECT k.key, k.source, " STORE_SQL_MAY_READ "(k, $1, true) AS readable FROM " STORE_SQL_KEYS
    " AS k OFFSET 0) AS r";

// The page keys of the first $9 (int8) rows of each part (see STORE_SQL_HISTORY_PART1).
constexpr char kPart1Keys[] = STORE_SQL_PART_KEYS(STORE_SQL_HISTORY_PART1);
constexpr char kPart2Keys[] = STORE_SQL_PART_KEYS(STORE_SQL_HISTORY_PART2);
constexpr char kPart3Keys[] = STORE_SQL_PART_KEYS(STORE_SQL_HISTORY_PART3);

// The first page key above $7 of parts 2 and 3.
constexpr char kPart2Next[] = STORE_SQL_PART_NEXT(STORE_SQL_HISTORY_PART2);
constexpr char kPart3Next[] = STORE_SQL_PART_NEXT(STORE_SQL_HISTORY_PART3);

// The changes of a page ($8: its end; $9: visible ids, jsonb), one row per key in key order: (key,
// whole: comes back whole, registered, under row-level security, its visible ids, upserted
// documents and deleted ids of the others, comma-separated, NULL: none). A key comes back whole
// when registered, reloaded, truncated or unregistered in the page (every readable key after an F
// row), or when row-level security filters it (item ids would tell too much).
constexpr char kPageChanges[] =
    "WITH " STORE_SQL_SEEN_ROWS ","
    " everything AS (SELECT EXISTS (SELECT FROM h WHERE h.state OPERATOR(pg_catalog.=) 'F') AS reloaded),"
    " whole AS (SELECT DISTINCT h.cache_key AS key FROM h WHERE h.item IS NULL AND h.cache_key IS NOT NULL"
    " UNION SELECT k.key FROM " STORE_SQL_KEYS " AS k, everything"
    " WHERE everything.reloaded AND k.key OPERATOR(pg_catalog.=) ANY ($5)"
    " UNION SELECT DISTINCT h.cache_key FROM h WHERE $9 OPERATOR(pg_catalog.?) h.cache_key),"
    // each changed item once, with its current document (an index lookup each; NULL: gone)
    " items AS MATERIALIZED (SELECT t.key, t.id, (SELECT e.doc FROM " STORE_SQL_ENTRIES " AS e"
    " WHERE e.key OPERATOR(pg_catalog.=) t.key AND e.id OPERATOR(pg_catalog.=) t.id) AS doc"
    " FROM (SELECT DISTINCT h.cache_key AS key, h.item AS id FROM h WHERE h.item IS NOT NULL"
    " AND h.cache_key OPERATOR(pg_catalog.<>) ALL (SELECT w.key FROM whole AS w)) AS t),"
    " per_key AS (SELECT w.key, true AS whole, EXISTS (SELECT FROM " STORE_SQL_KEYS " AS k"
    " WHERE k.key OPERATOR(pg_catalog.=) w.key) AS registered,"
    " NULL::pg_catalog.text AS upserted, NULL::pg_catalog.text AS deleted FROM whole AS w"
    " UNION ALL SELECT i.key, false, true,"
    " pg_catalog.string_agg(i.doc::pg_catalog.text, ',' ORDER BY i.id) FILTER (WHERE i.doc IS NOT NULL),"
    " pg_catalog.string_agg(i.id::pg_catalog.text, ',' ORDER BY i.id) FILTER (WHERE i.doc IS NULL)"
    " FROM items AS i GROUP BY i.key)"
    " SELECT p.key, p.whole, p.registered, $9 OPERATOR(pg_catalog.?) p.key, $9 OPERATOR(pg_catalog.->) p.key,"
    " p.upserted, p.deleted FROM per_key AS p ORDER BY p.key";

// The history rows after a version ($7, $8 NULL; $9: visible ids, jsonb), in seq order, as
// store_history returns them after its version column: (cache_key, item_id, state, added_on). Under
// row-level security a key's item rows become one "reload this key" row.
constexpr char kHistoryRows[] =
    "WITH " STORE_SQL_SEEN_ROWS " SELECT r.cache_key, r.item_id, r.state, r.added_on FROM ("
    " SELECT h.seq, h.cache_key, h.item OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[] AS item_id, h.state,"
    " h.added_on FROM h WHERE h.item IS NULL OR NOT coalesce($9 OPERATOR(pg_catalog.?) h.cache_key, false)"
    " UNION ALL SELECT pg_catalog.min(h.seq), h.cache_key, NULL, 'U', pg_catalog.max(h.added_on) FROM h"
    " WHERE h.item IS NOT NULL AND $9 OPERATOR(pg_catalog.?) h.cache_key GROUP BY h.cache_key) AS r"
    " ORDER BY r.seq";

// The field of a store.keys row holding a nested key's shape (read_rights.cpp: absent before 0.3.0).
constexpr char kKeysNested[] = STORE_SQL_KEYS_NESTED;
// The alias of the source's row in the document expression store._source_query embeds
// (store._nested_query's, 20-rendering.sql: "... FROM <source> AS t").
constexpr char kSourceRowAlias[] = "t";
// The states of store.history rows (store.history.state: created, updated, deleted).
constexpr char kStateCreated[] = "C";
constexpr char kStateUpdated[] = "U";
constexpr char kStateDeleted[] = "D";

// Nested keys (nested_maintenance.cpp; $1 is the key). Its registration: (source oid, nested
// shape, whether it has a filter); no row: no nested key.
constexpr char kNestedRegistration[] =
    "SELECT k." STORE_SQL_KEYS_SOURCE "::pg_catalog.oid, k." STORE_SQL_KEYS_NESTED ", k." STORE_SQL_FILTER_NODE_COLUMN
    " IS NOT NULL FROM " STORE_SQL_KEYS " AS k WHERE k." STORE_SQL_KEYS_KEY
    " OPERATOR(pg_catalog.=) $1 AND k." STORE_SQL_KEYS_NESTED " IS NOT NULL";
// The query re-rendering some of its documents (store._nested_render_query).
constexpr char kNestedRenderQuery[] = "SELECT " STORE_SQL_NESTED_RENDER_QUERY "(k) FROM " STORE_SQL_KEYS
                                      " AS k WHERE k." STORE_SQL_KEYS_KEY " OPERATOR(pg_catalog.=) $1";
// Locks the entries of ids $2 (text[] of jsonb) in id order: (id text, doc text).
constexpr char kLockNestedEntries[] =
    "SELECT e." STORE_SQL_ENTRIES_ID "::pg_catalog.text, e." STORE_SQL_ENTRIES_DOC
    "::pg_catalog.text FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY
    " OPERATOR(pg_catalog.=) $1 AND e." STORE_SQL_ENTRIES_ID
    " OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.jsonb[]) ORDER BY e." STORE_SQL_ENTRIES_ID " FOR UPDATE";
// The states of this transaction's history rows of ids $2: (item text, state).
constexpr char kNestedWrittenStates[] =
    "SELECT h." STORE_SQL_HISTORY_ITEM "::pg_catalog.text, h." STORE_SQL_HISTORY_STATE " FROM " STORE_SQL_HISTORY
    " AS h WHERE" STORE_SQL_OWN_HISTORY_ROWS " AND h." STORE_SQL_HISTORY_ITEM
    " OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.jsonb[])";
// Entry (key $1, id $2 as text, document $3 as text): inserted, replaced, deleted.
constexpr char kInsertNestedEntry[] =
    "INSERT INTO " STORE_SQL_ENTRIES " (" STORE_SQL_ENTRIES_KEY ", " STORE_SQL_ENTRIES_ID ", " STORE_SQL_ENTRIES_DOC
    ") VALUES ($1, $2::pg_catalog.jsonb, $3::pg_catalog.json)";
constexpr char kUpdateNestedEntry[] =
    "UPDATE " STORE_SQL_ENTRIES " AS e SET " STORE_SQL_ENTRIES_DOC
    " = $3::pg_catalog.json WHERE e." STORE_SQL_ENTRIES_KEY " OPERATOR(pg_catalog.=) $1"
    " AND e." STORE_SQL_ENTRIES_ID " OPERATOR(pg_catalog.=) $2::pg_catalog.jsonb";
constexpr char kDeleteNestedEntry[] =
    "DELETE FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY
    " OPERATOR(pg_catalog.=) $1 AND e." STORE_SQL_ENTRIES_ID " OPERATOR(pg_catalog.=) $2::pg_catalog.jsonb";
// This transaction's history row of item $2: its state set to $3, or deleted.
constexpr char kChangeNestedHistory[] =
    "UPDATE " STORE_SQL_HISTORY " AS h SET " STORE_SQL_HISTORY_STATE " = $3 WHERE" STORE_SQL_OWN_HISTORY_ROWS
    " AND h." STORE_SQL_HISTORY_ITEM " OPERATOR(pg_catalog.=) $2::pg_catalog.jsonb";
constexpr char kRemoveNestedHistory[] = "DELETE FROM " STORE_SQL_HISTORY " AS h WHERE" STORE_SQL_OWN_HISTORY_ROWS
                                        " AND h." STORE_SQL_HISTORY_ITEM " OPERATOR(pg_catalog.=) $2::pg_catalog.jsonb";
// Rebuilds all of the key's documents (under the key's lock, without store._rebuild's table
// lock): its entries deleted, then rendered again from its tables; then a key-level U, unless this
// transaction has logged one already (one per transaction and key: two TRUNCATEs log one).
constexpr char kDeleteNestedKeyEntries[] =
    "DELETE FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY " OPERATOR(pg_catalog.=) $1";
constexpr char kInsertNestedKeyEntries[] =
    "INSERT INTO " STORE_SQL_ENTRIES " (" STORE_SQL_ENTRIES_KEY ", " STORE_SQL_ENTRIES_ID ", " STORE_SQL_ENTRIES_DOC
    ") SELECT $1, s.id, s.doc FROM " STORE_SQL_SCHEMA "._source_rows($1) AS s";
constexpr char kLogNestedKey[] =
    "SELECT " STORE_SQL_SCHEMA "._log($1, 'U', ARRAY[$1]) WHERE NOT EXISTS "
    "(SELECT FROM " STORE_SQL_HISTORY " AS h WHERE" STORE_SQL_OWN_HISTORY_ROWS " AND h." STORE_SQL_HISTORY_ITEM
    " IS NULL AND h." STORE_SQL_HISTORY_STATE " OPERATOR(pg_catalog.=) 'U')";
// Whether entries of ids $2 exist (read in the latest snapshot).
constexpr char kNestedEntriesExist[] = "SELECT 1 FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY
                                       " OPERATOR(pg_catalog.=) $1 AND e." STORE_SQL_ENTRIES_ID
                                       " OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.jsonb[]) LIMIT 1";
// The key's shape for store_explain: the nested shape, or the chosen columns ("*": all).
constexpr char kKeyShapeText[] =
    "SELECT COALESCE(k." STORE_SQL_KEYS_NESTED ", (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(c), ','"
    " ORDER BY o) FROM pg_catalog.unnest(k.columns) WITH ORDINALITY AS u(c, o)), '*') FROM " STORE_SQL_KEYS
    " AS k WHERE k." STORE_SQL_KEYS_KEY " OPERATOR(pg_catalog.=) $1";
// store_describe: $1 = key (NULL: all), $2 = reader; the keys reader may read (in bulk when $1 is
// NULL, as store_snapshot()) in name order: key, source, nested shape, chosen column numbers.
constexpr char kDescribeKeys[] =
    "SELECT k." STORE_SQL_KEYS_KEY ", k." STORE_SQL_KEYS_SOURCE "::pg_catalog.oid, k." STORE_SQL_KEYS_NESTED
    ", k." STORE_SQL_KEYS_COLUMN_NUMBERS " FROM " STORE_SQL_KEYS " AS k WHERE ($1 IS NULL OR k." STORE_SQL_KEYS_KEY
    " OPERATOR(pg_catalog.=) $1) AND " STORE_SQL_MAY_READ "(k, $2, $1 IS NULL) ORDER BY k." STORE_SQL_KEYS_KEY;

// store_apply (apply.cpp).

// The columns of a registered key's source table: its qualified name, each column's name and
// type, its place in the primary key (NULL: none), whether the key serializes it, its type modifier
// and the table's owner.
constexpr char kApplyTableColumns[] =
    "SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
    "pg_catalog.quote_ident(c.relname), a.attname::pg_catalog.text, a.atttypid::pg_catalog.oid::pg_catalog.text, "
    "pg_catalog.array_position(" STORE_SQL_SCHEMA "._primary_key_columns(k.source), a.attname), "
    "(k.column_numbers IS NULL OR a.attnum OPERATOR(pg_catalog.=) ANY (k.column_numbers)), a.atttypmod, "
    "c.relowner::pg_catalog.text "
    "FROM " STORE_SQL_KEYS " k JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.source "
    "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.source AND a.attnum OPERATOR(pg_catalog.>) "
    "0 "
    "AND NOT a.attisdropped WHERE k.key OPERATOR(pg_catalog.=) $1 ORDER BY a.attnum";

// Makes sure the (role $1, client $2) has a row and locks it (concurrent replays of one client
// serialize here); then its last applied mutation.
constexpr char kApplyAddClient[] =
    "INSERT INTO " STORE_SQL_MUTATIONS " (role, client_id, last_mutation) VALUES ($1, $2, -1) "
    "ON CONFLICT (role, client_id) DO NOTHING";
constexpr char kApplyLockClient[] =
    "SELECT last_mutation FROM " STORE_SQL_MUTATIONS " WHERE role OPERATOR(pg_catalog.=) $1 "
    "AND client_id OPERATOR(pg_catalog.=) $2 FOR UPDATE";
// The last mutation recorded for (role $1, client $2), unlocked: a replay in a read-only transaction.
constexpr char kApplyReadClient[] =
    "SELECT last_mutation FROM " STORE_SQL_MUTATIONS " WHERE role OPERATOR(pg_catalog.=) $1 "
    "AND client_id OPERATOR(pg_catalog.=) $2";
constexpr char kApplyRecordMutation[] =
    "UPDATE " STORE_SQL_MUTATIONS " SET last_mutation = $3::pg_catalog.int8, applied_at = pg_catalog.now() "
    "WHERE role OPERATOR(pg_catalog.=) $1 AND client_id OPERATOR(pg_catalog.=) $2";
// store_forget_client: removes the (role $1, client $2) row; a row when there was one.
constexpr char kApplyForgetClient[] = "DELETE FROM " STORE_SQL_MUTATIONS " WHERE role OPERATOR(pg_catalog.=) $1 "
                                      "AND client_id OPERATOR(pg_catalog.=) $2 RETURNING true";
// Removes the row kApplyAddClient added for a batch that wrote nothing (-1: never applied).
constexpr char kApplyForgetNewClient[] =
    "DELETE FROM " STORE_SQL_MUTATIONS " WHERE role OPERATOR(pg_catalog.=) $1 "
    "AND client_id OPERATOR(pg_catalog.=) $2 AND last_mutation OPERATOR(pg_catalog.=) -1";

// The last history row this transaction wrote before the batch (0: none); by the (origin, xid)
// index.
constexpr char kApplyHistoryBefore[] =
    "SELECT COALESCE(pg_catalog.max(seq), 0) FROM " STORE_SQL_HISTORY " "
    "WHERE origin OPERATOR(pg_catalog.=) " STORE_SQL_SCHEMA "._origin() AND xid OPERATOR(pg_catalog.=) "
    "pg_catalog.pg_current_xact_id_if_assigned()";
// The documents the batch changed: this transaction's history rows after $1.
constexpr char kApplyHistoryAfter[] =
    "SELECT cache_key, item::pg_catalog.text, state FROM " STORE_SQL_HISTORY " "
    "WHERE origin OPERATOR(pg_catalog.=) " STORE_SQL_SCHEMA "._origin() AND xid OPERATOR(pg_catalog.=) "
    "pg_catalog.pg_current_xact_id_if_assigned() "
    "AND seq OPERATOR(pg_catalog.>) $1::pg_catalog.int8 AND item IS NOT NULL AND cache_key IS NOT NULL ORDER BY seq";
// Whether row-level security filters key $2's rows for reader $1.
constexpr char kApplyRlsActive[] =
    "SELECT " STORE_SQL_SCHEMA "._rls_active(k.source, $1::pg_catalog.oid) FROM " STORE_SQL_KEYS
    " k WHERE k.key OPERATOR(pg_catalog.=) $2";
// $1 = key, $2 = ids (jsonb array): the document of each id as text (NULL: none), in the array's
// order: what store_get answers a reader row-level security does not filter, for many ids at once.
constexpr char kApplyStoredDocuments[] =
    "SELECT e." STORE_SQL_ENTRIES_DOC "::pg_catalog.text FROM pg_catalog.jsonb_array_elements($2::pg_catalog.jsonb) "
    "WITH ORDINALITY AS i(id, n) LEFT JOIN " STORE_SQL_ENTRIES " AS e ON e." STORE_SQL_ENTRIES_KEY
    " OPERATOR(pg_catalog.=) $1 AND e." STORE_SQL_ENTRIES_ID " OPERATOR(pg_catalog.=) i.id ORDER BY i.n";
// Whether reader $1 may read key $2 (store_get would not refuse it).
constexpr char kApplyMayRead[] =
    "SELECT " STORE_SQL_MAY_READ "(k, $1::pg_catalog.oid, false) FROM " STORE_SQL_KEYS " k "
    "WHERE k.key OPERATOR(pg_catalog.=) $2";

} // namespace store::pg::sql
