-- A silently stale store: the owner of a registered table (or a superuser) may not drop, disable,
-- rename or replace the key's triggers — the command is refused, naming the key — and where the
-- event triggers cannot see it (an event trigger disabled by a superuser, a catalog edited by
-- hand), the store fails closed: store_verify reports the key ('triggers'), readers refuse it by
-- name and leave it out of whole-store reads, and store_reload reinstalls the triggers.
-- The store's triggers fire ALWAYS, so writes in session_replication_role = replica follow too.
-- Unregistering, DROP TABLE / SCHEMA / OWNED / EXTENSION keep working.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE FUNCTION keys_of(j json) RETURNS text[] LANGUAGE sql AS
    $$ SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM json_object_keys(j) AS k $$;
-- The triggers of a table: name, enabled state ('O' origin, 'A' always, 'D' disabled, 'R' replica).
CREATE FUNCTION triggers_of(t regclass) RETURNS TABLE (name name, enabled "char") LANGUAGE sql AS
    $$ SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = t AND NOT tgisinternal ORDER BY tgname $$;
-- attack(cmd): runs cmd as the current role; if it is allowed, writes to items (an insert, then a
-- TRUNCATE) and reads the key back, to show whether the store still follows the table. All of it
-- is rolled back.
CREATE FUNCTION attack(cmd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    BEGIN
        BEGIN
            EXECUTE cmd;
        EXCEPTION WHEN OTHERS THEN
            RETURN 'refused ' || SQLSTATE || ': ' || SQLERRM;
        END;
        BEGIN
            INSERT INTO items VALUES (100, 'probe');
            outcome := CASE WHEN store_get('items', '100') IS NULL THEN 'missed an insert' ELSE 'follows inserts' END;
            TRUNCATE items;
            outcome := outcome || CASE WHEN store_get('items', '1') IS NULL THEN ', follows TRUNCATE' ELSE ', missed a TRUNCATE' END;
        EXCEPTION WHEN OTHERS THEN
            outcome := 'the key is refused: ' || SQLSTATE || ': ' || SQLERRM;
        END;
        RAISE EXCEPTION USING ERRCODE = 'S0001', MESSAGE = 'allowed; the store ' || outcome;
    EXCEPTION WHEN SQLSTATE 'S0001' THEN
        RETURN SQLERRM;
    END;
END $$;

CREATE ROLE store_table_owner;
CREATE ROLE store_reader;
GRANT CREATE ON SCHEMA public TO store_table_owner;
SET ROLE store_table_owner;
CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items VALUES (1, 'a'), (2, 'b');
GRANT SELECT ON items TO store_reader;
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TABLE other (id int PRIMARY KEY);
CREATE TRIGGER audit AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION noop();
RESET ROLE;
GRANT EXECUTE ON FUNCTION attack(text) TO store_table_owner;
SELECT store_register('items', 'items');
-- The store's triggers fire ALWAYS (also in session_replication_role = replica).
SELECT * FROM triggers_of('items');

-- The table's owner (no privilege on the store) may not stop the triggers in any way.
SET ROLE store_table_owner;
BEGIN;
DROP TRIGGER store_items ON items;
ROLLBACK;
BEGIN;
ALTER TABLE items DISABLE TRIGGER store_items;
ROLLBACK;
SELECT cmd, attack(cmd) FROM (VALUES
    ('DROP TRIGGER store_items ON items'),
    ('DROP TRIGGER store_items_truncate ON items'),
    ('DROP TRIGGER store_items ON items; CREATE TRIGGER store_items AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION noop()'),
    ('ALTER TABLE items DISABLE TRIGGER store_items'),
    ('ALTER TABLE items DISABLE TRIGGER store_items_truncate'),
    ('ALTER TABLE items DISABLE TRIGGER ALL'),
    ('ALTER TABLE items DISABLE TRIGGER USER'),
    ('ALTER TABLE items ENABLE REPLICA TRIGGER store_items'),
    ('ALTER TABLE items ENABLE REPLICA TRIGGER store_items_truncate'),
    ('ALTER TABLE items ADD COLUMN note text, DISABLE TRIGGER store_items'),
    ('ALTER TRIGGER store_items ON items RENAME TO quiet'),
    ('ALTER TRIGGER store_items_truncate ON items RENAME TO quiet'),
    ('CREATE OR REPLACE TRIGGER store_items AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION noop()'),
    ('CREATE OR REPLACE TRIGGER store_items_truncate AFTER TRUNCATE ON items FOR EACH STATEMENT EXECUTE FUNCTION noop()')
) AS a(cmd);
-- What stays allowed: ENABLE (fires in every session but replica ones) and ENABLE ALWAYS, other
-- triggers, other DDL.
SELECT cmd, attack(cmd) FROM (VALUES
    ('ALTER TABLE items ENABLE TRIGGER ALL'),
    ('ALTER TABLE items ENABLE TRIGGER store_items'),
    ('ALTER TABLE items ENABLE ALWAYS TRIGGER store_items'),
    ('ALTER TABLE items DISABLE TRIGGER audit'),
    ('ALTER TRIGGER audit ON items RENAME TO audit2'),
    ('DROP TRIGGER audit ON items'),
    ('CREATE OR REPLACE TRIGGER audit AFTER UPDATE ON items FOR EACH ROW EXECUTE FUNCTION noop()'),
    ('ALTER TABLE items ADD COLUMN note text'),
    ('ALTER TABLE other DISABLE TRIGGER ALL')
) AS a(cmd);
RESET ROLE;
-- A superuser is refused the same way; pg_dump's --disable-triggers (DISABLE TRIGGER ALL) too.
SELECT cmd, attack(cmd) FROM (VALUES
    ('DROP TRIGGER store_items ON items'),
    ('ALTER TABLE items DISABLE TRIGGER ALL'),
    ('ALTER TRIGGER store_items ON items RENAME TO quiet'),
    ('CREATE OR REPLACE TRIGGER store_items AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION noop()')
) AS a(cmd);
-- Two keys on one table: the error names the first key whose trigger it would stop.
SELECT store_register('names', 'items', ARRAY['id', 'name']);
SELECT err($$ALTER TABLE items DISABLE TRIGGER ALL$$);
SELECT err($$DROP TRIGGER store_names_truncate ON items$$);
SELECT store_unregister('names');
SELECT * FROM triggers_of('items');
SELECT count(*) AS problems FROM store_verify();

-- Where the event triggers cannot help, the store fails closed. A superuser disables them:
SELECT store_version() AS v \gset
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER EVENT TRIGGER store_drop DISABLE;
ALTER TABLE items DISABLE TRIGGER store_items;
INSERT INTO items VALUES (3, 'c');
-- store_verify names the key (item_id NULL; stored: the triggers as they are, expected: as they
-- should be), then the documents that went stale meanwhile.
SELECT * FROM store_verify();
-- Readers refuse the key by name and leave it out of the whole store, its history and deltas.
SET ROLE store_reader;
SELECT err($$SELECT store_get('items', '1')$$);
SELECT err($$SELECT store_snapshot('items')$$);
SELECT err($$SELECT count(*) FROM store_snapshot_rows('items')$$);
SELECT keys_of(store_snapshot());
SELECT count(*) AS history_rows FROM store_history(:'v');
SELECT store_changes(:'v')::jsonb -> 'changes' AS changes;
RESET ROLE;
SELECT keys_of(store_snapshot()) AS superuser_keys;
-- store_reload reinstalls the triggers (and rebuilds the documents): readable and current again.
SELECT store_reload('items');
SELECT * FROM triggers_of('items');
SELECT count(*) AS problems FROM store_verify();
SET ROLE store_reader;
SELECT store_get('items', '3');
SELECT cache_key, item_id, state FROM store_history(:'v');
RESET ROLE;
-- Each way a trigger can stop, as store_verify reports it, whether readers still serve the key,
-- and that store_reload() repairs it. (An extra capture trigger under another name, which only a
-- superuser can add, is reported but does not stop the key.)
CREATE FUNCTION broken(how text)
    RETURNS TABLE (problem text, stored jsonb, readable bool) LANGUAGE plpgsql AS $$
DECLARE
    served bool := true;
BEGIN
    EXECUTE how;
    BEGIN
        PERFORM store_get('items', '1');
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        served := false;
    END;
    RETURN QUERY SELECT v.problem, v.stored, served FROM store_verify() AS v WHERE v.item_id IS NULL;
    PERFORM store_reload();
    IF EXISTS (SELECT FROM store_verify()) OR store._trigger_state('items', 'items') <> store._installed_trigger_state('items') THEN
        RAISE EXCEPTION 'store_reload did not repair: %', how;
    END IF;
END $$;
SELECT how, (broken(how)).* FROM (VALUES
    ('DROP TRIGGER store_items ON items'),
    ('DROP TRIGGER store_items_truncate ON items'),
    ('ALTER TABLE items DISABLE TRIGGER ALL'),
    ('ALTER TABLE items ENABLE REPLICA TRIGGER store_items_truncate'),
    ('ALTER TRIGGER store_items ON items RENAME TO quiet'),
    ('CREATE OR REPLACE TRIGGER store_items AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION noop()'),
    ('CREATE TRIGGER twice AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION store.capture(''items'')'),
    ('UPDATE pg_trigger SET tgenabled = ''D'' WHERE tgname = ''store_items'''),
    ('UPDATE pg_trigger SET tgtype = tgtype & ~16 WHERE tgname = ''store_items'''),
    ('UPDATE pg_trigger SET tgargs = ''other\000'' WHERE tgname = ''store_items'''),
    ('UPDATE pg_trigger SET tgfoid = ''noop''::regproc WHERE tgname = ''store_items_truncate''')
) AS b(how);
SELECT * FROM triggers_of('items');
-- A trigger renamed while the event triggers were off is dropped by store_unregister too.
ALTER TRIGGER store_items ON items RENAME TO quiet;
SELECT store_unregister('items');
SELECT * FROM triggers_of('items');
SELECT store_register('items', 'items');
ALTER EVENT TRIGGER store_triggers ENABLE ALWAYS;
ALTER EVENT TRIGGER store_drop ENABLE ALWAYS;

-- session_replication_role = replica (logical replication's apply, some restores): the ALWAYS
-- triggers keep following writes.
SET session_replication_role = replica;
INSERT INTO items VALUES (4, 'd');
RESET session_replication_role;
SELECT store_get('items', '4');
-- A trigger set back to plain ENABLE (origin; allowed) is silent in such sessions: the store
-- drifts, store_verify shows it, and it heals on the next ordinary write of each row (an INSERT
-- replaces the stale document, an UPDATE of a row the store lacks stores it), each logged once.
-- store_reload makes the triggers ALWAYS again.
ALTER TABLE items ENABLE TRIGGER ALL;
SELECT * FROM triggers_of('items');
SET session_replication_role = replica;
DELETE FROM items WHERE id = 2;
INSERT INTO items VALUES (5, 'e');
RESET session_replication_role;
SELECT cache_key, item_id, problem FROM store_verify();
SELECT store_version() AS v_drift \gset
INSERT INTO items VALUES (2, 'again');
UPDATE items SET name = 'E' WHERE id = 5;
SELECT cache_key, item_id, state FROM store_history(:'v_drift');
SELECT count(*) AS problems FROM store_verify();
SELECT store_reload('items');
SELECT * FROM triggers_of('items');
SELECT count(*) AS problems FROM store_verify();

-- Unregistering, and dropping the table, its schema, its owner's objects or the extension,
-- all keep working.
SELECT store_unregister('items');
SELECT * FROM triggers_of('items');
SELECT store_register('items', 'items');
CREATE SCHEMA shop AUTHORIZATION store_table_owner;
SET ROLE store_table_owner;
CREATE TABLE shop.orders (id int PRIMARY KEY);
CREATE TABLE dropped (id int PRIMARY KEY);
RESET ROLE;
SELECT store_register('orders', 'shop.orders');
SELECT store_register('dropped', 'dropped');
SET ROLE store_table_owner;
DROP TABLE dropped;
DROP SCHEMA shop CASCADE;
RESET ROLE;
SELECT key FROM store.keys ORDER BY key;
DROP OWNED BY store_table_owner;
SELECT key FROM store.keys ORDER BY key;
GRANT CREATE ON SCHEMA public TO store_table_owner;
SET ROLE store_table_owner;
CREATE TABLE items (id int PRIMARY KEY, name text);
CREATE TRIGGER audit BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger();
RESET ROLE;
SELECT store_register('items', 'items');
DROP EXTENSION store CASCADE;
SELECT * FROM triggers_of('items');

-- Upgrading from 0.2.0, where nothing refused it: a disabled trigger is reinstalled (ALWAYS) by
-- ALTER EXTENSION UPDATE, whose reload rebuilds what it missed.
CREATE EXTENSION store VERSION '0.2.0';
SELECT store_register('items', 'items');
ALTER TABLE items DISABLE TRIGGER store_items;
INSERT INTO items VALUES (1, 'missed');
ALTER EXTENSION store UPDATE;
SELECT * FROM triggers_of('items');
SELECT count(*) AS problems FROM store_verify();
SELECT store_get('items', '1');

DROP EXTENSION store CASCADE;
DROP OWNED BY store_table_owner;
REVOKE CREATE ON SCHEMA public FROM store_table_owner;
DROP ROLE store_table_owner;
DROP ROLE store_reader;
DROP FUNCTION err(text), keys_of(json), triggers_of(regclass), attack(text), broken(text);
