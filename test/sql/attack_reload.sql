-- Reloads and their locks: a reload holds SHARE ROW EXCLUSIVE on the key's table — writers wait
-- for it, and so does a second reload of the table (self-exclusive: two reloads of one key used
-- to both hold SHARE and collide with 23505; see test/specs/concurrent_reloads.spec for the
-- interleavings) — but readers of the table do not. Only a reload that has triggers to repair
-- takes ACCESS EXCLUSIVE, like the DDL it runs; unregistering takes it before forgetting the key.
CREATE EXTENSION store;
CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3) g;
CREATE TABLE other (id int PRIMARY KEY);
SELECT store_register('items', 'items');
SELECT store_register('other', 'other');
-- The locks this transaction holds on the registered tables.
CREATE FUNCTION my_locks() RETURNS TABLE (relation regclass, mode text) LANGUAGE sql AS $$
    SELECT l.relation::regclass, l.mode FROM pg_locks AS l
     WHERE l.pid = pg_backend_pid() AND l.relation IN ('items'::regclass, 'other'::regclass)
     ORDER BY 1, 2
$$;

BEGIN;
SELECT store_reload('items');
SELECT * FROM my_locks();
-- a second reload of the same key in the same transaction finds its own documents and replaces them
SELECT store_reload('items');
COMMIT;
BEGIN;
SELECT store_reload();
SELECT * FROM my_locks();
COMMIT;
SELECT count(*) AS problems FROM store_verify();

-- Under REPEATABLE READ and SERIALIZABLE, alone, a reload works as under READ COMMITTED.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT store_reload('items');
SELECT store_reload('items');
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT store_reload();
COMMIT;
SELECT count(*) AS problems FROM store_verify();

-- A reload that repairs a trigger (here one set to plain ENABLE, which the guards allow: it is
-- turned back into ENABLE ALWAYS) locks like the DDL it runs.
ALTER TABLE items ENABLE TRIGGER store_items;
BEGIN;
SELECT store_reload('items');
SELECT * FROM my_locks();
COMMIT;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'items'::regclass ORDER BY tgname;

-- Unregistering locks the table before it forgets the key.
BEGIN;
SELECT store_unregister('items');
SELECT * FROM my_locks();
COMMIT;
SELECT count(*) AS entries_left FROM store.entries WHERE key = 'items';

DROP EXTENSION store CASCADE;
DROP TABLE items, other;
DROP FUNCTION my_locks();
