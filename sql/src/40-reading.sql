
-----------------------------------------------------------------------------------------------
-- Reading rights and documents: who may read a key (fail closed), what row-level security lets
-- them see, and the snapshot and single-document readers (C).
-----------------------------------------------------------------------------------------------

-- True when row-level security filters source for reader (policies apply to it).
CREATE OR REPLACE FUNCTION store._rls_active(source regclass, reader oid) RETURNS bool
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_rls_active';

-- The registration of key; a clear error when it is not registered.
CREATE OR REPLACE FUNCTION store._require_key(key text) RETURNS store.keys
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
-- its documents may hold columns that no longer exist: fail closed) and both of the key's
-- triggers work (documents that no longer follow their table are never served); reader has USAGE
-- on its schema and SELECT on every column the documents expose (the chosen columns, or all of
-- them, and the primary key), on the table or column by column. In bulk reads (the whole store,
-- the history) a key under row-level security also needs a table owner reader trusts (itself, a
-- role it belongs to, or the store's owner): its policies run as reader, who did not name the
-- table. Readers run it for every key they serve (C: src/pg/read_rights.cpp).
CREATE OR REPLACE FUNCTION store._may_read(registration store.keys, reader oid, bulk bool) RETURNS bool
    LANGUAGE c STABLE COST 100 AS 'MODULE_PATHNAME', 'store_may_read';

CREATE OR REPLACE FUNCTION store._visibility_query(reader oid, key text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'SELECT pg_catalog.jsonb_build_object('
           || string_agg(format('%L, (SELECT COALESCE(pg_catalog.jsonb_agg(%s), ''[]''::pg_catalog.jsonb) FROM %s AS t)',
                                k.key, store._id_expression(k.source), store._rows_of(k.source)), ', ' ORDER BY k.key)
           || ')'
      FROM store.keys AS k
     WHERE ($2 IS NULL OR k.key = $2) AND store._may_read(k, $1, $2 IS NULL) AND store._rls_active(k.source, $1)
    HAVING count(*) > 0
$$;
REVOKE ALL ON FUNCTION store._visibility_query(oid, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.store_snapshot() RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_snapshot';
COMMENT ON FUNCTION @extschema@.store_snapshot() IS
    'the whole store: {"<key>": [doc, ...], ..., "version": V}, read in one snapshot; V is its version';

CREATE OR REPLACE FUNCTION @extschema@.store_snapshot(key text) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_snapshot_key';
COMMENT ON FUNCTION @extschema@.store_snapshot(text) IS
    'one key: {"<key>": [doc, ...], "version": V}';

CREATE OR REPLACE FUNCTION @extschema@.store_snapshot_chunks(key text DEFAULT NULL) RETURNS SETOF text
    LANGUAGE c STABLE ROWS 100000 AS 'MODULE_PATHNAME', 'store_snapshot_chunks';
COMMENT ON FUNCTION @extschema@.store_snapshot_chunks(text) IS
    'the chunks of store_snapshot_rows(), one per call: what it runs';

-- A SQL function the planner inlines where it is called in FROM (no SET, not STRICT, not SECURITY
-- DEFINER: keep it so), so the chunks stream value per call instead of through a tuplestore.
CREATE OR REPLACE FUNCTION @extschema@.store_snapshot_rows(key text DEFAULT NULL) RETURNS SETOF text
    LANGUAGE sql STABLE ROWS 100000 AS $$ SELECT @extschema@.store_snapshot_chunks(key) $$;
COMMENT ON FUNCTION @extschema@.store_snapshot_rows(text) IS
    'the snapshot (of every key, or one) as text chunks that concatenate to store_snapshot(): for stores too large for one value';

CREATE OR REPLACE FUNCTION @extschema@.store_snapshot_tag() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_snapshot_tag';
COMMENT ON FUNCTION @extschema@.store_snapshot_tag() IS
    'what the documents of the caller''s store_snapshot() depend on, "<content mark>/<digest of the keys it may read>": equal tags, equal documents (the version may differ); it stays while no transaction writes to the store; NULL when row-level security filters a key for the caller';

CREATE OR REPLACE FUNCTION @extschema@.store_get(key text, id text) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_get';
COMMENT ON FUNCTION @extschema@.store_get(text, text) IS
    'one document by its primary key (as text), or NULL when absent';

CREATE OR REPLACE FUNCTION @extschema@.store_describe(key text DEFAULT NULL) RETURNS json
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_describe';
COMMENT ON FUNCTION @extschema@.store_describe(text) IS
    'the keys the caller may read (or one): {"<key>": {"nested": b, "id": {"columns": [...], "schema": S}, "schema": S}}, S the JSON Schema (2020-12) of an id and of a document';
