// The one place the C++ glue names the store's SQL internals (schema store): the functions, tables
// and columns it uses, and the statements built from them. Renaming one of them in sql/ is a change
// here plus a compile.
//
// Where each group is defined (the 0.3.0 update is built from the fragments sql/0.3.0/NN-*.sql;
// objects older SQL already has come from the released scripts, which older installs still run):
// - tables store.keys, store.entries, store.history: sql/store--0.1.0.sql; the column
//   store.keys.filter_node: sql/0.3.0/35-filter.sql (absent before the update: StoreHasFilters).
// - administration, run as the store owner by admin.cpp: store._register, store._unregister,
//   store._reload in sql/0.3.0/40-triggers.sql; store._compact in sql/0.3.0/70-admin.sql.
// - reading rights: store._may_read, store._require_readable in sql/0.3.0/40-triggers.sql (first
//   in sql/store--0.1.0.sql); store._visibility_query in sql/0.3.0/20-tables.sql (first in
//   sql/store--0.1.0.sql).
// - documents: store._source_query in sql/0.3.0/20-tables.sql; store._get_text in
//   sql/store--0.1.0.sql.
// - the feed: store._changes_text, store._changes_page_text in sql/0.3.0/30-feed.sql;
//   store._history_rows in sql/store--0.1.0.sql.
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

// Columns of store.keys.
#define STORE_SQL_KEYS_KEY "key"
#define STORE_SQL_KEYS_SOURCE "source"
#define STORE_SQL_KEYS_COLUMN_NUMBERS "column_numbers"
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
#define STORE_SQL_REQUIRE_READABLE STORE_SQL_SCHEMA "._require_readable"
#define STORE_SQL_VISIBILITY_QUERY STORE_SQL_SCHEMA "._visibility_query"

// Documents.
#define STORE_SQL_SOURCE_QUERY STORE_SQL_SCHEMA "._source_query"
#define STORE_SQL_GET_TEXT STORE_SQL_SCHEMA "._get_text"

// The feed.
#define STORE_SQL_CHANGES_TEXT STORE_SQL_SCHEMA "._changes_text"
#define STORE_SQL_CHANGES_PAGE_TEXT STORE_SQL_SCHEMA "._changes_page_text"
#define STORE_SQL_HISTORY_ROWS STORE_SQL_SCHEMA "._history_rows"

namespace store::pg::sql {

// Catalog lookups by name (unqualified: the schema is looked up on its own).
constexpr char kSchema[] = STORE_SQL_SCHEMA;
constexpr char kKeysTable[] = STORE_SQL_KEYS_TABLE;
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

// $1 = key, $2 = reader: the key's source oid; errors unless reader may read the key.
constexpr char kReadableSource[] =
    "SELECT k." STORE_SQL_KEYS_SOURCE "::pg_catalog.oid FROM " STORE_SQL_REQUIRE_READABLE "($1, $2) AS k";

// $1 = key, $2 = reader: errors unless reader may read the key.
constexpr char kRequireReadable[] = "SELECT " STORE_SQL_REQUIRE_READABLE "($1, $2)";

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

// $1 = key, $2 = id, $3 = reader, $4 = visible ids: the document as text (NULL: none visible).
constexpr char kGetText[] = "SELECT " STORE_SQL_GET_TEXT "($1, $2, $3, $4)";

// $1 = key: the ids of its documents, in id order (the order of ORDER BY over jsonb).
constexpr char kKeyEntryIds[] =
    "SELECT e." STORE_SQL_ENTRIES_ID " FROM " STORE_SQL_ENTRIES " AS e WHERE e." STORE_SQL_ENTRIES_KEY
    " OPERATOR(pg_catalog.=) $1 ORDER BY e." STORE_SQL_ENTRIES_ID;

// $1 = after, $2 = reader, $3 = visible ids: the delta after a version, as JSON text.
constexpr char kChangesText[] = "SELECT " STORE_SQL_CHANGES_TEXT "($1, $2, $3)";

// $1 = after, $2 = max_changes, $3 = reader, $4 = visible ids: one page of the delta, as JSON text.
constexpr char kChangesPageText[] = "SELECT " STORE_SQL_CHANGES_PAGE_TEXT "($1, $2, $3, $4)";

// $1 = after, $2 = reader, $3 = visible ids: the history rows after a version reader may see.
constexpr char kHistoryRows[] = "SELECT * FROM " STORE_SQL_HISTORY_ROWS "($1, $2, $3)";

} // namespace store::pg::sql
