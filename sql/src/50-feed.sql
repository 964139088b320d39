
-----------------------------------------------------------------------------------------------
-- The feed: the history after a version (store_history) and the delta after it, in pages
-- (store_changes). Both are C (src/pg/history.cpp, changes.cpp, feed.cpp), reading the store's
-- tables with plain SQL.
-----------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.store_history(after text)
    RETURNS TABLE (version text, cache_key text, item_id text, state text, added_on timestamptz)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_history';
COMMENT ON FUNCTION @extschema@.store_history(text) IS
    'every change after version "after", in write order; every row carries the version to ask with next';

-- The feed in bounded memory. store_changes answers in pages of about max_changes history rows
-- (10000 by default), cut at transaction boundaries in transaction-id order: a page delivers every
-- change of the transactions below its end, and answers with the version that sees exactly what
-- the client's version saw plus those transactions (see PageCursor in src/core/cursor.hpp), and
-- with "more": true while changes remain. store_history streams its rows.

CREATE OR REPLACE FUNCTION @extschema@.store_changes(after text) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_changes';
COMMENT ON FUNCTION @extschema@.store_changes(text) IS
    'the delta after version "after", in pages of about 10000 history rows: {"version", "reload", "more", "changes": {"<key>": {"upserted", "deleted"}}}; call again while "more" is true';

CREATE OR REPLACE FUNCTION @extschema@.store_changes(after text, max_changes integer) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_changes_page';
COMMENT ON FUNCTION @extschema@.store_changes(text, integer) IS
    'one page of the delta after version "after": about max_changes history rows (store_changes(after): 10000); call again with its version while it says "more": true';
