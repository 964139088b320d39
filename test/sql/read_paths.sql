-- The readers run no PL/pgSQL of their own: store_changes, store_history, store_get and
-- store_snapshot(key) read in C++ with plain SQL statements. Counted with track_functions = 'pl'
-- in this transaction's function statistics, across their paths: pages, "more", F rows, removed
-- keys, row-level security, refusals. The one PL/pgSQL function left is reached through the SQL
-- functions deciding who may read what (store._may_read's store._shape, and store._id_expression
-- in store._visibility_query): store._primary_key_columns.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE TABLE items (id int PRIMARY KEY, name text);
CREATE TABLE notes (id int PRIMARY KEY, body text, author text);
CREATE TABLE gone (id int PRIMARY KEY);
CREATE TABLE secret (id int PRIMARY KEY);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5) AS g;
INSERT INTO notes VALUES (1, 'mine', 'store_paths_reader'), (2, 'theirs', 'someone else');
SELECT store_register('items', 'items'), store_register('notes', 'notes'), store_register('gone', 'gone'),
       store_register('secret', 'secret');
SELECT store_version() AS v0 \gset
UPDATE items SET name = 'changed' WHERE id = 1;
DELETE FROM items WHERE id = 2;
INSERT INTO items VALUES (6, 'new');
UPDATE notes SET body = 'mine, changed' WHERE id = 1;
SELECT store_unregister('gone');
SELECT store_version() AS v1 \gset
SELECT store_reload();
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON notes USING (author = current_user);
CREATE ROLE store_paths_reader;
GRANT SELECT ON items, notes TO store_paths_reader;
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE items DISABLE TRIGGER store_items;
ALTER EVENT TRIGGER store_triggers ENABLE;

SET track_functions = 'pl';
BEGIN;
SELECT store_changes(:'v0') IS NOT NULL AS changes, store_changes(:'v1') IS NOT NULL AS after_reload,
       (store_changes('0', 1) ->> 'more') AS more;
SELECT count(*) > 0 AS history FROM store_history(:'v0');
SELECT count(*) > 0 AS history_from_start FROM store_history('0');
SELECT store_get('notes', '1') IS NOT NULL AS got, store_snapshot('notes') IS NOT NULL AS snapshot;
SELECT err($$SELECT store_get('items', '1')$$);
SELECT err($$SELECT store_get('nothing', '1')$$);
SELECT err($$SELECT store_changes('not a version')$$);
SET ROLE store_paths_reader;
SELECT store_changes(:'v0') IS NOT NULL AS changes, count(*) > 0 AS history FROM store_history(:'v0');
SELECT store_get('notes', '1') IS NOT NULL AS got, store_get('notes', '2') IS NULL AS hidden;
SELECT err($$SELECT store_get('secret', '1')$$);
RESET ROLE;
SELECT s.funcname FROM pg_stat_xact_user_functions AS s WHERE s.schemaname = 'store' ORDER BY 1;
COMMIT;
RESET track_functions;
SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE items, notes, gone, secret;
DROP FUNCTION err(text);
DROP ROLE store_paths_reader;
