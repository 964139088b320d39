-- DDL on registered tables: documents follow ADD/DROP/RENAME COLUMN and type changes in the same
-- transaction, a change that would drop a chosen column or the primary key is refused, renaming
-- the table or moving its schema keeps it working, DROP TABLE unregisters and logs; store_verify
-- finds drift and store_reload repairs it.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE FUNCTION docs() RETURNS jsonb LANGUAGE sql AS $$ SELECT store_snapshot()::jsonb - 'version' $$;

CREATE TABLE items (id int PRIMARY KEY, name text, qty int);
INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2);
SELECT store_register('items', 'items');
SELECT store_register('names', 'items', ARRAY['id', 'name']);
SELECT store_version() AS v \gset

-- ADD COLUMN: the all-columns key gains it at once; the chosen-columns key is untouched.
ALTER TABLE items ADD COLUMN color text DEFAULT 'red';
SELECT docs();
SELECT cache_key, item_id, state FROM store_history(:'v');
-- RENAME COLUMN: both keys follow the new name.
SELECT store_version() AS v \gset
ALTER TABLE items RENAME COLUMN name TO title;
SELECT docs();
SELECT key, columns FROM store.keys ORDER BY key;
SELECT cache_key, item_id, state FROM store_history(:'v');
INSERT INTO items VALUES (3, 'c', 3, 'blue');
SELECT store_get('names', '3');
-- A type change re-renders the documents.
ALTER TABLE items ALTER COLUMN qty TYPE numeric(6, 2);
SELECT store_get('items', '1');
-- DDL that leaves the documents as they are logs nothing.
SELECT store_version() AS v \gset
ALTER TABLE items ADD CONSTRAINT qty_positive CHECK (qty > 0);
ALTER TABLE items ALTER COLUMN color SET DEFAULT 'green';
SELECT count(*) AS history_rows FROM store_history(:'v');
-- Dropping an unchosen column changes only the all-columns key.
ALTER TABLE items DROP COLUMN color;
SELECT cache_key, item_id, state FROM store_history(:'v');
-- Dropping a chosen column, or the primary key, is refused; nothing changes.
SELECT err($$ALTER TABLE items DROP COLUMN title$$);
SELECT err($$ALTER TABLE items DROP CONSTRAINT items_pkey$$);
SELECT err($$ALTER TABLE items DROP COLUMN id$$);
SELECT count(*) AS columns_kept FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname IN ('title', 'qty');
-- Renaming the table or moving it to another schema keeps it registered and captured.
ALTER TABLE items RENAME TO things;
CREATE SCHEMA shop;
ALTER TABLE things SET SCHEMA shop;
INSERT INTO shop.things VALUES (4, 'd', 4);
SELECT store_get('items', '4'), store_get('names', '4');
SELECT key, source FROM store.keys ORDER BY key;
SELECT count(*) AS problems FROM store_verify();

-- store_verify reports drift (missing, extra, different documents); store_reload repairs it.
DELETE FROM store.entries WHERE key = 'items' AND id = '1';
INSERT INTO store.entries VALUES ('items', '99', '{"id": 99}');
UPDATE store.entries SET doc = (doc::jsonb || '{"title": "tampered"}')::json WHERE key = 'names' AND id = '2';
SELECT * FROM store_verify();
SELECT * FROM store_verify('names');
SELECT err($$SELECT * FROM store_verify('nope')$$);
SELECT store_reload();
SELECT count(*) AS problems_after_reload FROM store_verify();

-- DROP TABLE unregisters its keys and logs D with item_id NULL; other keys stay.
CREATE TABLE other (id int PRIMARY KEY);
SELECT store_register('other', 'other');
SELECT store_version() AS v \gset
DROP TABLE shop.things;
SELECT key FROM store.keys;
SELECT count(*) AS entries_left FROM store.entries WHERE key IN ('items', 'names');
SELECT cache_key, item_id, state FROM store_history(:'v');
SELECT docs();
-- Dropping an unregistered table, or a whole schema, works as usual.
CREATE TABLE plain (id int);
DROP TABLE plain;
CREATE TABLE shop.more (id int PRIMARY KEY);
SELECT store_register('more', 'shop.more');
DROP SCHEMA shop CASCADE;
SELECT key FROM store.keys;

-- A table owner without any store privilege can alter and drop a registered table.
CREATE ROLE store_test_owner;
GRANT CREATE ON SCHEMA public TO store_test_owner;
SET ROLE store_test_owner;
CREATE TABLE owned (id int PRIMARY KEY, note text);
INSERT INTO owned VALUES (1, 'x');
RESET ROLE;
SELECT store_register('owned', 'owned');
SET ROLE store_test_owner;
ALTER TABLE owned ADD COLUMN extra int DEFAULT 7;
SELECT store_get('owned', '1') AS owner_reads_its_key;
DROP TABLE owned;
RESET ROLE;
SELECT count(*) AS owned_keys FROM store.keys WHERE key = 'owned';

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
REVOKE CREATE ON SCHEMA public FROM store_test_owner;
DROP ROLE store_test_owner;
DROP TABLE other;
DROP FUNCTION err(text), docs();
