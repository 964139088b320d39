-- store 0.1.0 -> 0.2.0: documents are stored as JSON text, rendered once by the capture trigger
-- (PostgreSQL's to_json: keys in column order, no whitespace) instead of JSONB that every read
-- had to render again. Snapshots are assembled in C from that text; deltas are assembled as text.
-- Existing documents are rebuilt from their tables and one F history row tells clients to reload.
\echo Use "ALTER EXTENSION store UPDATE TO '0.2.0'" to load this file. \quit

ALTER TABLE store.entries ALTER COLUMN doc TYPE json USING doc::json;
COMMENT ON TABLE store.entries IS 'store documents (JSON text), kept current by the store_<key> triggers';

-- Entries are found by (key, id) on every write and read in id order by every snapshot. jsonb's
-- own btree comparison walks both values with iterators; store.id_ops orders ids exactly as
-- jsonb does (same operators) but compares single numbers and strings directly, and the key is
-- compared bytewise (text_pattern_ops). A unique index cannot be the primary key with these
-- operator classes, so it is the replica identity instead.
CREATE FUNCTION store._id_cmp(jsonb, jsonb) RETURNS int4
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_id_cmp';
CREATE OPERATOR CLASS store.id_ops FOR TYPE jsonb USING btree AS
    OPERATOR 1 pg_catalog.< (jsonb, jsonb),
    OPERATOR 2 pg_catalog.<= (jsonb, jsonb),
    OPERATOR 3 pg_catalog.= (jsonb, jsonb),
    OPERATOR 4 pg_catalog.>= (jsonb, jsonb),
    OPERATOR 5 pg_catalog.> (jsonb, jsonb),
    FUNCTION 1 store._id_cmp(jsonb, jsonb);
ALTER TABLE store.entries DROP CONSTRAINT entries_pkey;
CREATE UNIQUE INDEX entries_key ON store.entries (key pg_catalog.text_pattern_ops, id store.id_ops);
ALTER TABLE store.entries REPLICA IDENTITY USING INDEX entries_key;

-- A query over the registered table giving (id jsonb, doc json) for every row: to_json over the
-- chosen columns, which renders exactly what the capture trigger renders.
CREATE OR REPLACE FUNCTION store._source_query(registration store.keys) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chosen text := 't.*';
BEGIN
    IF registration.columns IS NOT NULL THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ' ORDER BY o) INTO chosen
          FROM pg_catalog.unnest(registration.columns) WITH ORDINALITY AS u(c, o);
    END IF;
    RETURN pg_catalog.format(
        'SELECT pg_catalog.to_jsonb(t.%I) AS id, pg_catalog.to_json(d.*) AS doc '
        'FROM ONLY %s AS t CROSS JOIN LATERAL (SELECT %s) AS d',
        store._primary_key_column(registration.source), registration.source, chosen);
END
$$;

-- Every row of key's table as (id, doc), computed AS THE TABLE'S OWNER (see 0.1.0).
DROP FUNCTION store._source_rows(text);
CREATE FUNCTION store._source_rows(key text, OUT id jsonb, OUT doc json) RETURNS SETOF record
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_source_rows';
REVOKE ALL ON FUNCTION store._source_rows(text) FROM PUBLIC;

-- Snapshots (store_snapshot, store_snapshot(key), store_snapshot_rows) are assembled in C now.
DROP FUNCTION store._snapshot_text(text, oid, jsonb);
DROP FUNCTION store._snapshot_rows(text, oid, jsonb);
DROP FUNCTION store._key_array(text, jsonb);
DROP FUNCTION store._key_array(text);

-- The documents of key among ids (a jsonb array), as a JSON array text, in primary-key order.
CREATE FUNCTION store._key_array(key text, ids jsonb) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
    SELECT '[' || coalesce(string_agg(s.doc::text, ','), '') || ']'
      FROM (SELECT e.doc FROM store.entries AS e
             WHERE e.key = $1 AND e.id IN (SELECT jsonb_array_elements($2)) ORDER BY e.id) AS s
$$;
REVOKE ALL ON FUNCTION store._key_array(text, jsonb) FROM PUBLIC;

-- The documents of key as a JSON array text, in id order (an index scan in C). Reads the store
-- without privilege checks: only the store's own readers, which check them, may call it.
CREATE FUNCTION store._key_documents(key text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_key_documents';
REVOKE ALL ON FUNCTION store._key_documents(text) FROM PUBLIC;

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

-- The delta after a cursor as JSON text (see store_changes): documents are copied as stored.
CREATE OR REPLACE FUNCTION store._changes_text(after text, reader oid, visible jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
DECLARE
    c record;
    changes text;
BEGIN
    SELECT r.* INTO c FROM store._horizon() AS z, store._read_cursor(after, z.compacted_xid, z.ever_compacted) AS r;
    IF c.too_old THEN
        RETURN '{"version":' || to_json(c.current)::text || ',"reload":true}';
    END IF;
    IF c.ahead THEN
        RETURN '{"version":' || to_json(c.current)::text || ',"reload":false,"changes":{}}';
    END IF;
    WITH h AS (
        SELECT * FROM store._history_for(c.origin, c.xmax, c.xip, c.from_start, reader)
    ), everything AS (
        -- an F row: every key comes back whole
        SELECT EXISTS (SELECT FROM h WHERE h.state = 'F') AS reloaded
    ), whole AS (
        -- keys registered, reloaded, truncated or unregistered after the cursor (or all, after F)
        SELECT DISTINCT h.cache_key AS key FROM h WHERE h.item IS NULL AND h.cache_key IS NOT NULL
        UNION
        SELECT k.key FROM store.keys AS k, everything WHERE everything.reloaded AND store._may_read(k, reader, true)
        UNION
        -- under row-level security a changed key comes back whole: item ids would tell too much
        SELECT DISTINCT h.cache_key FROM h WHERE visible ? h.cache_key
    ), items AS (
        -- each changed item once, with its current document (an index lookup each; NULL: gone)
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
    RETURN '{"version":' || to_json(c.current)::text || ',"reload":false,"changes":' || changes || '}';
END
$$;

-- Verification compares the stored text with the text the table renders to now.
CREATE OR REPLACE FUNCTION @extschema@.store_verify(key text DEFAULT NULL)
    RETURNS TABLE (cache_key text, item_id text, problem text, stored jsonb, expected jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
DECLARE
    registration store.keys;
BEGIN
    IF store_verify.key IS NOT NULL THEN
        PERFORM store._require_key(store_verify.key);
    END IF;
    FOR registration IN SELECT * FROM store.keys AS k
                         WHERE store_verify.key IS NULL OR k.key = store_verify.key ORDER BY k.key LOOP
        RETURN QUERY EXECUTE
            'SELECT $1, coalesce(s.id, e.id) #>> ''{}'', '
            '       CASE WHEN e.id IS NULL THEN ''missing'' WHEN s.id IS NULL THEN ''extra'' ELSE ''different'' END, '
            '       e.doc::jsonb, s.doc::jsonb '
            '  FROM store._source_rows($1) AS s '
            '  FULL JOIN (SELECT x.id, x.doc FROM store.entries AS x WHERE x.key = $1) AS e ON e.id = s.id '
            ' WHERE s.doc::text IS DISTINCT FROM e.doc::text '
            ' ORDER BY 2'
        USING registration.key;
    END LOOP;
END
$$;

-- Documents written by 0.1.0 are JSONB renderings: rebuild them in the new form, and tell
-- clients (one F row) that every document may have changed its text.
DO $$
BEGIN
    IF EXISTS (SELECT FROM store.keys) THEN
        PERFORM @extschema@.store_reload();
    END IF;
END
$$;
