
-----------------------------------------------------------------------------------------------
-- The feed: the history after a version (store_history) and the delta after it, in pages
-- (store_changes).
-----------------------------------------------------------------------------------------------

-- The history rows after a cursor (see store._read_cursor): this store's rows of transactions at
-- or after its xmax, or in its in-progress list; every row for the "0" version. EXECUTE plans
-- with the actual values, so both parts are index scans on (origin, xid): the cost is
-- O(log n + changes) however old the cursor's xmin is.
CREATE OR REPLACE FUNCTION store._history_after(origin int4, xmax xid8, xip xid8[], from_start bool)
    RETURNS SETOF store.history
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
BEGIN
    IF from_start THEN
        RETURN QUERY SELECT h.* FROM store.history AS h;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'SELECT h.* FROM store.history AS h WHERE h.origin = $1 AND h.xid >= $2 '
        'UNION ALL '
        'SELECT h.* FROM store.history AS h WHERE h.origin = $1 AND h.xid = ANY ($3) AND h.xid < $2'
    USING origin, xmax, xip;
END
$$;
REVOKE ALL ON FUNCTION store._history_after(int4, xid8, xid8[], bool) FROM PUBLIC;

-- The history rows after a cursor that reader may see: rows of keys it may read, rows of keys
-- no longer registered (they only say the key is gone), and full reloads. Each key's privileges
-- are checked once, not once per history row.
CREATE OR REPLACE FUNCTION store._history_for(origin int4, xmax xid8, xip xid8[], from_start bool, reader oid)
    RETURNS SETOF store.history
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
    WITH readable AS MATERIALIZED (
        SELECT k.key FROM store.keys AS k WHERE store._may_read(k, $5, true)
    )
    SELECT h.* FROM store._history_after($1, $2, $3, $4) AS h
     WHERE h.cache_key IS NULL
        OR (h.item IS NULL AND NOT EXISTS (SELECT FROM store.keys AS k WHERE k.key = h.cache_key))
        OR h.cache_key IN (SELECT r.key FROM readable AS r)
$$;
REVOKE ALL ON FUNCTION store._history_for(int4, xid8, xid8[], bool, oid) FROM PUBLIC;

-- The history rows after a version that reader may see (see store_history).
CREATE OR REPLACE FUNCTION store._history_rows(after text, reader oid, visible jsonb)
    RETURNS TABLE (version text, cache_key text, item_id text, state text, added_on timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
DECLARE
    c record;
BEGIN
    SELECT r.* INTO c FROM store._horizon() AS z, store._read_cursor(after, z.compacted_xid, z.ever_compacted) AS r;
    IF c.too_old THEN
        -- Compaction removed changes this cursor lacks: one F row says "reload everything".
        RETURN QUERY SELECT c.current, NULL::text, NULL::text, 'F'::text, now();
        RETURN;
    END IF;
    IF c.ahead THEN
        -- The cursor sees commits this snapshot does not yet: nothing new for it here.
        RETURN;
    END IF;
    RETURN QUERY
        WITH h AS (SELECT * FROM store._history_for(c.origin, c.xmax, c.xip, c.from_start, reader))
        SELECT c.current, r.cache_key, r.item_id, r.state, r.added_on FROM (
            SELECT h.seq, h.cache_key, h.item #>> '{}' AS item_id, h.state, h.added_on FROM h
             WHERE h.item IS NULL OR NOT coalesce(visible ? h.cache_key, false)
            UNION ALL
            -- under row-level security, item rows become one "reload this key" row
            SELECT min(h.seq), h.cache_key, NULL, 'U', max(h.added_on) FROM h
             WHERE h.item IS NOT NULL AND visible ? h.cache_key GROUP BY h.cache_key
        ) AS r
         ORDER BY r.seq;
END
$$;
REVOKE ALL ON FUNCTION store._history_rows(text, oid, jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.store_history(after text)
    RETURNS TABLE (version text, cache_key text, item_id text, state text, added_on timestamptz)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_history';
COMMENT ON FUNCTION @extschema@.store_history(text) IS
    'every change after version "after", in write order; every row carries the version to ask with next';

-- The feed in bounded memory. store_changes answers in pages of about max_changes history rows
-- (10000 by default), cut at transaction boundaries in transaction-id order: a page delivers every
-- change of the transactions below its end, and answers with the version that sees exactly what
-- the client's version saw plus those transactions (see PageCursor in src/core/cursor.hpp), and
-- with "more": true while changes remain. store_history streams its rows (C, no new SQL here).

-- The version a page ending at page_end (exclusive; NULL: the last page) answers with.
CREATE OR REPLACE FUNCTION store._page_version(after text, page_end xid8) RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_page_version';
REVOKE ALL ON FUNCTION store._page_version(text, xid8) FROM PUBLIC;

-- The keys whose history rows reader may see: the ones it may read, and (for rows saying a key
-- is gone) every registered key, which such rows must not name.
CREATE OR REPLACE FUNCTION store._history_keys(reader oid, OUT readable text[], OUT registered text[])
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(k.key) FILTER (WHERE store._may_read(k, $1, true)), '{}'),
           coalesce(array_agg(k.key), '{}')
      FROM store.keys AS k
$$;
REVOKE ALL ON FUNCTION store._history_keys(oid) FROM PUBLIC;

-- The history rows after a cursor that a reader may see (as store._history_for), in three parts
-- that follow one another in page-key order, each row with its page key: 1, the rows restored
-- from another store (only the "0" version reads them, and they all come on its first page: page
-- key 0); 2, this store's rows of the transactions running in the cursor (xid = ANY (xip)); 3, its
-- rows of transactions at or after the cursor's xmax; in parts 2 and 3 the page key is the xid,
-- and each is a range scan of the (origin, xid) index. Parameters: $1 origin, $2 xmax, $3 xip,
-- $4 from_start (see store._read_cursor), $5 readable and $6 registered keys (see
-- store._history_keys), $7 and $8 the page keys to stay above and below (exclusive; NULL: none).
CREATE OR REPLACE FUNCTION store._history_part(part int4) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE $1
               WHEN 1 THEN 'SELECT ''0''::pg_catalog.xid8 AS pk, h.* FROM store.history AS h'
                           ' WHERE $4 AND $7 IS NULL AND ($8 IS NULL OR ''0''::pg_catalog.xid8 < $8)'
                           ' AND (h.origin < $1 OR h.origin > $1) AND '
               WHEN 2 THEN 'SELECT h.xid AS pk, h.* FROM store.history AS h'
                           ' WHERE h.origin = $1 AND h.xid = ANY ($3) AND h.xid < $2 AND ' || f.bounds || ' AND '
               ELSE 'SELECT h.xid AS pk, h.* FROM store.history AS h'
                    ' WHERE h.origin = $1 AND h.xid >= $2 AND ' || f.bounds || ' AND '
           END || f.visible
      FROM (SELECT '($7 IS NULL OR h.xid > $7) AND ($8 IS NULL OR h.xid < $8)' AS bounds,
                   '(h.cache_key IS NULL OR h.cache_key = ANY ($5)'
                   ' OR (h.item IS NULL AND h.cache_key <> ALL ($6)))' AS visible) AS f
$$;
REVOKE ALL ON FUNCTION store._history_part(int4) FROM PUBLIC;

-- Where the page of changes after a cursor ends: NULL when all of them fit in max_rows history
-- rows; otherwise the first transaction (in id order) that does not fit, so that a page holds
-- whole transactions. A first transaction larger than max_rows is delivered whole, alone (as are
-- the rows of other stores on the first page from "0"). more: changes remain after the page.
-- Reads the page keys of the first max_rows + 1 rows, part after part, each in index order under
-- a LIMIT: O(log n + max_rows), however long the history.
CREATE OR REPLACE FUNCTION store._page_end(origin int4, xmax xid8, xip xid8[], from_start bool,
                                readable text[], registered text[], max_rows int4,
                                OUT page_end xid8, OUT more bool)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
DECLARE
    rows_read bigint := 0;
    first_key xid8;
    last_key xid8;
    part_rows bigint;
    part_first xid8;
    part_last xid8;
BEGIN
    FOR part IN 1 .. 3 LOOP
        EXIT WHEN rows_read > max_rows;
        EXECUTE 'SELECT count(*), min(p.pk), max(p.pk) FROM (' || store._history_part(part) || ' ORDER BY 1 LIMIT $9) AS p'
           INTO part_rows, part_first, part_last
          USING origin, xmax, xip, from_start, readable, registered, NULL::xid8, NULL::xid8, max_rows::int8 + 1 - rows_read;
        IF part_rows > 0 THEN
            rows_read := rows_read + part_rows;
            first_key := coalesce(first_key, part_first);
            last_key := part_last;
        END IF;
    END LOOP;
    IF rows_read <= max_rows THEN
        page_end := NULL;
        more := false;
        RETURN;
    END IF;
    IF last_key > first_key THEN
        -- the page ends at the transaction the limit cut through: the ones before it fill the page
        page_end := last_key;
        more := true;
        RETURN;
    END IF;
    -- one transaction (or the rows of other stores) fills the page: it goes whole, up to the next
    FOR part IN 2 .. 3 LOOP
        EXECUTE 'SELECT min(p.pk) FROM (' || store._history_part(part) || ' ORDER BY 1 LIMIT 1) AS p'
           INTO page_end
          USING origin, xmax, xip, from_start, readable, registered, last_key, NULL::xid8;
        EXIT WHEN page_end IS NOT NULL;
    END LOOP;
    more := page_end IS NOT NULL;
END
$$;
REVOKE ALL ON FUNCTION store._page_end(int4, xid8, xid8[], bool, text[], text[], int4) FROM PUBLIC;

-- The history rows of a page: after the cursor, that reader may see, below page_end (NULL: all).
CREATE OR REPLACE FUNCTION store._history_page(origin int4, xmax xid8, xip xid8[], from_start bool,
                                    readable text[], registered text[], page_end xid8)
    RETURNS SETOF store.history
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT p.seq, p.origin, p.xid, p.cache_key, p.item, p.state, p.added_on FROM ('
        || store._history_part(1) || ' UNION ALL ' || store._history_part(2) || ' UNION ALL ' || store._history_part(3)
        || ') AS p'
    USING origin, xmax, xip, from_start, readable, registered, NULL::xid8, page_end;
END
$$;
REVOKE ALL ON FUNCTION store._history_page(int4, xid8, xid8[], bool, text[], text[], xid8) FROM PUBLIC;

-- One page of the delta after a cursor as JSON text (see store_changes): at most about
-- max_changes history rows' worth, "more": true when the client must call again at once.
CREATE OR REPLACE FUNCTION store._changes_page_text(after text, max_changes int4, reader oid, visible jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
DECLARE
    c record;
    seen record;
    page record;
    version text;
    changes text;
BEGIN
    IF max_changes IS NULL OR max_changes < 1 THEN
        RAISE EXCEPTION 'max_changes must be a positive number of history rows, not %', coalesce(max_changes::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT r.* INTO c FROM store._horizon() AS z, store._read_cursor(after, z.compacted_xid, z.ever_compacted) AS r;
    IF c.too_old THEN
        RETURN '{"version":' || to_json(c.current)::text || ',"reload":true}';
    END IF;
    IF c.ahead THEN
        RETURN '{"version":' || to_json(c.current)::text || ',"reload":false,"changes":{}}';
    END IF;
    SELECT * INTO seen FROM store._history_keys(reader);
    SELECT * INTO page
      FROM store._page_end(c.origin, c.xmax, c.xip, c.from_start, seen.readable, seen.registered, max_changes);
    version := store._page_version(after, page.page_end);
    WITH h AS (
        SELECT * FROM store._history_page(c.origin, c.xmax, c.xip, c.from_start, seen.readable, seen.registered,
                                          page.page_end)
    ), everything AS (
        -- an F row: every key comes back whole
        SELECT EXISTS (SELECT FROM h WHERE h.state = 'F') AS reloaded
    ), whole AS (
        -- keys registered, reloaded, truncated or unregistered in the page (or all, after F)
        SELECT DISTINCT h.cache_key AS key FROM h WHERE h.item IS NULL AND h.cache_key IS NOT NULL
        UNION
        SELECT k.key FROM store.keys AS k, everything WHERE everything.reloaded AND store._may_read(k, reader, true)
        UNION
        -- under row-level security a changed key comes back whole: item ids would tell too much
        SELECT DISTINCT h.cache_key FROM h WHERE visible ? h.cache_key
    ), items AS MATERIALIZED (
        -- each changed item once, with its current document (an index lookup each; NULL: gone;
        -- materialized, or the lookup would run once per use of doc below)
        SELECT t.key, t.id,
               (SELECT e.doc FROM store.entries AS e WHERE e.key = t.key AND e.id = t.id) AS doc
          FROM (SELECT DISTINCT h.cache_key AS key, h.item AS id FROM h
                 WHERE h.item IS NOT NULL AND h.cache_key NOT IN (SELECT w.key FROM whole AS w)) AS t
    ), per_key AS (
        SELECT w.key,
               CASE WHEN EXISTS (SELECT FROM store.keys AS k WHERE k.key = w.key)
                    THEN '{"replaced":true,"upserted":'
                         || CASE WHEN visible ? w.key THEN store._key_array(w.key, visible -> w.key)
                                 ELSE store._key_documents(w.key) END
                         || ',"deleted":[]}'
                    ELSE '{"replaced":true,"removed":true,"upserted":[],"deleted":[]}'
               END AS change
          FROM whole AS w
        UNION ALL
        SELECT i.key,
               '{"upserted":[' || coalesce(string_agg(i.doc::text, ',' ORDER BY i.id) FILTER (WHERE i.doc IS NOT NULL), '')
               || '],"deleted":[' || coalesce(string_agg(i.id::text, ',' ORDER BY i.id) FILTER (WHERE i.doc IS NULL), '')
               || ']}'
          FROM items AS i
         GROUP BY i.key
    )
    SELECT '{' || coalesce(string_agg(to_json(p.key)::text || ':' || p.change, ',' ORDER BY p.key), '') || '}'
      INTO changes FROM per_key AS p;
    RETURN '{"version":' || to_json(version)::text || ',"reload":false,'
        || CASE WHEN page.more THEN '"more":true,' ELSE '' END || '"changes":' || changes || '}';
END
$$;
REVOKE ALL ON FUNCTION store._changes_page_text(text, int4, oid, jsonb) FROM PUBLIC;

-- The one-argument store_changes (its C entry calls this) answers one page of the default size.
CREATE OR REPLACE FUNCTION store._changes_text(after text, reader oid, visible jsonb) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT store._changes_page_text($1, 10000, $2, $3)
$$;
REVOKE ALL ON FUNCTION store._changes_text(text, oid, jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.store_changes(after text) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_changes';
COMMENT ON FUNCTION @extschema@.store_changes(text) IS
    'the delta after version "after", in pages of about 10000 history rows: {"version", "reload", "more", "changes": {"<key>": {"upserted", "deleted"}}}; call again while "more" is true';

CREATE OR REPLACE FUNCTION @extschema@.store_changes(after text, max_changes integer) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_changes_page';
COMMENT ON FUNCTION @extschema@.store_changes(text, integer) IS
    'one page of the delta after version "after": about max_changes history rows (store_changes(after): 10000); call again with its version while it says "more": true';
