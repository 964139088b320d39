
-----------------------------------------------------------------------------------------------
-- Administration: registering, unregistering, reloading, compacting and verifying. store_register,
-- store_unregister, both store_reload and store_compact are C entry points that check the
-- caller's rights, then run their internal function (store._register, ...) as the store owner:
-- a grantee needs no privilege on the schema store and administers only the tables it owns.
-----------------------------------------------------------------------------------------------

-- Forgets a key: its documents, its registration and its item-level history (which would outlive
-- the privileges that guarded it; only whole-key rows stay), and logs D with item_id NULL.
CREATE OR REPLACE FUNCTION store._forget(key text) RETURNS void
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

-- Brings key's entries level with its table in place, writing only the entries whose document
-- differs (inserted, updated, deleted: no history rows); the number written. READ COMMITTED only,
-- for a flat key, under store._rebuild's lock (src/pg/reload.cpp).
CREATE OR REPLACE FUNCTION store._reload_entries(key text) RETURNS bigint
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_reload_entries';
REVOKE ALL ON FUNCTION store._reload_entries(text) FROM PUBLIC;

-- Rebuilds the documents of key from its table. Under READ COMMITTED the documents of a flat key
-- that differ are written (store._reload_entries); otherwise every entry is deleted and inserted again. SHARE ROW EXCLUSIVE waits for writers in flight
-- and keeps new ones out until commit (no concurrent change is lost), and is self-exclusive: a
-- second reload of the table waits for the first to commit, and its DELETE (a new statement:
-- under READ COMMITTED a new snapshot) sees and removes the documents the first one wrote.
-- Under REPEATABLE READ or SERIALIZABLE, a reload whose snapshot predates the other's commit
-- fails with a serialization failure (40001) instead, as any write of rows changed since would.
CREATE OR REPLACE FUNCTION store._rebuild(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
BEGIN
    EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', registration.source);
    -- every rebuild writes the key's registration row, so a REPEATABLE READ or SERIALIZABLE reload
    -- whose snapshot predates another rebuild's commit fails with 40001 even when that one left
    -- every entry as it was
    UPDATE store.keys AS k SET source = k.source WHERE k.key = registration.key;
    -- (not a nested key: writers of its other tables are not held back by the lock, and a flush
    -- of theirs committing during the reload would be overwritten by a document rendered before it)
    IF registration.nested IS NULL
       AND pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.=) 'read committed' THEN
        PERFORM store._reload_entries(registration.key); -- (a new statement: a snapshot taken under the lock)
    ELSE -- (the transaction's snapshot: the DELETE fails with 40001 on entries changed since)
        DELETE FROM store.entries AS e WHERE e.key = registration.key;
        INSERT INTO store.entries (key, id, doc)
        SELECT registration.key, s.id, s.doc FROM store._source_rows(registration.key) AS s;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION store._rebuild(text) FROM PUBLIC;

-- Registration: refuses sources whose documents cannot be rendered canonically by trusted code
-- (store._check_source), installs the triggers ALWAYS and builds the documents; with a filter
-- (store._parse_filter), only the rows that match it are stored. Runs as the store owner for
-- store_register, which checks the caller (src/pg/admin.cpp).
CREATE OR REPLACE FUNCTION store._register(key text, source regclass, columns text[] DEFAULT NULL, filter text DEFAULT NULL,
                                           shape text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parsed record;
    nested_text text;
BEGIN
    PERFORM store._check_key(key);
    IF source IS NULL THEN
        RAISE EXCEPTION 'source table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM store._primary_key_columns(source);
    IF NOT pg_has_role(current_user, (SELECT c.relowner FROM pg_class AS c WHERE c.oid = source), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table % to register it', source
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF shape IS NOT NULL THEN -- a nested key: columns are the root columns its shape reads
        IF columns IS NOT NULL THEN
            RAISE EXCEPTION 'columns and shape cannot both be given'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A shape names the columns itself: store_register(key, source, shape => ''id,name,...'').';
        END IF;
        SELECT n.nested, n.columns INTO nested_text, columns FROM store._nested_registration(source, shape) AS n;
    END IF;
    PERFORM store._check_columns(source, columns);
    PERFORM store._check_source(source, store._column_numbers(source, columns));
    SELECT f.* INTO parsed FROM store._parse_filter(source, _register.filter) AS f;
    PERFORM FROM store.keys AS k WHERE k.key = _register.key;
    IF FOUND THEN
        RAISE EXCEPTION 'store key "%" is already registered', key
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another key, or store_unregister() it first.';
    END IF;
    INSERT INTO store.keys (key, source, columns, column_numbers, id_type, shape, filter, filter_node, nested)
    VALUES (key, source, columns, store._column_numbers(source, columns), store._id_type(source),
            store._shape(source, store._column_numbers(source, columns)), parsed.filter, parsed.filter_node,
            nested_text);
    PERFORM store._install_triggers(key, false);
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;
REVOKE ALL ON FUNCTION store._register(text, regclass, text[], text, text) FROM PUBLIC;

-- Unregistering forgets the key before it drops the triggers (the DDL guards let them go only
-- then), after taking the lock DROP TRIGGER takes: writers and reloads in flight commit first,
-- and forgetting then deletes what they wrote. Triggers renamed or added by hand for the key go
-- too. (Run as the store owner for store_unregister.)
CREATE OR REPLACE FUNCTION store._unregister(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
    t name;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = registration.source) THEN
        PERFORM store._forget(registration.key);
        RETURN;
    END IF;
    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', registration.source);
    PERFORM store._forget(registration.key);
    FOR t IN SELECT store._key_triggers(registration.source, registration.key) LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', t, registration.source);
    END LOOP;
    PERFORM store._drop_partition_triggers(registration.source, registration.key, true);
    PERFORM store._drop_nested_triggers(registration.source, registration.key);
END
$$;
REVOKE ALL ON FUNCTION store._unregister(text) FROM PUBLIC;

-- Reloads repair the triggers too (see _repair_triggers), then rebuild the documents. (Run as
-- the store owner for store_reload.)
CREATE OR REPLACE FUNCTION store._reload() RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    all_keys text[];
    k text;
BEGIN
    SELECT coalesce(array_agg(r.key ORDER BY r.key), '{}') INTO all_keys FROM store.keys AS r;
    FOREACH k IN ARRAY all_keys LOOP
        PERFORM store._repair_triggers(k);
        PERFORM store._rebuild(k);
    END LOOP;
    PERFORM store._log(NULL, 'F', all_keys);
END
$$;
REVOKE ALL ON FUNCTION store._reload() FROM PUBLIC;

CREATE OR REPLACE FUNCTION store._reload(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM store._repair_triggers(key);
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;
REVOKE ALL ON FUNCTION store._reload(text) FROM PUBLIC;

-- Compaction: deletes the history older than keep and records, per origin, the newest
-- transaction removed (clients behind it must reload). Run as the store owner for store_compact.
CREATE OR REPLACE FUNCTION store._compact(keep interval) RETURNS bigint
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
REVOKE ALL ON FUNCTION store._compact(interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.store_register(key text, source regclass, columns text[] DEFAULT NULL,
                                           filter text DEFAULT NULL, shape text DEFAULT NULL)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_register';
REVOKE ALL ON FUNCTION @extschema@.store_register(text, regclass, text[], text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.store_register(text, regclass, text[], text, text) IS
    'adds a table to the store under key (columns: which to serialize, NULL for all; filter: which rows, NULL for all; shape: nested documents, PostgREST select syntax) and builds its documents';

-- store_unregister(key), store_reload(key): the caller must own the key's table.
CREATE OR REPLACE FUNCTION @extschema@.store_unregister(key text)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_unregister';
REVOKE ALL ON FUNCTION @extschema@.store_unregister(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.store_unregister(text) IS
    'removes a key from the store: its triggers and documents; logs D with item_id NULL';

-- store_reload(): the caller must own every registered key's table.
CREATE OR REPLACE FUNCTION @extschema@.store_reload()
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_reload';
REVOKE ALL ON FUNCTION @extschema@.store_reload() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.store_reload() IS
    'rebuilds every key from its table; logs one F entry';

CREATE OR REPLACE FUNCTION @extschema@.store_reload(key text)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_reload';
REVOKE ALL ON FUNCTION @extschema@.store_reload(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.store_reload(text) IS
    'rebuilds one key from its table; logs U with item_id NULL';

-- store_compact: EXECUTE is the whole decision (it touches only the history).
CREATE OR REPLACE FUNCTION @extschema@.store_compact(keep interval)
    RETURNS bigint LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_compact';
REVOKE ALL ON FUNCTION @extschema@.store_compact(interval) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.store_compact(interval) IS
    'drops history older than keep; clients behind it are told to reload; returns the rows removed';

-- The documents that differ from what their tables render now (see README); and first, per key
-- whose triggers are not all working (or that has an extra capture trigger): one row with problem 'triggers', item_id NULL, stored = the triggers as they
-- are (store._trigger_state) and expected = as store_register installs them.
CREATE OR REPLACE FUNCTION @extschema@.store_verify(key text DEFAULT NULL)
    RETURNS TABLE (cache_key text, item_id text, problem text, stored jsonb, expected jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
DECLARE
    registration store.keys;
    state jsonb;
BEGIN
    IF store_verify.key IS NOT NULL THEN
        PERFORM store._require_key(store_verify.key);
    END IF;
    FOR registration IN SELECT * FROM store.keys AS k
                         WHERE store_verify.key IS NULL OR k.key = store_verify.key ORDER BY k.key LOOP
        state := store._trigger_state(registration.source, registration.key);
        IF EXISTS (SELECT FROM jsonb_each_text(state) AS s WHERE s.value NOT IN ('always', 'enabled')) THEN
            RETURN QUERY SELECT registration.key, NULL::text, 'triggers'::text, state,
                                store._installed_trigger_state(registration.key);
        END IF;
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
COMMENT ON FUNCTION @extschema@.store_verify(text) IS
    'the documents that differ from what their table serializes to now (missing, extra, different); store_reload repairs them';
