-- The change feed: versions as cursors, store_changes deltas, retention and reload markers,
-- and every kind of bad version.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
-- delta(v): store_changes after v without its (database-specific) version.
CREATE FUNCTION delta(v text) RETURNS jsonb LANGUAGE sql AS $$ SELECT store_changes(v)::jsonb - 'version' $$;

CREATE TABLE items (id int PRIMARY KEY, name text);
CREATE TABLE tags (code text PRIMARY KEY, label text);
INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO tags VALUES ('a', 'A');
SELECT store_register('items', 'items');
SELECT store_register('tags', 'tags');

-- A version is a string: 8 hex digits of store identity, then xmin:xmax:running transactions.
SELECT store_version() ~ '^[0-9a-f]{8}:[0-9]+:[0-9]+:[0-9,]*$' AS version_shape;
SELECT split_part(store_version(), ':', 1) AS store_id \gset

-- Nothing after the current version.
SELECT store_version() AS v0 \gset
SELECT delta(:'v0');

-- store_changes coalesces each item to its last state: created-then-deleted is a delete, two
-- updates are one upsert, a primary-key change deletes the old id and upserts the new one.
INSERT INTO items VALUES (10, 'ten');
DELETE FROM items WHERE id = 10;
UPDATE items SET name = 'ONE' WHERE id = 1;
UPDATE items SET name = 'One' WHERE id = 1;
UPDATE items SET id = 30 WHERE id = 3;
INSERT INTO tags VALUES ('b', 'B');
SELECT delta(:'v0');
SELECT cache_key, item_id, state FROM store_history(:'v0');
-- The version in the answer is where to continue: nothing after it.
SELECT count(*) AS after_answer FROM store_history((SELECT store_changes(:'v0') ->> 'version'));

-- A key truncated or reloaded after the version comes back whole.
SELECT store_version() AS v1 \gset
TRUNCATE tags;
INSERT INTO tags VALUES ('c', 'C');
UPDATE items SET name = 'Two' WHERE id = 2;
SELECT delta(:'v1');
SELECT store_version() AS v2 \gset
SELECT store_reload('items');
SELECT delta(:'v2');
-- A full reload replaces every key; an unregistered key is marked removed.
SELECT store_version() AS v3 \gset
SELECT store_reload();
SELECT store_unregister('tags');
SELECT delta(:'v3');
SELECT store_register('tags', 'tags');

-- A transaction that changed the store cannot read versions: its data could still roll back, and
-- its later writes would fall behind the version. store_get still reads its own writes.
BEGIN;
SELECT store_version() AS v4 \gset
INSERT INTO items VALUES (40, 'mine');
SELECT err($$SELECT store_snapshot()$$);
SELECT err($$SELECT store_snapshot('items')$$);
SELECT err(format('SELECT * FROM store_history(%L)', :'v4'));
SELECT err(format('SELECT store_changes(%L)', :'v4'));
SELECT err($$SELECT store_version()$$);
SELECT store_get('items', '40') ->> 'name' AS reads_its_own_write;
COMMIT;
SELECT cache_key, item_id, state FROM store_history(:'v4');
-- Once its store changes are rolled back to a savepoint, it may read again.
BEGIN;
SAVEPOINT s;
INSERT INTO items VALUES (41, 'undone');
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS after_savepoint_rollback FROM store_history(:'v4');
COMMIT;
-- A statement that reads a version and then writes (its triggers fire after the read): the
-- change stays after the version it read.
WITH w AS (UPDATE items SET name = 'written after the read' WHERE id = 40 RETURNING 1)
SELECT store_version() AS v5 FROM w \gset
SELECT cache_key, item_id, state FROM store_history(:'v5');

-- Retention: store_compact drops history older than keep; a version older than what is kept
-- gets one F row from store_history and reload: true from store_changes.
SELECT store_version() AS v5 \gset
UPDATE items SET name = 'kept' WHERE id = 1;
SELECT store_compact('1 hour') AS removed_nothing;
SELECT delta(:'v5');
SELECT store_compact('0 seconds') > 0 AS removed_everything;
SELECT count(*) AS history_rows_left FROM store.history;
SELECT cache_key, item_id, state FROM store_history(:'v5');
SELECT delta(:'v5');
SELECT cache_key, item_id, state FROM store_history('0');
SELECT delta('0');
-- A version taken after the compaction is not too old.
SELECT store_version() AS v6 \gset
UPDATE items SET name = 'after compaction' WHERE id = 1;
SELECT cache_key, item_id, state FROM store_history(:'v6');
SELECT err($$SELECT store_compact(NULL)$$);
SELECT err($$SELECT store_compact('-1 day')$$);

-- Bad versions: malformed, foreign (another store), ahead of this store, NULL.
SELECT err($$SELECT * FROM store_history('')$$);
SELECT err($$SELECT * FROM store_history('abc')$$);
SELECT err($$SELECT * FROM store_history('42')$$);
SELECT err($$SELECT * FROM store_history('-1')$$);
SELECT err($$SELECT * FROM store_history('1.5')$$);
SELECT err($$SELECT * FROM store_history('0a1b2c3d:5:4:')$$);
SELECT err($$SELECT * FROM store_history('0a1b2c3d:5:9:7,6')$$);
SELECT err($$SELECT * FROM store_history('0a1b2c3d:5:9:12')$$);
SELECT err($$SELECT * FROM store_history('0a1b2c3d:5:9:7;DROP TABLE items')$$);
SELECT err(format('SELECT * FROM store_history(%L)', repeat('9', 10000)));
SELECT err($$SELECT * FROM store_history(NULL)$$);
SELECT err($$SELECT store_changes(NULL)$$);
SELECT err($$SELECT store_changes('nope')$$);
SELECT regexp_replace(err(format('SELECT * FROM store_history(%L)',
       CASE WHEN :'store_id' = 'ffffffff' THEN 'fffffffe' ELSE 'ffffffff' END || ':5:9:')),
       '\(\w+, this store is \w+\)', '(...)') AS foreign_version;
SELECT replace(err(format('SELECT * FROM store_history(%L)', :'store_id' || ':5:99999999999:')),
               :'store_id', 'ID') AS future_version;
SELECT replace(err(format('SELECT store_changes(%L)', :'store_id' || ':5:99999999999:')),
               :'store_id', 'ID') AS future_version;
SELECT count(*) AS own_version_accepted FROM store_history(:'store_id' || ':5:5:');

-- A role that may read the table can use every read function, without any grant on the store.
CREATE ROLE store_test_reader;
GRANT SELECT ON items TO store_test_reader;
SET ROLE store_test_reader;
SELECT store_version() AS reader_version \gset
SELECT json_array_length(store_snapshot() -> 'items') > 0 AS snapshot_ok,
       store_snapshot('items') IS NOT NULL AS snapshot_of_key_ok,
       store_get('items', '1') ->> 'name' AS get_ok,
       (SELECT count(*) FROM store_history(:'reader_version')) AS history_ok,
       store_changes(:'reader_version')::jsonb - 'version' AS changes_ok;
SELECT err($$SELECT store_compact('1 day')$$) AS compact_refused;
RESET ROLE;
DROP OWNED BY store_test_reader;
DROP ROLE store_test_reader;

DROP TABLE items, tags CASCADE;
SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP FUNCTION err(text), delta(text);
