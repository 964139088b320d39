-- store 0.1.0: a materialized JSONB store of registered tables, kept current by triggers in the
-- writing transaction, with a version history and a NOTIFY per committed change.
\echo Use "CREATE EXTENSION store" to load this file. \quit

-- Internal objects live in schema "store", created here so nobody else can own it.
-- The user-facing functions (store_register, store_snapshot, ...) go to the extension's schema.
CREATE SCHEMA store;
COMMENT ON SCHEMA store IS 'internal tables and helpers of the store extension';

-- This store's identity (its "origin", see README): a hash of the cluster, its timeline, the
-- database and the history table. Stamped on history rows, so rows restored from another store
-- (a dump, a promotion, a point-in-time recovery) are never mistaken for this store's.
CREATE FUNCTION store._origin() RETURNS int4
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_origin';

-- One row per store key: which table it serializes, which columns (NULL: all), and the type of
-- its single-column primary key (how store_get reads an id given as text).
-- column_numbers follows the chosen columns through renames; shape is the signature of the
-- document (column names and types, primary key) that DDL handling compares.
CREATE TABLE store.keys (
    key text PRIMARY KEY,
    source regclass NOT NULL,
    columns text[],
    column_numbers int2[],
    id_type regtype NOT NULL,
    shape text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE store.keys IS 'registered store keys: key -> source table, chosen columns, primary-key type';

-- The materialized documents: one jsonb per row of each registered table.
-- id is the primary key value as jsonb, so ORDER BY id follows the key's order.
CREATE TABLE store.entries (
    key text NOT NULL,
    id jsonb NOT NULL,
    doc jsonb NOT NULL,
    PRIMARY KEY (key, id)
);
COMMENT ON TABLE store.entries IS 'store documents, kept current by the store_<key> triggers';

-- The change log. xid is the writing top-level transaction: a version (cursor) is an MVCC
-- snapshot, and the changes after it are exactly this store's rows whose xid it does not see.
-- seq orders the rows of one answer; cursors never use it.
CREATE SEQUENCE store.history_seq;
CREATE TABLE store.history (
    seq bigint NOT NULL DEFAULT pg_catalog.nextval('store.history_seq'),
    origin int4 NOT NULL DEFAULT store._origin(),
    xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    cache_key text,
    item jsonb,
    state text NOT NULL, -- C, U, D or F; only the store writes it (no CHECK: it cost 17% of every write)
    added_on timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE store.history_seq OWNED BY store.history.seq;
CREATE INDEX history_xid_idx ON store.history (origin, xid);
COMMENT ON TABLE store.history IS
    'store change log: C create, U update (item NULL: whole key), D delete (item NULL: key removed), F full reload';

-- Retention state: per origin, the newest transaction whose history store_compact() removed.
CREATE TABLE store.meta (
    origin int4 NOT NULL,
    compacted_xid xid8 NOT NULL
);

-- The compaction state a version is read against: this store's horizon, and whether any history
-- at all was ever removed (then the "0" version must reload).
CREATE FUNCTION store._horizon(OUT compacted_xid xid8, OUT ever_compacted bool)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(max(m.compacted_xid) FILTER (WHERE m.origin = store._origin()), '0'),
           coalesce(bool_or(m.compacted_xid > '0'), false)
      FROM store.meta AS m
$$;

-- pg_dump keeps registrations, documents, history and retention state.
SELECT pg_catalog.pg_extension_config_dump('store.keys', '');
SELECT pg_catalog.pg_extension_config_dump('store.entries', '');
SELECT pg_catalog.pg_extension_config_dump('store.history', '');
SELECT pg_catalog.pg_extension_config_dump('store.history_seq', '');
SELECT pg_catalog.pg_extension_config_dump('store.meta', '');

-- Only the extension owner writes these tables (the triggers switch to that role to write).
REVOKE ALL ON store.keys, store.entries, store.history, store.history_seq, store.meta FROM PUBLIC;

---------------------------------------------------------------------------------------------
-- C internals
---------------------------------------------------------------------------------------------

-- The capture trigger. Not executable by PUBLIC: nobody else may attach it to a table.
CREATE FUNCTION store.capture() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'store_capture';
COMMENT ON FUNCTION store.capture() IS 'store trigger: keeps store.entries and store.history current';
REVOKE ALL ON FUNCTION store.capture() FROM PUBLIC;

CREATE FUNCTION store._check_key(key text) RETURNS void
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_check_key';

-- Reads a client's version against the current snapshot: the history rows after it are this
-- store's (origin) rows with xid >= xmax or xid in xip, or every row for the "0" version
-- (from_start); too_old: compaction may have removed changes it lacks; ahead: it sees commits
-- this snapshot does not yet (answer nothing); current: the version to answer with.
CREATE FUNCTION store._read_cursor(after text, compacted_xid xid8, ever_compacted bool,
                                   OUT origin int4, OUT xmax xid8, OUT xip xid8[], OUT from_start bool,
                                   OUT too_old bool, OUT ahead bool, OUT current text)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_read_cursor';

-- The version of the current snapshot (what the calling statement sees).
CREATE FUNCTION store._current_cursor() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_current_cursor';

-- The entry id (jsonb) of a primary-key value given as text, read with the key type's input.
CREATE FUNCTION store._item_id(id_type regtype, id text) RETURNS jsonb
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_item_id';

-- True when row-level security filters source for reader (policies apply to it).
CREATE FUNCTION store._rls_active(source regclass, reader oid) RETURNS bool
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_rls_active';

-- Marks the transaction as having changed key (NULL: changed the store) for its NOTIFY.
CREATE FUNCTION store._note_change(key text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_note_change';
REVOKE ALL ON FUNCTION store._note_change(text) FROM PUBLIC;

---------------------------------------------------------------------------------------------
-- SQL internals
---------------------------------------------------------------------------------------------

-- The registration of key; a clear error when it is not registered.
CREATE FUNCTION store._require_key(key text) RETURNS store.keys
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys;
BEGIN
    IF key IS NULL THEN
        RAISE EXCEPTION 'store key must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO registration FROM store.keys AS k WHERE k.key = _require_key.key;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'store key "%" is not registered', key
            USING ERRCODE = 'undefined_object',
                  HINT = 'Registered keys are listed in store.keys; register a table with store_register().';
    END IF;
    RETURN registration;
END
$$;

-- True when reader may read key: the table exists with the shape it was registered with (else
-- its documents may hold columns that no longer exist: fail closed), reader has USAGE on its
-- schema and SELECT on every column the documents expose (the chosen columns, or all of them,
-- and the primary key), on the table or column by column. In bulk reads (the whole store, the
-- history) a key under row-level security also needs a table owner reader trusts (itself, a role
-- it belongs to, or the store's owner): its policies run as reader, who did not name the table.
CREATE FUNCTION store._may_read(registration store.keys, reader oid, bulk bool) RETURNS bool
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM pg_class AS c
                    WHERE c.oid = ($1).source AND has_schema_privilege($2, c.relnamespace, 'USAGE')
                      AND (NOT $3 OR NOT store._rls_active(c.oid, $2) OR pg_has_role($2, c.relowner, 'USAGE')
                           OR c.relowner = (SELECT h.relowner FROM pg_class AS h WHERE h.oid = 'store.history'::regclass)))
       AND store._shape(($1).source, ($1).column_numbers) = ($1).shape
       AND NOT EXISTS (
        SELECT FROM pg_attribute AS a
         WHERE a.attrelid = ($1).source AND a.attnum > 0 AND NOT a.attisdropped
           AND (($1).column_numbers IS NULL OR a.attnum = ANY (($1).column_numbers)
                OR a.attnum = (SELECT i.indkey[0] FROM pg_index AS i WHERE i.indrelid = ($1).source AND i.indisprimary))
           AND NOT has_column_privilege($2, ($1).source, a.attnum, 'SELECT'))
$$;

-- The registration of key, if reader may read it; errors otherwise (unknown key, no privilege).
CREATE FUNCTION store._require_readable(key text, reader oid) RETURNS store.keys
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
BEGIN
    IF NOT store._may_read(registration, reader, false) THEN
        RAISE EXCEPTION 'permission denied for store key "%"', key
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Reading a key needs SELECT on its table, or on each of its stored columns.';
    END IF;
    RETURN registration;
END
$$;

-- The single primary-key column of source; errors for anything but an ordinary table with a
-- single-column, non-deferrable primary key, and for the store's own tables.
CREATE FUNCTION store._primary_key_column(source regclass) RETURNS name
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rel record;
    pk record;
BEGIN
    SELECT c.relkind, c.relnamespace INTO rel FROM pg_catalog.pg_class AS c WHERE c.oid = source;
    IF rel.relkind IS DISTINCT FROM 'r' THEN
        RAISE EXCEPTION '"%" is not a table', source
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Only ordinary tables can be registered; views, materialized views, partitioned and foreign tables cannot.';
    END IF;
    IF rel.relnamespace = 'store'::regnamespace THEN
        RAISE EXCEPTION 'the store''s own table "%" cannot be registered', source
            USING ERRCODE = 'wrong_object_type';
    END IF;
    SELECT i.indkey, i.indnkeyatts, i.indimmediate INTO pk
      FROM pg_catalog.pg_index AS i WHERE i.indrelid = source AND i.indisprimary;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" has no primary key', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'The store identifies documents by a single-column primary key; add one first.';
    END IF;
    IF pk.indnkeyatts <> 1 THEN
        RAISE EXCEPTION 'table "%" has a composite primary key', source
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'The store identifies documents by a single-column primary key.';
    END IF;
    IF NOT pk.indimmediate THEN
        RAISE EXCEPTION 'the primary key of table "%" is deferrable', source
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'The store needs a primary key that is checked immediately.';
    END IF;
    RETURN (SELECT a.attname FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = source AND a.attnum = pk.indkey[0]);
END
$$;

-- Checks a chosen column list: non-empty, no NULLs or duplicates, every column present.
CREATE FUNCTION store._check_columns(source regclass, columns text[]) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col text;
BEGIN
    IF columns IS NULL THEN
        RETURN;
    END IF;
    IF pg_catalog.cardinality(columns) = 0 OR pg_catalog.array_position(columns, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'columns must be NULL (all columns) or a non-empty list of column names'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (SELECT pg_catalog.count(DISTINCT c) FROM pg_catalog.unnest(columns) AS c) <> pg_catalog.cardinality(columns) THEN
        RAISE EXCEPTION 'columns lists a column twice: %', columns
            USING ERRCODE = 'duplicate_column';
    END IF;
    FOREACH col IN ARRAY columns LOOP
        PERFORM FROM pg_catalog.pg_attribute AS a
          WHERE a.attrelid = source AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of table "%" does not exist', col, source
                USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
END
$$;

-- A query over the registered table giving (id jsonb, doc jsonb) for every row: to_jsonb over
-- the chosen columns, which renders exactly what the capture trigger renders.
CREATE FUNCTION store._source_query(registration store.keys) RETURNS text
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
        'SELECT pg_catalog.to_jsonb(t.%I) AS id, pg_catalog.to_jsonb(d.*) AS doc '
        'FROM ONLY %s AS t CROSS JOIN LATERAL (SELECT %s) AS d',
        store._primary_key_column(registration.source), registration.source, chosen);
END
$$;

-- Rebuilds the documents of key from its table in one statement. The SHARE lock waits for
-- writers in flight and keeps new ones out until commit, so no concurrent change is lost.
CREATE FUNCTION store._rebuild(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
BEGIN
    EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE MODE', registration.source);
    DELETE FROM store.entries AS e WHERE e.key = registration.key;
    INSERT INTO store.entries (key, id, doc)
    SELECT registration.key, s.id, s.doc FROM store._source_rows(registration.key) AS s;
END
$$;
REVOKE ALL ON FUNCTION store._rebuild(text) FROM PUBLIC;

-- Every row of key's table as (id, doc), computed AS THE TABLE'S OWNER (a security-restricted
-- operation, RLS not forced): the table's types, casts and domains are its owner's code, which
-- must never run as the store's owner or an administrator who reloads the key.
CREATE FUNCTION store._source_rows(key text, OUT id jsonb, OUT doc jsonb) RETURNS SETOF record
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_source_rows';
REVOKE ALL ON FUNCTION store._source_rows(text) FROM PUBLIC;

-- The attribute numbers of the chosen column names (NULL: all columns).
CREATE FUNCTION store._column_numbers(source regclass, columns text[]) RETURNS int2[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN $2 IS NULL THEN NULL ELSE
        (SELECT array_agg(a.attnum ORDER BY u.o)
           FROM unnest($2) WITH ORDINALITY AS u(c, o)
           JOIN pg_attribute AS a ON a.attrelid = $1 AND a.attname = u.c)
    END
$$;

-- The document's signature: the chosen columns' names and types, then the primary key. DDL that
-- leaves it unchanged leaves every document unchanged.
CREATE FUNCTION store._shape(source regclass, column_numbers int2[]) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                               ORDER BY coalesce(array_position($2, a.attnum), a.attnum)), '')
           || ' | primary key ' || quote_ident(store._primary_key_column($1))
      FROM pg_attribute AS a
     WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
       AND ($2 IS NULL OR a.attnum = ANY ($2))
$$;

-- Brings a registration up to date after DDL on its table, in the same transaction: follows
-- renamed columns, refuses the DDL when a chosen column or the primary key is gone, and rebuilds
-- the documents (logging U with item_id NULL) when their shape changed.
CREATE FUNCTION store._refresh(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
    names text[];
    new_shape text;
BEGIN
    IF registration.column_numbers IS NOT NULL THEN
        SELECT array_agg(a.attname::text ORDER BY u.o) INTO names
          FROM unnest(registration.column_numbers) WITH ORDINALITY AS u(n, o)
          JOIN pg_attribute AS a ON a.attrelid = registration.source AND a.attnum = u.n AND NOT a.attisdropped;
        IF coalesce(cardinality(names), 0) <> cardinality(registration.column_numbers) THEN
            RAISE EXCEPTION 'a column chosen for store key "%" would be dropped from table "%"', key, registration.source
                USING ERRCODE = 'dependent_objects_still_exist',
                      HINT = format('Unregister the key first, or register it again without the column: '
                                    'SELECT store_unregister(%L);', key);
        END IF;
    END IF;
    new_shape := store._shape(registration.source, registration.column_numbers);
    IF new_shape = registration.shape THEN
        RETURN;
    END IF;
    UPDATE store.keys AS k
       SET columns = names, shape = new_shape,
           id_type = (SELECT a.atttypid::regtype FROM pg_attribute AS a
                       WHERE a.attrelid = registration.source
                         AND a.attname = store._primary_key_column(registration.source))
     WHERE k.key = registration.key;
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;
REVOKE ALL ON FUNCTION store._refresh(text) FROM PUBLIC;

-- Forgets a key: its documents, its registration and its item-level history (which would outlive
-- the privileges that guarded it; only whole-key rows stay), and logs D with item_id NULL.
CREATE FUNCTION store._forget(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM store.entries AS e WHERE e.key = _forget.key;
    DELETE FROM store.keys AS k WHERE k.key = _forget.key;
    DELETE FROM store.history AS h WHERE h.cache_key = _forget.key AND h.item IS NOT NULL;
    PERFORM store._log(key, 'D', ARRAY[key]);
END
$$;
REVOKE ALL ON FUNCTION store._forget(text) FROM PUBLIC;

-- DDL handling, ALTER TABLE: refresh every key whose table was altered (renames included).
CREATE FUNCTION store._on_alter_table() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
BEGIN
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_ddl_commands() AS c
               JOIN store.keys AS r ON r.source = c.objid
              WHERE c.classid = 'pg_class'::regclass ORDER BY r.key LOOP
        PERFORM store._refresh(k);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._on_alter_table() FROM PUBLIC;

-- DDL handling, DROP (any command, any cascade): a dropped table's keys are unregistered
-- (documents and item history removed, D logged); a dropped column refreshes its table's keys
-- (refused, like ALTER TABLE, when a chosen column goes).
CREATE FUNCTION store._on_drop() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
BEGIN
    IF to_regclass('store.keys') IS NULL THEN
        RETURN; -- the extension itself is being dropped
    END IF;
    FOR k IN SELECT r.key FROM pg_event_trigger_dropped_objects() AS d
               JOIN store.keys AS r ON r.source = d.objid
              WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 ORDER BY r.key LOOP
        PERFORM store._forget(k);
    END LOOP;
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_dropped_objects() AS d
               JOIN store.keys AS r ON r.source = d.objid
              WHERE d.classid = 'pg_class'::regclass AND d.objsubid <> 0 ORDER BY r.key LOOP
        PERFORM store._refresh(k);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._on_drop() FROM PUBLIC;

CREATE EVENT TRIGGER store_alter_table ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION store._on_alter_table();
CREATE EVENT TRIGGER store_drop ON sql_drop EXECUTE FUNCTION store._on_drop();

-- Appends one whole-key or whole-store history row (item NULL) and marks the transaction for
-- its NOTIFY with every key it concerns.
CREATE FUNCTION store._log(cache_key text, state text, keys text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
BEGIN
    INSERT INTO store.history (cache_key, item, state) VALUES (_log.cache_key, NULL, _log.state);
    PERFORM store._note_change(NULL);
    FOREACH k IN ARRAY keys LOOP
        PERFORM store._note_change(k);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._log(text, text, text[]) FROM PUBLIC;

-- The documents of key as a JSON array text, in primary-key order. The ordered subquery is
-- not flattened, so the aggregate reads it in index order without sorting again.
-- (jit = off on the reading functions: their plans look costly, and JIT compilation took
-- ~0.5 s per call while saving nothing on jsonb output.)
CREATE FUNCTION store._key_array(key text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
    SELECT '[' || coalesce(string_agg(s.doc::text, ','), '') || ']'
      FROM (SELECT e.doc FROM store.entries AS e WHERE e.key = $1 ORDER BY e.id) AS s
$$;

-- For the keys reader may read (or just key) whose tables row-level security filters for it: a
-- query that, run as reader, gives {"<key>": [visible ids], ...}; NULL when there is none.
CREATE FUNCTION store._visibility_query(reader oid, key text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'SELECT pg_catalog.jsonb_build_object('
           || string_agg(format('%L, (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t.%I)), ''[]''::pg_catalog.jsonb) FROM ONLY %s AS t)',
                                k.key, store._primary_key_column(k.source), k.source), ', ' ORDER BY k.key)
           || ')'
      FROM store.keys AS k
     WHERE ($2 IS NULL OR k.key = $2) AND store._may_read(k, $1, $2 IS NULL) AND store._rls_active(k.source, $1)
    HAVING count(*) > 0
$$;

-- The documents of key among ids (a jsonb array; NULL: all), as a JSON array text.
CREATE FUNCTION store._key_array(key text, ids jsonb) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
    SELECT CASE WHEN $2 IS NULL THEN store._key_array($1) ELSE
        (SELECT '[' || coalesce(string_agg(s.doc::text, ','), '') || ']'
           FROM (SELECT e.doc FROM store.entries AS e
                  WHERE e.key = $1 AND e.id IN (SELECT jsonb_array_elements($2)) ORDER BY e.id) AS s)
    END
$$;

-- The snapshot as JSON text: every key reader may read (or one), with only the rows it may see
-- where row-level security applies (visible: see _visibility_query), then the version of the
-- snapshot it was read in.
CREATE FUNCTION store._snapshot_text(key text, reader oid, visible jsonb) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
    SELECT '{'
        || coalesce((SELECT string_agg(to_json(k.key)::text || ':' || store._key_array(k.key, $3 -> k.key), ','
                                       ORDER BY k.key)
                       FROM store.keys AS k
                      WHERE ($1 IS NULL OR k.key = $1) AND store._may_read(k, $2, $1 IS NULL)) || ',', '')
        || '"version":' || to_json(store._current_cursor())::text
        || '}'
$$;

-- The snapshot as a stream of text chunks, in order: concatenated they are exactly the snapshot's
-- JSON text. Index order, no sort and no aggregate, so no row holds more than one document.
CREATE FUNCTION store._snapshot_rows(key text, reader oid, visible jsonb) RETURNS SETOF text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
    SET max_parallel_workers_per_gather = 0
AS $$
    SELECT '{'
    UNION ALL
    SELECT x.chunk
      FROM (SELECT k.key, row_number() OVER (ORDER BY k.key) AS n FROM store.keys AS k
             WHERE ($1 IS NULL OR k.key = $1) AND store._may_read(k, $2, $1 IS NULL)) AS k
     CROSS JOIN LATERAL (
        SELECT CASE WHEN k.n > 1 THEN ',' ELSE '' END || to_json(k.key)::text || ':['
        UNION ALL
        SELECT CASE WHEN d.n > 1 THEN ',' ELSE '' END || d.doc::text
          FROM (SELECT e.doc, row_number() OVER () AS n
                  FROM (SELECT e.doc FROM store.entries AS e
                         WHERE e.key = k.key
                           AND (NOT coalesce($3 ? k.key, false) OR e.id IN (SELECT jsonb_array_elements($3 -> k.key)))
                         ORDER BY e.id) AS e) AS d
        UNION ALL
        SELECT ']') AS x(chunk)
    UNION ALL
    SELECT CASE WHEN EXISTS (SELECT FROM store.keys AS k WHERE ($1 IS NULL OR k.key = $1) AND store._may_read(k, $2, $1 IS NULL))
                THEN ',' ELSE '' END
           || '"version":' || to_json(store._current_cursor())::text || '}'
$$;
REVOKE ALL ON FUNCTION store._snapshot_rows(text, oid, jsonb) FROM PUBLIC;

-- The history rows after a cursor (see store._read_cursor): this store's rows of transactions at
-- or after its xmax, or in its in-progress list; every row for the "0" version. EXECUTE plans
-- with the actual values, so both parts are index scans on (origin, xid): the cost is
-- O(log n + changes) however old the cursor's xmin is.
CREATE FUNCTION store._history_after(origin int4, xmax xid8, xip xid8[], from_start bool)
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

-- The history rows after a cursor that reader may see: rows of keys it may read, rows of keys
-- no longer registered (they only say the key is gone), and full reloads.
CREATE FUNCTION store._history_for(origin int4, xmax xid8, xip xid8[], from_start bool, reader oid)
    RETURNS SETOF store.history
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
    SELECT h.* FROM store._history_after($1, $2, $3, $4) AS h
     WHERE h.cache_key IS NULL
        OR (h.item IS NULL AND NOT EXISTS (SELECT FROM store.keys AS k WHERE k.key = h.cache_key))
        OR EXISTS (SELECT FROM store.keys AS k WHERE k.key = h.cache_key AND store._may_read(k, $5, true))
$$;

-- The delta after a cursor as JSON text (see store_changes).
CREATE FUNCTION store._changes_text(after text, reader oid, visible jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
DECLARE
    c record;
    changes jsonb;
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
                    THEN jsonb_build_object('replaced', true, 'deleted', '[]'::jsonb,
                             'upserted', coalesce((SELECT jsonb_agg(e.doc ORDER BY e.id) FROM store.entries AS e
                                                    WHERE e.key = w.key
                                                      AND (NOT coalesce(visible ? w.key, false)
                                                           OR e.id IN (SELECT jsonb_array_elements(visible -> w.key)))),
                                                   '[]'::jsonb))
                    ELSE jsonb_build_object('replaced', true, 'removed', true,
                                            'upserted', '[]'::jsonb, 'deleted', '[]'::jsonb)
               END AS change
          FROM whole AS w
        UNION ALL
        SELECT i.key,
               jsonb_build_object(
                   'upserted', coalesce(jsonb_agg(i.doc ORDER BY i.id) FILTER (WHERE i.doc IS NOT NULL), '[]'::jsonb),
                   'deleted', coalesce(jsonb_agg(i.id ORDER BY i.id) FILTER (WHERE i.doc IS NULL), '[]'::jsonb))
          FROM items AS i
         GROUP BY i.key
    )
    SELECT coalesce(jsonb_object_agg(p.key, p.change), '{}'::jsonb) INTO changes FROM per_key AS p;
    RETURN '{"version":' || to_json(c.current)::text || ',"reload":false,"changes":' || changes::text || '}';
END
$$;

-- One document as JSON text, NULL when absent (see store_get).
CREATE FUNCTION store._get_text(key text, id jsonb, reader oid, visible jsonb) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.doc::text
      FROM store._require_readable($1, $3) AS k
      JOIN store.entries AS e ON e.key = k.key AND e.id = $2
     WHERE NOT coalesce($4 ? k.key, false) OR e.id IN (SELECT jsonb_array_elements($4 -> k.key))
$$;

-- The history rows after a version that reader may see (see store_history).
CREATE FUNCTION store._history_rows(after text, reader oid, visible jsonb)
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

-- The readers' internals take the reader as an argument: only the store's C entry points, which
-- pass the real caller, may run them.
REVOKE ALL ON FUNCTION store._snapshot_text(text, oid, jsonb), store._changes_text(text, oid, jsonb),
    store._get_text(text, jsonb, oid, jsonb), store._history_rows(text, oid, jsonb),
    store._history_for(int4, xid8, xid8[], bool, oid), store._visibility_query(oid, text),
    store._history_after(int4, xid8, xid8[], bool), store._require_readable(text, oid) FROM PUBLIC;

---------------------------------------------------------------------------------------------
-- The public SQL surface
---------------------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.store_register(key text, source regclass, columns text[] DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id_column name;
BEGIN
    PERFORM store._check_key(key);
    IF source IS NULL THEN
        RAISE EXCEPTION 'source table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    id_column := store._primary_key_column(source);
    IF NOT pg_has_role(current_user, (SELECT c.relowner FROM pg_class AS c WHERE c.oid = source), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table % to register it', source
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM store._check_columns(source, columns);
    PERFORM FROM store.keys AS k WHERE k.key = store_register.key;
    IF FOUND THEN
        RAISE EXCEPTION 'store key "%" is already registered', key
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another key, or store_unregister() it first.';
    END IF;
    INSERT INTO store.keys (key, source, columns, column_numbers, id_type, shape)
    SELECT key, source, columns, store._column_numbers(source, columns), a.atttypid::regtype,
           store._shape(source, store._column_numbers(source, columns))
      FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = source AND a.attname = id_column;
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION store.capture(%L)',
        'store_' || key, source, key);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION store.capture(%L)',
        'store_' || key || '_truncate', source, key);
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;
COMMENT ON FUNCTION @extschema@.store_register(text, regclass, text[]) IS
    'adds a table to the store under key (columns: which to serialize, NULL for all) and builds its documents';

CREATE FUNCTION @extschema@.store_unregister(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = registration.source) THEN
        EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', 'store_' || key, registration.source);
        EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', 'store_' || key || '_truncate', registration.source);
    END IF;
    PERFORM store._forget(registration.key);
END
$$;
COMMENT ON FUNCTION @extschema@.store_unregister(text) IS
    'removes a key from the store: its triggers and documents; logs D with item_id NULL';

CREATE FUNCTION @extschema@.store_reload() RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    all_keys text[];
    k text;
BEGIN
    SELECT coalesce(array_agg(r.key ORDER BY r.key), '{}') INTO all_keys FROM store.keys AS r;
    FOREACH k IN ARRAY all_keys LOOP
        PERFORM store._rebuild(k);
    END LOOP;
    PERFORM store._log(NULL, 'F', all_keys);
END
$$;
COMMENT ON FUNCTION @extschema@.store_reload() IS
    'rebuilds every key from its table; logs one F entry';

CREATE FUNCTION @extschema@.store_reload(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;
COMMENT ON FUNCTION @extschema@.store_reload(text) IS
    'rebuilds one key from its table; logs U with item_id NULL';

CREATE FUNCTION @extschema@.store_snapshot() RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_snapshot';
COMMENT ON FUNCTION @extschema@.store_snapshot() IS
    'the whole store: {"<key>": [doc, ...], ..., "version": V}, read in one snapshot; V is its version';

CREATE FUNCTION @extschema@.store_snapshot(key text) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_snapshot_key';
COMMENT ON FUNCTION @extschema@.store_snapshot(text) IS
    'one key: {"<key>": [doc, ...], "version": V}';

CREATE FUNCTION @extschema@.store_version() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_current_cursor';
COMMENT ON FUNCTION @extschema@.store_version() IS
    'the version of the current snapshot, without data: follow the history from now on';

CREATE FUNCTION @extschema@.store_snapshot_rows(key text DEFAULT NULL) RETURNS SETOF text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_snapshot_rows';
COMMENT ON FUNCTION @extschema@.store_snapshot_rows(text) IS
    'the snapshot (of every key, or one) as text chunks that concatenate to store_snapshot(): for stores too large for one value';

CREATE FUNCTION @extschema@.store_get(key text, id text) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_get';
COMMENT ON FUNCTION @extschema@.store_get(text, text) IS
    'one document by its primary key (as text), or NULL when absent';

CREATE FUNCTION @extschema@.store_history(after text)
    RETURNS TABLE (version text, cache_key text, item_id text, state text, added_on timestamptz)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_history';
COMMENT ON FUNCTION @extschema@.store_history(text) IS
    'every change after version "after", in write order; every row carries the version to ask with next';

CREATE FUNCTION @extschema@.store_changes(after text) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_changes';
COMMENT ON FUNCTION @extschema@.store_changes(text) IS
    'the delta after version "after" in one call: {"version", "reload", "changes": {"<key>": {"upserted", "deleted"}}}';

CREATE FUNCTION @extschema@.store_compact(keep interval) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
    gone record;
BEGIN
    IF keep IS NULL OR keep < interval '0' THEN
        RAISE EXCEPTION 'keep must be a non-negative interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    removed := 0;
    -- per origin, delete and remember the newest transaction removed
    FOR gone IN
        WITH d AS (DELETE FROM store.history AS h WHERE h.added_on < now() - keep RETURNING h.origin, h.xid)
        SELECT d.origin, max(d.xid) AS newest, count(*) AS n FROM d GROUP BY d.origin
    LOOP
        UPDATE store.meta AS m SET compacted_xid = greatest(m.compacted_xid, gone.newest) WHERE m.origin = gone.origin;
        IF NOT FOUND THEN
            INSERT INTO store.meta (origin, compacted_xid) VALUES (gone.origin, gone.newest);
        END IF;
        removed := removed + gone.n;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION @extschema@.store_compact(interval) IS
    'drops history older than keep; clients behind it are told to reload; returns the rows removed';

CREATE FUNCTION @extschema@.store_verify(key text DEFAULT NULL)
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
            '       e.doc, s.doc '
            '  FROM store._source_rows($1) AS s '
            '  FULL JOIN (SELECT x.id, x.doc FROM store.entries AS x WHERE x.key = $1) AS e ON e.id = s.id '
            ' WHERE s.doc::text IS DISTINCT FROM e.doc::text '
            ' ORDER BY 2'
        USING registration.key;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.store_verify(text) IS
    'the documents that differ from what their table serializes to now (missing, extra, different); store_reload repairs them';

REVOKE ALL ON FUNCTION @extschema@.store_register(text, regclass, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_unregister(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_reload() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_reload(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_compact(interval) FROM PUBLIC;
