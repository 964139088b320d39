-- store_register / store_unregister / store_snapshot: registration, document shape, bad input.
CREATE EXTENSION store;

\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

-- masked(json): the JSON text with its version (different in every database) replaced by "V".
CREATE FUNCTION masked(j json) RETURNS text LANGUAGE sql AS
    $$ SELECT regexp_replace(j::text, '"version":"[0-9a-f]{8}:[0-9]+:[0-9]+:[0-9,]*"', '"version":"V"') $$;

CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO items VALUES (2, 'bar'), (1, 'foo'), (10, 'ten');

-- An empty store: only the version.
SELECT masked(store_snapshot());

SELECT store_register('items', 'items');
-- Docs in primary-key order (10 after 2: numeric order, not text order).
SELECT masked(store_snapshot());
SELECT masked(store_snapshot('items'));
SELECT key, source, columns FROM store.keys;
SELECT cache_key, item_id, state FROM store_history('0');

-- Every PostgreSQL type renders as to_json renders it.
CREATE TABLE kinds (
    code text PRIMARY KEY,
    i int, b bigint, n numeric, f float8, flag bool,
    ts timestamp, tstz timestamptz, d date,
    arr int[], tags text[], j json, jb jsonb, u uuid, nothing text, quoted text
);
SET timezone = 'UTC';
INSERT INTO kinds VALUES ('k1', 1, 9007199254740993, 1.50, 0.1, true,
    '2021-08-19 14:52:12.5', '2021-08-19 14:52:12+02', '2021-08-19',
    '{1,2}', '{a,"b c"}', '{"x": [1, 2]}', '{"y": {"z": null}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL,
    E'say "hi"\\n\u00e9');
SELECT store_register('kinds', 'kinds');
SELECT store_get('kinds', 'k1');
-- The stored document is exactly the text to_json renders for the row.
SELECT count(*) AS mismatches
  FROM kinds AS k
 WHERE store_get('kinds', k.code)::text IS DISTINCT FROM to_json(k)::text;

-- A chosen column list serializes only those columns (secrets stay out of the store).
CREATE TABLE users (id bigint PRIMARY KEY, login text, password_hash text, email text);
INSERT INTO users VALUES (7, 'ann', 'secret', 'ann@example.com');
SELECT store_register('users', 'users', ARRAY['id', 'login']);
SELECT masked(store_snapshot('users'));
SELECT count(*) AS secret_in_store FROM store.entries WHERE doc::text LIKE '%secret%';
-- A schema-qualified, mixed-case table name works.
CREATE SCHEMA "Shop";
CREATE TABLE "Shop"."Order Lines" ("Id" text PRIMARY KEY, qty int);
INSERT INTO "Shop"."Order Lines" VALUES ('b', 2), ('a', 1);
SELECT store_register('order_lines', '"Shop"."Order Lines"');
SELECT masked(store_snapshot('order_lines'));
-- Two keys over one table, each with its own columns and triggers.
SELECT store_register('item_names', 'items', ARRAY['name']);
SELECT masked(store_snapshot('item_names'));
-- The whole store: keys in name order, then the version.
SELECT masked(store_snapshot());
-- store_snapshot_rows streams the same text in chunks of at most one document.
SELECT string_agg(c, '') = store_snapshot()::text AS rows_concatenate_to_the_snapshot,
       count(*) AS chunks
  FROM store_snapshot_rows() AS r(c);
SELECT string_agg(c, '') = store_snapshot('items')::text AS rows_of_one_key
  FROM store_snapshot_rows('items') AS r(c);
SELECT regexp_replace(c, '"version":"[^"]*"', '"version":"V"') AS chunk FROM store_snapshot_rows('users') AS r(c);
SELECT err($$SELECT * FROM store_snapshot_rows('nope')$$);
-- In FROM it is inlined: the chunks stream one per call (ProjectSet), no tuplestore (Function Scan).
EXPLAIN (COSTS OFF) SELECT c FROM store_snapshot_rows('items') AS r(c);
-- A caller that stops early ends the stream's scan (LIMIT), and one in the select list streams too.
SELECT c FROM store_snapshot_rows('items') AS r(c) LIMIT 2;
SELECT string_agg(c, '') = store_snapshot('items')::text AS select_list_rows
  FROM (SELECT store_snapshot_chunks('items') AS c) AS s;
SELECT json_typeof(store_snapshot() -> 'version') AS version_type,
       store_snapshot() ->> 'version' = store_version() AS version_is_current;

-- Bad input: a clear error, and nothing half-done.
SELECT count(*) AS keys_before FROM store.keys;
SELECT err($$SELECT store_register('items', 'items')$$);
SELECT err($$SELECT store_register('version', 'items')$$);
SELECT err($$SELECT store_register('history', 'items')$$);
-- the gateway's routes /store/changes/, /store/events, /store/ws
SELECT err($$SELECT store_register('changes', 'items')$$);
SELECT err($$SELECT store_register('events', 'items')$$);
SELECT err($$SELECT store_register('ws', 'items')$$);
SELECT err($$SELECT store_register('Items', 'items')$$);
SELECT err($$SELECT store_register('1items', 'items')$$);
SELECT err($$SELECT store_register('it-ems', 'items')$$);
SELECT err($$SELECT store_register('', 'items')$$);
SELECT err($$SELECT store_register('items; DROP TABLE items', 'items')$$);
SELECT err(format('SELECT store_register(%L, %L)', repeat('k', 49), 'items'));
SELECT err($$SELECT store_register(NULL, 'items')$$);
SELECT err($$SELECT store_register('other', NULL)$$);
SELECT err($$SELECT store_register('other', 'no_such_table')$$);
CREATE TABLE nokey (id int, name text);
SELECT err($$SELECT store_register('nokey', 'nokey')$$);
-- A composite primary key registers (ids are arrays: see tables.sql).
CREATE TABLE pairs (a int, b int, PRIMARY KEY (a, b));
SELECT err($$SELECT store_register('pairs', 'pairs')$$);
CREATE TABLE deferred (id int PRIMARY KEY DEFERRABLE, name text);
SELECT err($$SELECT store_register('deferred', 'deferred')$$);
SELECT err($$SELECT store_register('own', 'store.history')$$);
SELECT err($$SELECT store_register('own', 'store.entries')$$);
-- A primary key with INCLUDE columns is still a single-column key.
CREATE TABLE covered (id int, label text, PRIMARY KEY (id) INCLUDE (label));
INSERT INTO covered VALUES (1, 'one');
SELECT store_register('covered', 'covered');
INSERT INTO covered VALUES (2, 'two');
SELECT masked(store_snapshot('covered'));
SELECT store_unregister('covered');
CREATE VIEW item_view AS SELECT * FROM items;
SELECT err($$SELECT store_register('item_view', 'item_view')$$);
CREATE MATERIALIZED VIEW item_mv AS SELECT * FROM items;
SELECT err($$SELECT store_register('item_mv', 'item_mv')$$);
SELECT err($$SELECT store_register('other', 'items', ARRAY['id', 'nope'])$$);
SELECT err($$SELECT store_register('other', 'items', ARRAY['id', 'id'])$$);
SELECT err($$SELECT store_register('other', 'items', ARRAY[]::text[])$$);
SELECT err($$SELECT store_register('other', 'items', ARRAY['id', NULL])$$);
SELECT count(*) AS keys_after FROM store.keys;
SELECT count(*) AS stray_triggers FROM pg_trigger
 WHERE tgname LIKE 'store_other%' OR tgname LIKE 'store_nokey%' OR tgname LIKE 'store_own%';

-- Unknown keys are an error for every function that takes a key.
SELECT err($$SELECT store_snapshot('nope')$$);
SELECT err($$SELECT store_get('nope', '1')$$);
SELECT err($$SELECT store_unregister('nope')$$);
SELECT err($$SELECT store_reload('nope')$$);
SELECT err($$SELECT store_snapshot(NULL)$$);

-- Unregister removes triggers and documents, logs D with item_id NULL, and frees the key.
SELECT store_version() AS before_unregister \gset
SELECT store_unregister('item_names');
SELECT count(*) AS entries_left FROM store.entries WHERE key = 'item_names';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal ORDER BY tgname;
SELECT cache_key, item_id, state FROM store_history(:'before_unregister');
SELECT store_register('item_names', 'items', ARRAY['id', 'name']);
SELECT masked(store_snapshot('item_names'));

-- The store triggers depend on the extension: DROP EXTENSION needs CASCADE, which drops them.
SELECT err('DROP EXTENSION store');
SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
-- The user's tables and their data survive the extension, without store triggers.
SELECT count(*) AS items_rows FROM items;
SELECT count(*) AS store_triggers FROM pg_trigger WHERE tgname LIKE 'store\_%';
DROP TABLE items, kinds, users, "Shop"."Order Lines", nokey, pairs, deferred, covered CASCADE;
DROP SCHEMA "Shop";
DROP FUNCTION err(text), masked(json);
