-- The capture triggers: every DML kind, states C/U/D, no-op updates, primary-key changes,
-- TRUNCATE, rollback, savepoints, reload, history cursors, writers without store privileges.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
-- in_sync(key): the store's documents of key equal the table serialized now.
CREATE FUNCTION in_sync(k text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    src regclass := (SELECT source FROM store.keys WHERE key = k);
    expected jsonb;
    actual jsonb;
BEGIN
    EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), ''[]'') FROM %s t', src) INTO expected;
    SELECT coalesce(jsonb_agg(doc ORDER BY id), '[]') INTO actual FROM store.entries WHERE key = k;
    RETURN expected = actual;
END $$;

CREATE TABLE items (id int PRIMARY KEY, name text, qty int DEFAULT 0);
SELECT store_register('items', 'items');
SELECT store_version() AS v0 \gset

-- INSERT, UPDATE, DELETE, one statement each: C, U, D.
INSERT INTO items (id, name) VALUES (1, 'foo');
UPDATE items SET qty = 5 WHERE id = 1;
DELETE FROM items WHERE id = 1;
SELECT cache_key, item_id, state FROM store_history(:'v0');
SELECT store_get('items', '1') AS deleted_doc;

-- Multi-row statements: one history row per changed row.
SELECT store_version() AS v1 \gset
INSERT INTO items (id, name) SELECT g, 'item ' || g FROM generate_series(1, 5) g;
UPDATE items SET qty = qty + 1 WHERE id <= 2;
SELECT state, count(*) FROM store_history(:'v1') GROUP BY state ORDER BY state;
SELECT in_sync('items');

-- An UPDATE that leaves the document identical writes no history.
SELECT store_version() AS v2 \gset
UPDATE items SET name = name WHERE id = 3;
SELECT count(*) AS no_op_history FROM store_history(:'v2');
-- ... also when only unchosen columns change.
SELECT store_register('item_names', 'items', ARRAY['id', 'name']);
SELECT store_version() AS v3 \gset
UPDATE items SET qty = 99 WHERE id = 3;
SELECT cache_key, item_id, state FROM store_history(:'v3');

-- Changing the primary key is a D of the old id and a C of the new one.
SELECT store_version() AS v4 \gset
UPDATE items SET id = 50 WHERE id = 5;
SELECT cache_key, item_id, state FROM store_history(:'v4') ORDER BY version;
SELECT store_get('items', '5') IS NULL AS old_gone, store_get('items', '50') AS new_doc;

-- A numeric change in scale only (1.0 -> 1.00) changes the document text: it is logged.
CREATE TABLE prices (id int PRIMARY KEY, amount numeric);
INSERT INTO prices VALUES (1, 1.0);
SELECT store_register('prices', 'prices');
SELECT store_version() AS v5 \gset
UPDATE prices SET amount = 1.00;
SELECT state, store_get('prices', '1') FROM store_history(:'v5');

-- ROLLBACK leaves store and history untouched.
SELECT store_version() AS v6 \gset
BEGIN;
INSERT INTO items (id, name) VALUES (100, 'rolled back');
DELETE FROM items WHERE id = 1;
ROLLBACK;
SELECT count(*) AS history_after_rollback FROM store_history(:'v6');
SELECT store_get('items', '100') IS NULL AS not_stored, store_get('items', '1') IS NOT NULL AS still_stored;

-- ROLLBACK TO SAVEPOINT undoes exactly its part.
BEGIN;
INSERT INTO items (id, name) VALUES (200, 'kept');
SAVEPOINT s1;
INSERT INTO items (id, name) VALUES (201, 'undone');
UPDATE items SET name = 'undone too' WHERE id = 200;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
UPDATE items SET qty = 2 WHERE id = 200;
RELEASE SAVEPOINT s2;
COMMIT;
SELECT cache_key, item_id, state FROM store_history(:'v6') ORDER BY version;
SELECT store_get('items', '200') AS kept, store_get('items', '201') AS undone;
SELECT in_sync('items');

-- A PL/pgSQL exception block is a subtransaction too.
DO $$
BEGIN
    INSERT INTO items (id, name) VALUES (300, 'inside');
    RAISE EXCEPTION 'boom';
EXCEPTION WHEN OTHERS THEN
    NULL;
END $$;
SELECT store_get('items', '300') IS NULL AS exception_rolled_back;

-- TRUNCATE empties the key and logs U with item_id NULL; other keys of other tables stay.
SELECT store_version() AS v7 \gset
TRUNCATE items;
SELECT cache_key, item_id, state FROM store_history(:'v7') ORDER BY version;
SELECT store_snapshot('items') -> 'items' AS items_after_truncate;
SELECT json_array_length(store_snapshot('prices') -> 'prices') AS prices_kept;

-- store_reload(key) rebuilds from the table (repairing drift) and logs U with item_id NULL.
INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b');
DELETE FROM store.entries WHERE key = 'items' AND id = '1';
UPDATE store.entries SET doc = '{"drifted": true}' WHERE key = 'items' AND id = '2';
SELECT in_sync('items') AS before_reload;
SELECT store_version() AS v8 \gset
SELECT store_reload('items');
SELECT in_sync('items') AS after_reload;
SELECT cache_key, item_id, state FROM store_history(:'v8');

-- store_reload() rebuilds every key and logs one F row with cache_key and item_id NULL.
DELETE FROM store.entries WHERE key = 'prices';
SELECT store_version() AS v9 \gset
SELECT store_reload();
SELECT cache_key, item_id, state FROM store_history(:'v9');
SELECT in_sync('items') AND in_sync('prices') AS all_in_sync;

-- store_get takes the id as text, in the key type's input syntax.
SELECT store_get('items', '2') AS by_text_id, store_get('items', '999') AS absent;
SELECT err($$SELECT store_get('items', 'abc')$$);
SELECT err($$SELECT store_get('items', NULL)$$);
SELECT err($$SELECT store_get(NULL, '1')$$);

-- store_history: every row has added_on and carries the version to ask with next.
SELECT bool_and(added_on IS NOT NULL) AS has_added_on,
       count(DISTINCT version) = 1 AS one_version_per_answer,
       min(version) = store_version() AS answer_version_is_current
  FROM store_history('0');
SELECT count(*) AS nothing_after_now FROM store_history(store_version());
-- The snapshot's version is the version of the snapshot it was read in.
SELECT store_snapshot() ->> 'version' = store_version() AS snapshot_version_is_current;

-- A writer with only table privileges keeps the store current but cannot write it directly.
CREATE ROLE store_test_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO store_test_writer;
-- (a new session, so the writer is the first to prepare the store's plans in it)
\c
SET ROLE store_test_writer;
INSERT INTO items (id, name) VALUES (400, 'by writer');
UPDATE items SET qty = 4 WHERE id = 400;
SELECT err($$INSERT INTO store.entries VALUES ('items', '1', '{}')$$);
SELECT err($$DELETE FROM store.history$$);
SELECT err($$SELECT store_register('x', 'items')$$);
RESET ROLE;
SELECT store_get('items', '400');
SELECT in_sync('items');

-- Calling the trigger function directly, or as the wrong kind of trigger, is refused.
SELECT err($$SELECT store.capture()$$);
CREATE TABLE other (id int PRIMARY KEY);
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH ROW EXECUTE FUNCTION store.capture('items');
SELECT err($$INSERT INTO other VALUES (1)$$);
DROP TRIGGER bad ON other;
CREATE TRIGGER bad AFTER INSERT ON other FOR EACH ROW EXECUTE FUNCTION store.capture('not_registered');
SELECT err($$INSERT INTO other VALUES (1)$$);
DROP TRIGGER bad ON other;
-- A store trigger attached to another table cannot write that key's documents.
CREATE TRIGGER bad AFTER INSERT ON other FOR EACH ROW EXECUTE FUNCTION store.capture('items');
SELECT err($$INSERT INTO other VALUES (2)$$);
CREATE TRIGGER bad_truncate AFTER TRUNCATE ON other FOR EACH STATEMENT EXECUTE FUNCTION store.capture('items');
SELECT err($$TRUNCATE other$$);
SELECT json_array_length(store_snapshot('items') -> 'items') > 0 AS items_untouched;

-- A store that drifted from its table (its trigger, set back to plain ENABLE by a superuser,
-- skipped while session_replication_role = replica) heals on the next write of each row: an
-- INSERT replaces the stale document, an UPDATE of a row the store lacks stores it. Each logs
-- its change once.
ALTER TABLE items ENABLE TRIGGER store_items;
SET session_replication_role = replica;
DELETE FROM items WHERE id = 2;
INSERT INTO items (id, name) VALUES (600, 'unseen');
SET session_replication_role = origin;
ALTER TABLE items ENABLE ALWAYS TRIGGER store_items;
SELECT count(*) AS drifted FROM store_verify('items');
SELECT store_version() AS v_drift \gset
INSERT INTO items (id, name) VALUES (2, 'again');
UPDATE items SET qty = 6 WHERE id = 600;
SELECT cache_key, item_id, state FROM store_history(:'v_drift') WHERE cache_key = 'items';
SELECT count(*) AS entries_of_2 FROM store.entries WHERE key = 'items' AND id = '2';
SELECT in_sync('items') AS healed;

-- A prepared transaction cannot notify, so PREPARE of a store write is refused.
BEGIN;
INSERT INTO items (id, name) VALUES (500, 'prepared');
PREPARE TRANSACTION 'store_test';
SELECT store_get('items', '500') IS NULL AS not_stored;

-- The extension dropped and created again within one transaction: the trigger writes the new
-- store tables, not the dropped ones it wrote a moment before.
CREATE TABLE reborn (id int PRIMARY KEY, v text);
SELECT store_register('reborn', 'reborn');
BEGIN;
INSERT INTO reborn VALUES (1, 'old store');
SET LOCAL client_min_messages = warning;
DROP EXTENSION store CASCADE;
CREATE EXTENSION store;
SELECT store_register('reborn', 'reborn');
INSERT INTO reborn VALUES (2, 'new store');
SELECT store_get('reborn', '2') AS written_to_the_new_store;
COMMIT;
DROP TABLE reborn;

DROP TABLE other;
DROP OWNED BY store_test_writer;
DROP ROLE store_test_writer;
SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE items, prices;
DROP FUNCTION err(text), in_sync(text);
