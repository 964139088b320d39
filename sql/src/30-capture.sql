
-----------------------------------------------------------------------------------------------
-- Capture: the trigger that keeps documents and history current in the writing transaction, the
-- one history appender, and the installation and state of each key's triggers (on a partitioned
-- root and its partitions). A registered key's triggers cannot be stopped; a key whose triggers
-- are stopped anyway is never served.
-----------------------------------------------------------------------------------------------

-- The capture trigger. Not executable by PUBLIC: nobody else may attach it to a table.
CREATE OR REPLACE FUNCTION store.capture() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'store_capture';
REVOKE ALL ON FUNCTION store.capture() FROM PUBLIC;
COMMENT ON FUNCTION store.capture() IS 'store trigger: keeps store.entries and store.history current';

-- The triggers of nested keys (src/pg/nested_maintenance.cpp), on every table a key's shape
-- reaches: store_<key> (row) and store_<key>_truncate (statement) run store.capture_nested, which
-- records what changed; store_<key>_flush, a DEFERRABLE INITIALLY DEFERRED constraint trigger, runs
-- store.flush_nested, which re-renders the documents concerned at commit. Not executable by PUBLIC.
CREATE OR REPLACE FUNCTION store.capture_nested() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'store_capture_nested';
REVOKE ALL ON FUNCTION store.capture_nested() FROM PUBLIC;
COMMENT ON FUNCTION store.capture_nested() IS 'store trigger: records the changes nested documents must follow';
CREATE OR REPLACE FUNCTION store.flush_nested() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'store_flush_nested';
REVOKE ALL ON FUNCTION store.flush_nested() FROM PUBLIC;
COMMENT ON FUNCTION store.flush_nested() IS 'store trigger: re-renders the nested documents the transaction changed';

-- Marks the transaction as having changed key (NULL: changed the store) for its NOTIFY.
CREATE OR REPLACE FUNCTION store._note_change(key text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_note_change';
REVOKE ALL ON FUNCTION store._note_change(text) FROM PUBLIC;

-- Appends one whole-key (cache_key) or whole-store (cache_key NULL) history row, item NULL,
-- through the library's direct writer: the same row the capture triggers append, as the store
-- owner, for this transaction's xid and origin.
CREATE OR REPLACE FUNCTION store._append_history(cache_key text, state text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_append_history';
REVOKE ALL ON FUNCTION store._append_history(text, text) FROM PUBLIC;

-- Appends one whole-key or whole-store history row (item NULL) and marks the transaction for
-- its NOTIFY with every key it concerns.
CREATE OR REPLACE FUNCTION store._log(cache_key text, state text, keys text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
BEGIN
    PERFORM store._append_history(_log.cache_key, _log.state);
    PERFORM store._note_change(NULL);
    FOREACH k IN ARRAY keys LOOP
        PERFORM store._note_change(k);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._log(text, text, text[]) FROM PUBLIC;

-- Partitioned tables. PostgreSQL clones a root's row triggers to every partition, present and
-- future (tgparentid names the trigger cloned), and refuses to drop or rename a clone; statement
-- triggers are not cloned, so each partition gets its own store_<key>_truncate (a TRUNCATE of one
-- partition fires only that partition's triggers). A partition's rows enter or leave the key's
-- documents when it is attached, detached or dropped (store._reconcile), in the same transaction.
-- An UPDATE that moves a row to another partition changes its primary key (which holds the
-- partition key): D of the old id, C of the new one, as any key change.

-- The partitions of source at every depth (source excluded; none for an ordinary table).
CREATE OR REPLACE FUNCTION store._partitions(source regclass) RETURNS SETOF regclass
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.relid FROM pg_partition_tree($1) AS t WHERE t.relid <> $1 ORDER BY t.level, t.relid::text
$$;

-- The store's triggers of a key, as store_register installs them: store_<key> (AFTER INSERT OR
-- UPDATE OR DELETE, FOR EACH ROW: tgtype 29) and store_<key>_truncate (AFTER TRUNCATE, FOR EACH
-- STATEMENT: tgtype 32), both store.capture('<key>') without WHEN or column list, and ENABLE
-- ALWAYS, so they also fire where session_replication_role = replica (logical replication's
-- apply workers, restores and loads that set it).

-- The tables a nested key's shape reaches (root included), each once; none for a flat key. While
-- the shape does not resolve (a restore has not created the foreign keys yet; DDL handling refuses
-- to break it otherwise), the tables that hold the key's triggers.
CREATE OR REPLACE FUNCTION store._nested_tables(key text) RETURNS SETOF regclass
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tables regclass[];
BEGIN
    BEGIN
        SELECT array_agg(DISTINCT l.table_name) INTO tables FROM store.keys AS k
         CROSS JOIN LATERAL store._reverse_lookups(k.source, k.nested) AS l
         WHERE k.key = _nested_tables.key AND k.nested IS NOT NULL;
    EXCEPTION WHEN OTHERS THEN
        SELECT array_agg(t) INTO tables FROM store._key_trigger_tables(0, _nested_tables.key) AS t;
    END;
    RETURN QUERY SELECT t FROM unnest(tables) AS t;
END
$$;

-- Key's triggers on source, by name: "always" or "enabled" (they work), "disabled", "replica"
-- (ENABLE REPLICA: silent in ordinary sessions), "replaced" (the name runs something else, or
-- for other events, or with a WHEN or column list) or "missing"; and as "extra" any other
-- trigger on source running key's capture (a store trigger renamed, or one added by hand); for a
-- partitioned table also its partitions' triggers that are not as installed, and for a nested key
-- those on the tables its shape reaches (store_<key>_flush on each, store_<key> and
-- store_<key>_truncate on those but source), named '<trigger> on <table>'. In C
-- (src/pg/key_triggers.cpp), where the readers make the same test.
CREATE OR REPLACE FUNCTION store._trigger_state(source regclass, key text) RETURNS jsonb
    LANGUAGE c STABLE
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'store_trigger_state';

-- The state of key's triggers right after store_register or store_reload.
CREATE OR REPLACE FUNCTION store._installed_trigger_state(key text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('store_' || $1, 'always', 'store_' || $1 || '_truncate', 'always')
$$;

-- The names of the triggers on source that are key's: its two names, and any other trigger
-- running key's capture (renamed, or added by hand). What unregistering or repairing drops.
CREATE OR REPLACE FUNCTION store._key_triggers(source regclass, key text) RETURNS SETOF name
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.tgname FROM pg_trigger AS t
     WHERE t.tgrelid = $1 AND NOT t.tgisinternal
       AND (t.tgname IN (('store_' || $2)::name, ('store_' || $2 || '_truncate')::name, ('store_' || $2 || '_flush')::name)
            OR (t.tgfoid IN ('store.capture()'::regprocedure, 'store.capture_nested()'::regprocedure,
                             'store.flush_nested()'::regprocedure)
                AND t.tgargs = convert_to($2, getdatabaseencoding()) || decode('00', 'hex')))
     ORDER BY t.tgname
$$;

-- The tables other than source holding triggers of key's (see _key_triggers): a nested key's.
CREATE OR REPLACE FUNCTION store._key_trigger_tables(source regclass, key text) RETURNS SETOF regclass
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT t.tgrelid::regclass FROM pg_trigger AS t
     WHERE t.tgrelid <> $1 AND NOT t.tgisinternal AND t.tgparentid = 0
       AND t.tgfoid IN ('store.capture_nested()'::regprocedure, 'store.flush_nested()'::regprocedure)
       AND t.tgargs = convert_to($2, getdatabaseencoding()) || decode('00', 'hex')
$$;

-- Drops key's triggers from every table other than source (a nested key's), after locking it.
CREATE OR REPLACE FUNCTION store._drop_nested_triggers(source regclass, key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r regclass;
    t name;
BEGIN
    FOR r IN SELECT store._key_trigger_tables(source, key) ORDER BY 1 LOOP
        FOR t IN SELECT store._key_triggers(r, key) LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', t, r);
        END LOOP;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._drop_nested_triggers(regclass, text) FROM PUBLIC;

-- Drops key's truncate triggers from tables other than source that are not (any more) its
-- partitions (all of them, with every_table: unregistering); true when it dropped one.
CREATE OR REPLACE FUNCTION store._drop_partition_triggers(source regclass, key text, every_table bool) RETURNS bool
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    dropped bool := false;
BEGIN
    FOR t IN SELECT tr.tgname, tr.tgrelid::regclass AS rel FROM pg_trigger AS tr
              WHERE tr.tgfoid = 'store.capture()'::regprocedure AND tr.tgparentid = 0
                AND tr.tgname = ('store_' || key || '_truncate')::name
                AND tr.tgargs = convert_to(key, getdatabaseencoding()) || decode('00', 'hex')
                AND tr.tgrelid <> source
                AND (every_table OR tr.tgrelid NOT IN (SELECT store._partitions(source)))
              ORDER BY tr.tgrelid LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        dropped := true;
    END LOOP;
    RETURN dropped;
END
$$;
REVOKE ALL ON FUNCTION store._drop_partition_triggers(regclass, text, bool) FROM PUBLIC;

-- Gives each of source's partitions key's truncate trigger (ENABLE ALWAYS; with replace, anew)
-- and takes it from tables that left; true when the set of partitions changed (a trigger was
-- added or dropped). The caller may change source's triggers (see _install_triggers).
CREATE OR REPLACE FUNCTION store._sync_partition_triggers(source regclass, key text, replace bool) RETURNS bool
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    trigger_name name := ('store_' || key || '_truncate')::name;
    p regclass;
    changed bool := store._drop_partition_triggers(source, key, false);
BEGIN
    FOR p IN SELECT store._partitions(source) LOOP
        IF replace THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', trigger_name, p);
        END IF;
        CONTINUE WHEN EXISTS (SELECT FROM pg_trigger AS t WHERE t.tgrelid = p AND t.tgname = trigger_name);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION store.capture(%L)',
                       trigger_name, p, key);
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', p, trigger_name);
        changed := changed OR NOT replace;
    END LOOP;
    RETURN changed;
END
$$;
REVOKE ALL ON FUNCTION store._sync_partition_triggers(regclass, text, bool) FROM PUBLIC;

-- Installs key's two triggers (ENABLE ALWAYS); with replace, first drops whatever stands in their
-- place (see _key_triggers). The registration is set aside meanwhile: the DDL guards below refuse
-- changes to the triggers of registered keys only. The caller holds a lock on the table that
-- keeps writers out (CREATE TRIGGER takes one anyway).
CREATE OR REPLACE FUNCTION store._install_triggers(key text, replace bool) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys;
    t name;
BEGIN
    IF EXISTS (SELECT FROM store.keys AS k WHERE k.key = _install_triggers.key AND k.nested IS NOT NULL) THEN
        PERFORM store._install_nested_triggers(key, replace);
        RETURN;
    END IF;
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

-- A nested key's triggers on every table its shape reaches (see store.capture_nested), ENABLE
-- ALWAYS; with replace, first drops whatever stands in their place, on those tables and any other.
-- Partitioned tables are refused at registration (their clones and truncate triggers: not yet).
CREATE OR REPLACE FUNCTION store._install_nested_triggers(key text, replace bool) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys;
    tables regclass[];
    r regclass;
    t name;
BEGIN
    SELECT array_agg(n ORDER BY n::oid) INTO tables FROM store._nested_tables(key) AS n;
    DELETE FROM store.keys AS k WHERE k.key = _install_nested_triggers.key RETURNING k.* INTO STRICT registration;
    IF replace THEN
        PERFORM store._drop_nested_triggers(registration.source, key);
        FOR t IN SELECT store._key_triggers(registration.source, key) LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', t, registration.source);
        END LOOP;
    END IF;
    FOREACH r IN ARRAY tables LOOP
        -- a trigger of the key's name that is not the key's own: another key's (key "x" has
        -- store_x_flush, key "x_flush" would want it too) or the user's
        IF EXISTS (SELECT FROM pg_trigger AS g
                    WHERE g.tgrelid = r AND g.tgname IN (('store_' || key)::name, ('store_' || key || '_truncate')::name,
                                                         ('store_' || key || '_flush')::name)
                      AND NOT (g.tgfoid IN ('store.capture_nested()'::regprocedure, 'store.flush_nested()'::regprocedure)
                               AND g.tgargs = convert_to(key, getdatabaseencoding()) || decode('00', 'hex'))) THEN
            RAISE EXCEPTION 'store key "%" cannot have its triggers on table %: a trigger of the same name is there', key, r
                USING ERRCODE = 'duplicate_object',
                      HINT = 'Another key''s triggers may have that name (store_<key>, store_<key>_truncate, store_<key>_flush): choose another key.';
        END IF;
        CONTINUE WHEN NOT replace AND EXISTS (SELECT FROM pg_trigger AS g WHERE g.tgrelid = r AND g.tgname = ('store_' || key)::name);
        EXECUTE format(
            'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION store.capture_nested(%L)',
            'store_' || key, r, key);
        EXECUTE format(
            'CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION store.capture_nested(%L)',
            'store_' || key || '_truncate', r, key);
        EXECUTE format(
            'CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s DEFERRABLE INITIALLY DEFERRED '
            'FOR EACH ROW EXECUTE FUNCTION store.flush_nested(%L)',
            'store_' || key || '_flush', r, key);
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I, ENABLE ALWAYS TRIGGER %I, ENABLE ALWAYS TRIGGER %I',
                       r, 'store_' || key, 'store_' || key || '_truncate', 'store_' || key || '_flush');
    END LOOP;
    INSERT INTO store.keys SELECT (registration).*;
END
$$;
REVOKE ALL ON FUNCTION store._install_nested_triggers(text, bool) FROM PUBLIC;

-- Reinstalls key's triggers unless they are exactly as installed (so also turns a trigger set
-- to plain ENABLE back to ENABLE ALWAYS). Needs what store_register needs: ownership of the
-- table and EXECUTE on store.capture; costs nothing when there is nothing to repair.
CREATE OR REPLACE FUNCTION store._repair_triggers(key text) RETURNS void
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

-- Brings key's documents level with its table without touching the rows both hold: entries
-- whose row is gone are deleted (D), rows without an entry get one (C). What a partition's
-- attach, detach, drop or truncate leaves to do; no lock on the table beyond the caller's, so
-- writers to other partitions go on (their uncommitted rows and entries are invisible here
-- alike, and committed ones visible alike). In C (src/pg/reconcile.cpp): its history rows go
-- through the one appender.
CREATE OR REPLACE FUNCTION store._reconcile(key text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_reconcile';
REVOKE ALL ON FUNCTION store._reconcile(text) FROM PUBLIC;

-- True when a DDL command (a row of pg_event_trigger_ddl_commands()) attaches or detaches a
-- partition (ALTER TABLE ... ATTACH / DETACH PARTITION [CONCURRENTLY | FINALIZE]) or creates one
-- (CREATE TABLE ... PARTITION OF).
CREATE OR REPLACE FUNCTION store._changes_partitions(command pg_ddl_command) RETURNS bool
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'store_changes_partitions';
REVOKE ALL ON FUNCTION store._changes_partitions(pg_ddl_command) FROM PUBLIC;
