
---------------------------------------------------------------------------------------------
-- The read paths in C++: store_changes, store_history, store_get and store_snapshot(key) read
-- the version, the page, the history rows and the reading rights themselves, with plain SQL over
-- store.keys, store.entries, store.history and store.meta (src/pg/changes.cpp, history.cpp,
-- get.cpp, read_rights.cpp, feed.cpp; the statements in src/pg/sql_names.hpp). The SQL functions
-- they called are gone. (store._read_cursor's and store._key_documents' C entry points stay in
-- the library: the released scripts still create those functions. store._require_readable has no
-- caller either, but sql/0.3.0/40-triggers.sql, after this file, redefines it.)
---------------------------------------------------------------------------------------------

DROP FUNCTION store._changes_text(text, oid, jsonb);
DROP FUNCTION store._changes_page_text(text, int4, oid, jsonb);
DROP FUNCTION store._page_end(int4, xid8, xid8[], bool, text[], text[], int4);
DROP FUNCTION store._history_page(int4, xid8, xid8[], bool, text[], text[], xid8);
DROP FUNCTION store._history_part(int4);
DROP FUNCTION store._history_keys(oid);
DROP FUNCTION store._page_version(text, xid8);
DROP FUNCTION store._history_rows(text, oid, jsonb);
DROP FUNCTION store._history_for(int4, xid8, xid8[], bool, oid);
DROP FUNCTION store._history_after(int4, xid8, xid8[], bool);
DROP FUNCTION store._read_cursor(text, xid8, bool);
DROP FUNCTION store._horizon();
DROP FUNCTION store._get_text(text, jsonb, oid, jsonb);
DROP FUNCTION store._key_array(text, jsonb);
DROP FUNCTION store._key_documents(text);
