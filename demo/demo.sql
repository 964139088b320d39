-- The demo: register a table, read the whole store in one call, change a row inside a
-- transaction, receive the NOTIFY, and read the change back from the history.
\set ON_ERROR_STOP on
\pset pager off
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION store;
\ir schema.sql

\echo
\echo '== 1. register the table: its rows become documents under the key "items"'
SELECT store_register('items', 'items');

\echo '== 2. the whole store in one call'
SELECT store_snapshot();
SELECT store_snapshot() ->> 'version' AS version \gset

\echo '== 3. a client listens; a writer changes a row (psql shows the notification after the command)'
LISTEN store;
BEGIN;
UPDATE items SET price = 8.99 WHERE id = 1;
INSERT INTO items (id, name) VALUES (3, 'baz');
COMMIT;

\echo '== 4. what changed after the version the client holds'
SELECT * FROM store_history(:'version');

\echo '== 5. one document, and the store again'
SELECT store_get('items', '3');
SELECT store_snapshot();
