-- DDL after nested writes in one transaction (issue 11, B6): the flush of a nested key is a
-- deferred constraint trigger, and PostgreSQL refuses TRUNCATE, ALTER TABLE, CREATE INDEX and the
-- like on a table with pending trigger events. Before such a command the store fires its own
-- pending flush events (and only those: a user's deferred trigger still blocks the command), so
-- `BEGIN; INSERT ...; TRUNCATE ...; COMMIT` works. After each scenario every document equals the
-- on-the-fly nested query and store_verify() is empty; history keeps one row per document.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
SET jit = off;

CREATE TABLE orders (id int PRIMARY KEY, status text);
CREATE TABLE product (id int PRIMARY KEY, name text);
CREATE TABLE line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders ON DELETE CASCADE,
                   product_id int REFERENCES product, qty int);
CREATE INDEX ON line (order_id);
CREATE INDEX ON line (product_id);
INSERT INTO orders VALUES (1, 'open'), (2, 'open');
INSERT INTO product VALUES (1, 'pen');
INSERT INTO line VALUES (10, 1, 1, 2), (20, 2, NULL, 5);
SELECT store_register('o', 'orders', shape => 'id,status,lines:line(id,qty,product(name))');

\set nested_checks_sql :abs_srcdir '/sql/include/nested_checks.sql'
\i :nested_checks_sql

-- An INSERT, then TRUNCATE of the same embedded table: the insert's flush runs first (U of order
-- 1), then the TRUNCATE rebuilds the key (key-level U).
BEGIN;
INSERT INTO line VALUES (11, 1, NULL, 3);
TRUNCATE line;
COMMIT;
SELECT * FROM changes();
SELECT check_docs();

-- Writes, ALTER TABLE ... ADD COLUMN of a reached table, more writes: one history row per
-- document (the second flush merges into the row the first wrote).
BEGIN;
INSERT INTO line VALUES (12, 1, 1, 1);
ALTER TABLE line ADD COLUMN note text;
UPDATE line SET qty = 7 WHERE id = 12;
INSERT INTO line VALUES (21, 2, NULL, 1, 'x');
COMMIT;
SELECT * FROM changes();
SELECT check_docs();

-- CREATE INDEX and a to-one target's ALTER TABLE after writing to it; a root row's TRUNCATE
-- ... CASCADE after writes to root and child (one key-level U for both truncated tables).
BEGIN;
UPDATE product SET name = 'pencil' WHERE id = 1;
CREATE INDEX ON line (qty);
ALTER TABLE product ADD COLUMN price numeric;
COMMIT;
SELECT * FROM changes();
SELECT check_docs();
BEGIN;
INSERT INTO orders VALUES (3, 'new');
INSERT INTO line VALUES (30, 3, NULL, 1);
TRUNCATE orders CASCADE;
INSERT INTO orders VALUES (4, 'after');
COMMIT;
SELECT * FROM changes();
SELECT check_docs();
SELECT id, doc FROM store.entries WHERE key = 'o' ORDER BY id;

-- In a function; and a TRUNCATE rolled back to a savepoint: the flush it caused rolls back with it
-- (and its events are pending again: they flush at commit), the rebuild goes.
INSERT INTO orders VALUES (1, 'open');
SELECT * FROM changes();
DO $$ BEGIN INSERT INTO line VALUES (13, 1, NULL, 9); TRUNCATE line; INSERT INTO line VALUES (14, 1, NULL, 4); END $$;
SELECT * FROM changes();
SELECT check_docs();
BEGIN;
INSERT INTO line VALUES (15, 1, NULL, 5);
SAVEPOINT s;
TRUNCATE line;
ROLLBACK TO s;
UPDATE line SET qty = 6 WHERE id = 15;
COMMIT;
SELECT * FROM changes();
SELECT check_docs();
SELECT doc FROM store.entries WHERE key = 'o' AND id = '1';

-- A user's own pending deferred trigger still blocks the command (PostgreSQL's rule), and the
-- store leaves that trigger deferred.
CREATE FUNCTION user_check() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'user_check fired'; RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER user_check AFTER INSERT ON line DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION user_check();
BEGIN;
INSERT INTO line VALUES (16, 1, NULL, 1);
SELECT err('TRUNCATE line');
SELECT err('ALTER TABLE line ADD COLUMN other int');
SELECT 'before commit' AS step;
COMMIT;
SELECT * FROM changes();
SELECT check_docs();
DROP TRIGGER user_check ON line;

-- store_unregister after writes in the same transaction (its DROP TRIGGERs drain the flush events
-- first: the key, forgotten already, has nothing to flush), and registering again in it.
BEGIN;
INSERT INTO line VALUES (17, 1, NULL, 1);
SELECT store_unregister('o');
COMMIT;
SELECT count(*) AS documents FROM store.entries WHERE key = 'o';
SELECT store_register('o', 'orders', shape => 'id,status,lines:line(id,qty,product(name))');
BEGIN;
INSERT INTO line VALUES (18, 1, NULL, 1);
SELECT store_unregister('o');
SELECT store_register('o', 'orders', shape => 'id,status,lines:line(id,qty,product(name))');
INSERT INTO line VALUES (19, 1, NULL, 1);
COMMIT;
SELECT check_docs();

SELECT store_unregister('o');
DROP TABLE line, orders, product, mark;
DROP FUNCTION changes(), check_docs(text), user_check();
DROP EXTENSION store;
DROP FUNCTION err(text);
