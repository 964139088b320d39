-- store 0.1.0: a materialized JSONB store of registered tables, kept current by triggers in the
-- writing transaction, with a version history and a NOTIFY per committed change.
\echo Use "CREATE EXTENSION store" to load this file. \quit

-- Internal objects live in schema "store", created here so nobody else can own it.
-- The user-facing functions (store_register, store_snapshot, ...) go to the extension's schema.
CREATE SCHEMA store;
COMMENT ON SCHEMA store IS 'internal tables and helpers of the store extension';

-- One row per store key: which table it serializes and which columns (NULL: all).
CREATE TABLE store.keys (
    key text PRIMARY KEY,
    source regclass NOT NULL,
    columns text[],
    registered_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE store.keys IS 'registered store keys: key -> source table and chosen columns';

-- The materialized documents: one jsonb per row of each registered table.
-- id is the primary key value as jsonb, so ORDER BY id follows the key's order.
CREATE TABLE store.entries (
    key text NOT NULL,
    id jsonb NOT NULL,
    doc jsonb NOT NULL,
    PRIMARY KEY (key, id)
);
COMMENT ON TABLE store.entries IS 'store documents, kept current by the store_<key> triggers';

-- Versions are exact JavaScript numbers.
CREATE SEQUENCE store.version_seq MAXVALUE 9007199254740991;

-- The change log. xid is the writing transaction, kept for commit-order-aware cursors.
CREATE TABLE store.history (
    version bigint PRIMARY KEY DEFAULT pg_catalog.nextval('store.version_seq'),
    xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    cache_key text,
    item_id text,
    state text NOT NULL CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['C', 'U', 'D', 'F'])),
    added_on timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE store.version_seq OWNED BY store.history.version;
COMMENT ON TABLE store.history IS 'store change log: C create, U update (item_id NULL: whole key), D delete, F full reload';

-- pg_dump keeps registrations, documents and history.
SELECT pg_catalog.pg_extension_config_dump('store.keys', '');
SELECT pg_catalog.pg_extension_config_dump('store.entries', '');
SELECT pg_catalog.pg_extension_config_dump('store.history', '');
SELECT pg_catalog.pg_extension_config_dump('store.version_seq', '');

-- Only the extension owner writes these tables (the triggers switch to that role to write).
REVOKE ALL ON store.keys, store.entries, store.history, store.version_seq FROM PUBLIC;

---------------------------------------------------------------------------------------------
-- C internals
---------------------------------------------------------------------------------------------

CREATE FUNCTION store.capture() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'store_capture';
COMMENT ON FUNCTION store.capture() IS 'store trigger: keeps store.entries and store.history current';

CREATE FUNCTION store._check_key(key text) RETURNS void
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_check_key';

CREATE FUNCTION store._parse_version(after text) RETURNS bigint
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_parse_version';

CREATE FUNCTION store._item_id(source regclass, id text) RETURNS jsonb
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_item_id';

-- Types text that the store assembled from jsonb output as json, without parsing it again.
CREATE FUNCTION store._json_unchecked(assembled text) RETURNS json
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_json_unchecked';

CREATE FUNCTION store._note_change(key text, version bigint) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_note_change';
REVOKE ALL ON FUNCTION store._note_change(text, bigint) FROM PUBLIC;

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

-- The single primary-key column of source; errors for views, keyless and composite keys.
CREATE FUNCTION store._primary_key_column(source regclass) RETURNS name
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind "char";
    key_columns int2vector;
BEGIN
    SELECT c.relkind INTO kind FROM pg_catalog.pg_class AS c WHERE c.oid = source;
    IF kind IS DISTINCT FROM 'r' THEN
        RAISE EXCEPTION '"%" is not a table', source
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Only ordinary tables can be registered; views, materialized views, partitioned and foreign tables cannot.';
    END IF;
    SELECT i.indkey INTO key_columns
      FROM pg_catalog.pg_index AS i WHERE i.indrelid = source AND i.indisprimary;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" has no primary key', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'The store identifies documents by a single-column primary key; add one first.';
    END IF;
    IF pg_catalog.array_length(key_columns::int2[], 1) <> 1 THEN
        RAISE EXCEPTION 'table "%" has a composite primary key', source
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'The store identifies documents by a single-column primary key.';
    END IF;
    RETURN (SELECT a.attname FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = source AND a.attnum = key_columns[0]);
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

-- Rebuilds the documents of key from its table in one statement. The SHARE lock waits for
-- writers in flight and keeps new ones out until commit, so no concurrent change is lost.
CREATE FUNCTION store._rebuild(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
    id_column name;
    chosen text;
BEGIN
    EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE MODE', registration.source);
    id_column := store._primary_key_column(registration.source);
    IF registration.columns IS NULL THEN
        chosen := 't.*';
    ELSE
        SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ' ORDER BY o) INTO chosen
          FROM pg_catalog.unnest(registration.columns) WITH ORDINALITY AS u(c, o);
    END IF;
    DELETE FROM store.entries AS e WHERE e.key = registration.key;
    -- to_jsonb over the same columns renders exactly what the capture trigger renders.
    EXECUTE pg_catalog.format(
        'INSERT INTO store.entries (key, id, doc) '
        'SELECT $1, pg_catalog.to_jsonb(t.%I), pg_catalog.to_jsonb(d.*) '
        'FROM ONLY %s AS t CROSS JOIN LATERAL (SELECT %s) AS d',
        id_column, registration.source, chosen)
    USING registration.key;
END
$$;
REVOKE ALL ON FUNCTION store._rebuild(text) FROM PUBLIC;

-- Appends one history row and marks the transaction for its NOTIFY; returns the version.
CREATE FUNCTION store._log(cache_key text, item_id text, state text, keys text[]) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_version bigint;
    k text;
BEGIN
    INSERT INTO store.history (cache_key, item_id, state)
    VALUES (_log.cache_key, _log.item_id, _log.state)
    RETURNING version INTO new_version;
    FOREACH k IN ARRAY keys LOOP
        PERFORM store._note_change(k, new_version);
    END LOOP;
    IF pg_catalog.cardinality(keys) = 0 THEN
        PERFORM store._note_change(NULL, new_version);
    END IF;
    RETURN new_version;
END
$$;
REVOKE ALL ON FUNCTION store._log(text, text, text, text[]) FROM PUBLIC;

-- The documents of key as a JSON array text, in primary-key order. The ordered subquery is
-- not flattened, so the aggregate reads it in index order without sorting again.
CREATE FUNCTION store._key_array(key text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '[' || coalesce(string_agg(s.doc::text, ','), '') || ']'
      FROM (SELECT e.doc FROM store.entries AS e WHERE e.key = $1 ORDER BY e.id) AS s
$$;

-- The newest version in the history, 0 when there is none.
CREATE FUNCTION store._current_version() RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(max(h.version), 0) FROM store.history AS h
$$;

---------------------------------------------------------------------------------------------
-- The public SQL surface
---------------------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.store_register(key text, source regclass, columns text[] DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM store._check_key(key);
    IF source IS NULL THEN
        RAISE EXCEPTION 'source table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM store._primary_key_column(source);
    PERFORM store._check_columns(source, columns);
    PERFORM FROM store.keys AS k WHERE k.key = store_register.key;
    IF FOUND THEN
        RAISE EXCEPTION 'store key "%" is already registered', key
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another key, or store_unregister() it first.';
    END IF;
    INSERT INTO store.keys (key, source, columns) VALUES (key, source, columns);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION store.capture(%L)',
        'store_' || key, source, key);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION store.capture(%L)',
        'store_' || key || '_truncate', source, key);
    PERFORM store._rebuild(key);
    PERFORM store._log(key, NULL, 'U', ARRAY[key]);
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
    DELETE FROM store.entries AS e WHERE e.key = registration.key;
    DELETE FROM store.keys AS k WHERE k.key = registration.key;
    PERFORM store._log(key, NULL, 'D', ARRAY[key]);
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
    PERFORM store._log(NULL, NULL, 'F', all_keys);
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
    PERFORM store._log(key, NULL, 'U', ARRAY[key]);
END
$$;
COMMENT ON FUNCTION @extschema@.store_reload(text) IS
    'rebuilds one key from its table; logs U with item_id NULL';

CREATE FUNCTION @extschema@.store_snapshot() RETURNS json
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT store._json_unchecked('{'
            || coalesce((SELECT string_agg(to_json(k.key)::text || ':' || store._key_array(k.key), ',' ORDER BY k.key)
                           FROM store.keys AS k) || ',', '')
            || '"version":' || store._current_version()
            || '}')
$$;
COMMENT ON FUNCTION @extschema@.store_snapshot() IS
    'the whole store: {"<key>": [doc, ...], ..., "version": V}, read in one snapshot';

CREATE FUNCTION @extschema@.store_snapshot(key text) RETURNS json
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT store._json_unchecked('{' || to_json((store._require_key($1)).key)::text || ':' || store._key_array($1)
            || ',"version":' || store._current_version() || '}')
$$;
COMMENT ON FUNCTION @extschema@.store_snapshot(text) IS
    'one key: {"<key>": [doc, ...], "version": V}';

CREATE FUNCTION @extschema@.store_get(key text, id text) RETURNS json
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.doc::json
      FROM store.entries AS e
     WHERE e.key = (store._require_key($1)).key
       AND e.id = store._item_id((store._require_key($1)).source, $2)
$$;
COMMENT ON FUNCTION @extschema@.store_get(text, text) IS
    'one document by its primary key (as text), or NULL when absent';

CREATE FUNCTION @extschema@.store_history(after text)
    RETURNS TABLE (version bigint, cache_key text, item_id text, state text, added_on timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.version, h.cache_key, h.item_id, h.state, h.added_on
      FROM store.history AS h
     WHERE h.version > store._parse_version($1)
     ORDER BY h.version
$$;
COMMENT ON FUNCTION @extschema@.store_history(text) IS
    'every change after version "after" (a value from a snapshot or history row), in version order';

REVOKE ALL ON FUNCTION @extschema@.store_register(text, regclass, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_unregister(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_reload() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_reload(text) FROM PUBLIC;
