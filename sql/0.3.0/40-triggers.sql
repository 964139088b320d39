
---------------------------------------------------------------------------------------------
-- Triggers: a registered key's triggers cannot be stopped; a key whose triggers are stopped
-- anyway is never served; reloads of one key wait for each other
---------------------------------------------------------------------------------------------

-- The store's triggers of a key, as store_register installs them: store_<key> (AFTER INSERT OR
-- UPDATE OR DELETE, FOR EACH ROW: tgtype 29) and store_<key>_truncate (AFTER TRUNCATE, FOR EACH
-- STATEMENT: tgtype 32), both store.capture('<key>') without WHEN or column list, and ENABLE
-- ALWAYS, so they also fire where session_replication_role = replica (logical replication's
-- apply workers, restores and loads that set it).

-- Key's triggers on source, by name: "always" or "enabled" (they work), "disabled", "replica"
-- (ENABLE REPLICA: silent in ordinary sessions), "replaced" (the name runs something else, or
-- for other events, or with a WHEN or column list) or "missing"; and as "extra" any other
-- trigger on source running key's capture (a store trigger renamed, or one added by hand); for a
-- partitioned table also its partitions' triggers that are not as installed (see
-- store._partition_trigger_state). (store._may_read makes the same test in a single query of its
-- own: see there.)
CREATE FUNCTION store._trigger_state(source regclass, key text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_object_agg(n.name, coalesce(
               (SELECT CASE WHEN NOT (t.tgfoid = 'store.capture()'::regprocedure AND t.tgtype = n.type
                                      AND t.tgnargs = 1
                                      AND t.tgargs = convert_to($2, getdatabaseencoding()) || decode('00', 'hex')
                                      AND t.tgqual IS NULL AND t.tgattr = ''::int2vector AND t.tgconstraint = 0)
                                 THEN 'replaced'
                            WHEN t.tgenabled = 'A' THEN 'always'
                            WHEN t.tgenabled = 'O' THEN 'enabled'
                            WHEN t.tgenabled = 'R' THEN 'replica'
                            ELSE 'disabled' END
                  FROM pg_trigger AS t WHERE t.tgrelid = $1 AND t.tgname = n.name),
               'missing'))
           || coalesce((SELECT jsonb_object_agg(t.tgname, 'extra') FROM pg_trigger AS t
                         WHERE t.tgrelid = $1 AND t.tgfoid = 'store.capture()'::regprocedure
                           AND t.tgargs = convert_to($2, getdatabaseencoding()) || decode('00', 'hex')
                           AND t.tgname NOT IN (('store_' || $2)::name, ('store_' || $2 || '_truncate')::name)),
                       '{}')
           || store._partition_trigger_state($1, $2)
      FROM (VALUES (('store_' || $2)::name, 29), (('store_' || $2 || '_truncate')::name, 32)) AS n(name, type)
$$;

-- The state of key's triggers right after store_register or store_reload.
CREATE FUNCTION store._installed_trigger_state(key text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('store_' || $1, 'always', 'store_' || $1 || '_truncate', 'always')
$$;

-- The names of the triggers on source that are key's: its two names, and any other trigger
-- running key's capture (renamed, or added by hand). What unregistering or repairing drops.
CREATE FUNCTION store._key_triggers(source regclass, key text) RETURNS SETOF name
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.tgname FROM pg_trigger AS t
     WHERE t.tgrelid = $1 AND NOT t.tgisinternal
       AND (t.tgname IN (('store_' || $2)::name, ('store_' || $2 || '_truncate')::name)
            OR (t.tgfoid = 'store.capture()'::regprocedure
                AND t.tgargs = convert_to($2, getdatabaseencoding()) || decode('00', 'hex')))
     ORDER BY t.tgname
$$;

-- Installs key's two triggers (ENABLE ALWAYS); with replace, first drops whatever stands in their
-- place (see _key_triggers). The registration is set aside meanwhile: the DDL guards below refuse
-- changes to the triggers of registered keys only. The caller holds a lock on the table that
-- keeps writers out (CREATE TRIGGER takes one anyway).
CREATE FUNCTION store._install_triggers(key text, replace bool) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys;
    t name;
BEGIN
    DELETE FROM store.keys AS k WHERE k.key = _install_triggers.key RETURNING k.* INTO STRICT registration;
    IF replace THEN
        FOR t IN SELECT store._key_triggers(registration.source, registration.key) LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', t, registration.source);
        END LOOP;
    END IF;
    EXECUTE format(
        'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION store.capture(%L)',
        'store_' || key, registration.source, key);
    EXECUTE format(
        'CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION store.capture(%L)',
        'store_' || key || '_truncate', registration.source, key);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I, ENABLE ALWAYS TRIGGER %I',
                   registration.source, 'store_' || key, 'store_' || key || '_truncate');
    PERFORM store._sync_partition_triggers(registration.source, key, replace);
    INSERT INTO store.keys SELECT (registration).*;
END
$$;
REVOKE ALL ON FUNCTION store._install_triggers(text, bool) FROM PUBLIC;

-- Reinstalls key's triggers unless they are exactly as installed (so also turns a trigger set
-- to plain ENABLE back to ENABLE ALWAYS). Needs what store_register needs: ownership of the
-- table and EXECUTE on store.capture; costs nothing when there is nothing to repair.
CREATE FUNCTION store._repair_triggers(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
BEGIN
    IF store._trigger_state(registration.source, key) = store._installed_trigger_state(key) THEN
        RETURN;
    END IF;
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', registration.source);
    -- (another transaction may have repaired them while this one waited)
    IF store._trigger_state(registration.source, key) = store._installed_trigger_state(key) THEN
        RETURN;
    END IF;
    PERFORM store._install_triggers(key, true);
END
$$;
REVOKE ALL ON FUNCTION store._repair_triggers(text) FROM PUBLIC;

---------------------------------------------------------------------------------------------
-- Registering, unregistering and reloading
---------------------------------------------------------------------------------------------

-- Registration (see 0.1.0), now also refusing sources whose documents cannot be rendered
-- canonically by trusted code (store._check_source), and installing the triggers ALWAYS; with a
-- filter (see 35-filter.sql), only the rows that match it are stored. store._register runs as the
-- store owner for store_register (70-admin.sql), which checks the caller.
CREATE FUNCTION store._register(key text, source regclass, columns text[] DEFAULT NULL, filter text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parsed record;
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
    PERFORM store._check_columns(source, columns);
    PERFORM store._check_source(source, store._column_numbers(source, columns));
    SELECT f.* INTO parsed FROM store._parse_filter(source, _register.filter) AS f;
    PERFORM FROM store.keys AS k WHERE k.key = _register.key;
    IF FOUND THEN
        RAISE EXCEPTION 'store key "%" is already registered', key
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another key, or store_unregister() it first.';
    END IF;
    INSERT INTO store.keys (key, source, columns, column_numbers, id_type, shape, filter, filter_node)
    VALUES (key, source, columns, store._column_numbers(source, columns), store._id_type(source),
            store._shape(source, store._column_numbers(source, columns)), parsed.filter, parsed.filter_node);
    PERFORM store._install_triggers(key, false);
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;

-- Unregistering forgets the key before it drops the triggers (the DDL guards let them go only
-- then), after taking the lock DROP TRIGGER takes: writers and reloads in flight commit first,
-- and forgetting then deletes what they wrote. Triggers renamed or added by hand for the key go
-- too. (Run as the store owner for store_unregister, see 70-admin.sql.)
CREATE FUNCTION store._unregister(key text) RETURNS void
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
END
$$;

-- Rebuilds the documents of key from its table. SHARE ROW EXCLUSIVE waits for writers in flight
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
    DELETE FROM store.entries AS e WHERE e.key = registration.key;
    INSERT INTO store.entries (key, id, doc)
    SELECT registration.key, s.id, s.doc FROM store._source_rows(registration.key) AS s;
END
$$;

-- Reloads repair the triggers too (see _repair_triggers), then rebuild the documents. (Run as
-- the store owner for store_reload, see 70-admin.sql.)
CREATE FUNCTION store._reload() RETURNS void
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

CREATE FUNCTION store._reload(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM store._repair_triggers(key);
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;

---------------------------------------------------------------------------------------------
-- Reading: a key whose triggers are stopped is readable by nobody (fail closed)
---------------------------------------------------------------------------------------------

-- As in 0.1.0, and both of the key's triggers must work: documents that no longer follow their
-- table are never served. Readers run it for every key they serve, so it stays one query.
CREATE OR REPLACE FUNCTION store._may_read(registration store.keys, reader oid, bulk bool) RETURNS bool
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM pg_class AS c
                    WHERE c.oid = ($1).source AND has_schema_privilege($2, c.relnamespace, 'USAGE')
                      AND (NOT $3 OR NOT store._rls_active(c.oid, $2) OR pg_has_role($2, c.relowner, 'USAGE')
                           OR c.relowner = (SELECT h.relowner FROM pg_class AS h WHERE h.oid = 'store.history'::regclass)))
       -- both of the key's triggers work: the test of store._trigger_state ("always" or "enabled"),
       -- written out (a nested SQL function would be planned again on every call): two index probes
       AND (SELECT count(*) FROM pg_trigger AS t
             WHERE t.tgrelid = ($1).source
               AND t.tgname IN (('store_' || ($1).key)::name, ('store_' || ($1).key || '_truncate')::name)
               AND t.tgenabled IN ('O', 'A')
               AND t.tgfoid = 'store.capture()'::regprocedure
               AND t.tgtype = CASE WHEN t.tgname = ('store_' || ($1).key)::name THEN 29 ELSE 32 END
               AND t.tgnargs = 1 AND t.tgargs = convert_to(($1).key, getdatabaseencoding()) || decode('00', 'hex')
               AND t.tgqual IS NULL AND t.tgattr = ''::int2vector AND t.tgconstraint = 0) = 2
       -- and so do those on its partitions, if it has any
       AND CASE WHEN (SELECT c.relkind FROM pg_class AS c WHERE c.oid = ($1).source) = 'p'
                THEN NOT EXISTS (SELECT FROM jsonb_each_text(store._partition_trigger_state(($1).source, ($1).key)) AS s
                                  WHERE s.value NOT IN ('always', 'enabled'))
                ELSE true END
       AND store._shape(($1).source, ($1).column_numbers) = ($1).shape
       AND NOT EXISTS (
        SELECT FROM pg_attribute AS a
         WHERE a.attrelid = ($1).source AND a.attnum > 0 AND NOT a.attisdropped
           AND (($1).column_numbers IS NULL OR a.attnum = ANY (($1).column_numbers)
                OR a.attnum IN (SELECT i.indkey[k.n] FROM pg_index AS i CROSS JOIN generate_series(0, i.indnkeyatts - 1) AS k(n)
                                 WHERE i.indrelid = ($1).source AND i.indisprimary))
           AND NOT has_column_privilege($2, ($1).source, a.attnum, 'SELECT'))
$$;

-- As in 0.1.0; a key whose triggers are stopped is refused with its own error.
CREATE OR REPLACE FUNCTION store._require_readable(key text, reader oid) RETURNS store.keys
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
BEGIN
    IF NOT store._may_read(registration, reader, false) THEN
        IF EXISTS (SELECT FROM jsonb_each_text(store._trigger_state(registration.source, registration.key)) AS s
                    WHERE s.value NOT IN ('always', 'enabled', 'extra')) THEN
            RAISE EXCEPTION 'store key "%" does not follow its table: its triggers are missing or disabled', key
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = format('store_verify(%L) shows them; store_reload(%L) reinstalls them.', key, key);
        END IF;
        RAISE EXCEPTION 'permission denied for store key "%"', key
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Reading a key needs SELECT on its table, or on each of its stored columns.';
    END IF;
    RETURN registration;
END
$$;

-- As in 0.2.0, and first, per key whose triggers are not all working (or that has an extra
-- capture trigger): one row with problem 'triggers', item_id NULL, stored = the triggers as they
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

---------------------------------------------------------------------------------------------
-- DDL guards: commands that would stop a registered key's triggers are refused
---------------------------------------------------------------------------------------------

-- As in 0.1.0 (dropped tables unregister their keys, dropped columns refresh them), and first:
-- dropping a trigger of a registered key whose table stays is refused. (Unregistering forgets
-- the key before it drops the triggers; DROP TABLE / SCHEMA / OWNED drop the table with them.)
CREATE OR REPLACE FUNCTION store._on_drop() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    bad record;
BEGIN
    IF to_regclass('store.keys') IS NULL THEN
        RETURN; -- the extension itself is being dropped
    END IF;
    SELECT r.key, c.oid::regclass AS source, d.address_names[3] AS name INTO bad
      FROM pg_event_trigger_dropped_objects() AS d
      JOIN pg_namespace AS n ON n.nspname = d.address_names[1]
      JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = d.address_names[2]
      JOIN store.keys AS r ON r.source = c.oid OR r.source IN (SELECT pg_partition_ancestors(c.oid))
     WHERE d.classid = 'pg_trigger'::regclass
       AND d.address_names[3] IN ('store_' || r.key, 'store_' || r.key || '_truncate')
     ORDER BY r.key, 3
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot drop trigger "%" on table %: store key "%" depends on it', bad.name, bad.source, bad.key
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = format('Unregister the key first: SELECT store_unregister(%L);', bad.key);
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
    -- a dropped partition (its truncate trigger went with it) takes its rows' documents along
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_dropped_objects() AS d
               JOIN store.keys AS r ON d.address_names[3] = 'store_' || r.key || '_truncate'
              WHERE d.classid = 'pg_trigger'::regclass
                AND EXISTS (SELECT FROM pg_class AS c WHERE c.oid = r.source AND c.relkind = 'p')
              ORDER BY r.key LOOP
        PERFORM store._reconcile(k);
    END LOOP;
END
$$;

-- ALTER TABLE (ENABLE / DISABLE [REPLICA | ALWAYS] TRIGGER), ALTER TRIGGER (RENAME) and CREATE
-- [OR REPLACE] TRIGGER on the table of a registered key: refused when afterwards one of the
-- key's triggers is disabled, fires for replicas only, runs something else, or when its capture
-- runs under another name. (A missing trigger is left to store_verify and the readers: a restore
-- creates the two triggers one after the other.)
CREATE FUNCTION store._on_trigger_ddl() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    WITH touched AS (
        SELECT c.objid AS rel FROM pg_event_trigger_ddl_commands() AS c WHERE c.classid = 'pg_class'::regclass
        UNION
        SELECT t.tgrelid FROM pg_event_trigger_ddl_commands() AS c JOIN pg_trigger AS t ON t.oid = c.objid
         WHERE c.classid = 'pg_trigger'::regclass
    )
    SELECT r.key, r.source, s.name, s.state INTO bad
      FROM store.keys AS r
      CROSS JOIN LATERAL jsonb_each_text(store._trigger_state(r.source, r.key)) AS s(name, state)
     WHERE (r.source IN (SELECT touched.rel FROM touched) OR r.source IN (SELECT pg_partition_ancestors(touched.rel) FROM touched))
       AND s.state NOT IN ('always', 'enabled', 'missing')
     ORDER BY r.key, s.name
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RAISE EXCEPTION '%', CASE bad.state
        WHEN 'disabled' THEN format('cannot disable trigger "%s" on table %s: store key "%s" depends on it',
                                    bad.name, bad.source, bad.key)
        WHEN 'replica' THEN format('cannot make trigger "%s" on table %s fire only for replicas: store key "%s" depends on it',
                                   bad.name, bad.source, bad.key)
        WHEN 'replaced' THEN format('cannot replace trigger "%s" on table %s: store key "%s" depends on it',
                                    bad.name, bad.source, bad.key)
        ELSE format('cannot rename or add trigger "%s" on table %s: store key "%s" runs only as "%s" and "%s"',
                    bad.name, bad.source, bad.key, 'store_' || bad.key, 'store_' || bad.key || '_truncate')
        END
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = format('Unregister the key first: SELECT store_unregister(%L);', bad.key);
END
$$;
REVOKE ALL ON FUNCTION store._on_trigger_ddl() FROM PUBLIC;
CREATE EVENT TRIGGER store_triggers ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER TRIGGER', 'CREATE TRIGGER')
    EXECUTE FUNCTION store._on_trigger_ddl();

-- The store's event triggers fire ALWAYS, like its triggers: a superuser's session with
-- session_replication_role = replica cannot drop or disable a key's triggers unseen either.
ALTER EVENT TRIGGER store_triggers ENABLE ALWAYS;
ALTER EVENT TRIGGER store_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER store_alter_table ENABLE ALWAYS;

-- Keys registered before: their triggers are reinstalled as above (ALWAYS), including any that
-- were dropped, disabled or renamed meanwhile; the rebuild that follows (99-rebuild.sql)
-- brings their documents up to date.
DO $$
DECLARE
    k text;
BEGIN
    FOR k IN SELECT r.key FROM store.keys AS r
              WHERE EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = r.source) ORDER BY r.key LOOP
        PERFORM store._repair_triggers(k);
    END LOOP;
END
$$;
