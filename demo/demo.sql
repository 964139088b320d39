-- The demo: register a table, read the whole store in one call, change rows inside a
-- transaction, receive the NOTIFY, and read the change back: as history rows and as one delta.
\set ON_ERROR_STOP on
\pset pager off
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION store;
\ir schema.sql

\echo
\echo '== 1. register the table: its rows become documents under the key "items"'
SELECT store_register('items', 'items');

\echo '== 2. the whole store in one call; the client keeps its "version"'
SELECT store_snapshot();
SELECT store_snapshot() ->> 'version' AS version \gset

\echo '== 3. the client listens; a writer changes two rows in one transaction (psql shows the notification)'
LISTEN store;
BEGIN;
UPDATE items SET price = 8.99 WHERE id = 1;
INSERT INTO items (id, name) VALUES (3, 'baz');
COMMIT;

\echo '== 4. what changed after the version the client holds: history rows ...'
SELECT * FROM store_history(:'version');
\echo '== ... or the same as one delta to apply (each item at its last state)'
SELECT store_changes(:'version');

\echo '== 5. one document'
SELECT store_get('items', '3');
