-- Nested keys under attack, round 2: the hook that fires the store's pending flush events before
-- DDL must fire only the store's own flush triggers, and never run a user's code as a superuser.
SET client_min_messages = warning;
CREATE EXTENSION store;
DROP ROLE IF EXISTS na2_owner;
DROP ROLE IF EXISTS na2_app;
DROP ROLE IF EXISTS na2_dropped;
RESET client_min_messages;
CREATE ROLE na2_owner;
CREATE ROLE na2_app;
CREATE SCHEMA na2 AUTHORIZATION na2_owner;
SET ROLE na2_owner;
CREATE TABLE na2.orders (id int PRIMARY KEY, title text);
CREATE TABLE na2.lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES na2.orders, qty int);
CREATE INDEX ON na2.lines (order_id);
INSERT INTO na2.orders VALUES (1, 'a');
GRANT USAGE, CREATE ON SCHEMA na2 TO na2_app;
GRANT SELECT, INSERT, UPDATE ON na2.lines TO na2_app;
RESET ROLE;
SELECT store_register('na2_orders', 'na2.orders', shape => 'id,title,lines(id,qty)');

-- A writer without any right on the schema store writes a reached table, then runs DDL on a table
-- of its own in the same transaction: the drain must not need USAGE on the schema store.
SET ROLE na2_app;
CREATE TABLE na2.mine (x int);
CREATE TABLE na2.seen (superuser bool, who name);
CREATE TABLE na2.other (x int);
BEGIN;
INSERT INTO na2.lines VALUES (10, 1, 1);
TRUNCATE na2.mine;
CREATE INDEX mine_x ON na2.mine (x);
DROP INDEX na2.mine_x;
COMMIT;
RESET ROLE;
SELECT store_get('na2_orders', '1');

-- The drained flush fails inside a block that catches the error: the block's subtransaction rolls
-- back the flush and the flush triggers' IMMEDIATE mode; the changes stay pending (the next write
-- is not flushed at once) and are flushed at commit, once the owner may read the table again.
CREATE TABLE na2.scratch (x int);
BEGIN;
DO $$
DECLARE
    d text;
BEGIN
    INSERT INTO na2.lines VALUES (12, 1, 1);
    REVOKE SELECT ON na2.lines FROM na2_owner;
    BEGIN
        TRUNCATE na2.scratch;
        RAISE NOTICE 'the drained flush did not fail';
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'caught: %', SQLERRM;
    END;
    GRANT SELECT ON na2.lines TO na2_owner;
    INSERT INTO na2.lines VALUES (13, 1, 1);
    SELECT e.doc INTO d FROM store.entries AS e WHERE e.key = 'na2_orders';
    RAISE NOTICE 'before commit: %', d;
END $$;
COMMIT;
SELECT store_get('na2_orders', '1');

-- A writer's own deferred constraint trigger named like the key's flush trigger, in the same
-- schema: the drain before TRUNCATE must not fire it (as a superuser, or at all): the TRUNCATE of
-- its table, which has pending events, is refused as PostgreSQL refuses it.
SET ROLE na2_app;
CREATE FUNCTION na2.spy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO na2.seen SELECT r.rolsuper, current_user FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER store_na2_orders_flush AFTER INSERT ON na2.mine
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION na2.spy();
BEGIN;
INSERT INTO na2.lines VALUES (11, 1, 1);
INSERT INTO na2.mine VALUES (1);
\set VERBOSITY terse
TRUNCATE na2.mine;
\set VERBOSITY default
ROLLBACK;
SELECT superuser, who = 'na2_app' AS as_writer FROM na2.seen;
-- the store's own events are still drained, the user's trigger fires at commit, as the writer
BEGIN;
INSERT INTO na2.lines VALUES (11, 1, 2);
INSERT INTO na2.mine VALUES (1);
TRUNCATE na2.other;
COMMIT;
SELECT superuser, who = 'na2_app' AS as_writer FROM na2.seen;
RESET ROLE;
SELECT store_get('na2_orders', '1');
SELECT count(*) AS problems FROM store_verify();

-- A self-reference embedded by the key's column (manager:manager_id): a role that may create tables
-- in the schema creates one named manager_id, with no relationship to employee. The key goes on
-- embedding the manager; writes and reads keep working.
SET ROLE na2_owner;
CREATE TABLE na2.employee (id int PRIMARY KEY, name text, manager_id int REFERENCES na2.employee);
CREATE INDEX ON na2.employee (manager_id);
INSERT INTO na2.employee VALUES (1, 'Ann', NULL), (2, 'Bob', 1);
RESET ROLE;
SELECT store_register('na2_staff', 'na2.employee', shape => 'id,name,manager:manager_id(name)');
SET ROLE na2_app;
CREATE TABLE na2.manager_id (id int PRIMARY KEY);
RESET ROLE;
UPDATE na2.employee SET name = 'Bobby' WHERE id = 2;
SELECT store_get('na2_staff', '2');
SELECT path, table_name, kind FROM store_explain('na2_staff');
SELECT count(*) AS problems FROM store_verify('na2_staff');

-- Legacy inheritance (INHERITS): the store never counts a child's rows as its parent's (a flat
-- key reads ONLY its table, and no store trigger fires on a child), so a nested key neither
-- embeds a child of an embedded table's rows nor asks for triggers on a child of its root.
SET ROLE na2_owner;
CREATE TABLE na2.more_lines () INHERITS (na2.lines);
INSERT INTO na2.more_lines VALUES (99, 1, 9);
UPDATE na2.lines SET qty = 3 WHERE id = 10;
CREATE TABLE na2.more_orders () INHERITS (na2.orders);
INSERT INTO na2.more_orders VALUES (98, 'child');
RESET ROLE;
SELECT store_register('na2_flat', 'na2.orders');
SELECT store_get('na2_orders', '1');
SELECT cache_key, item_id, problem, stored, expected FROM store_verify() WHERE cache_key LIKE 'na2%';
SELECT store_unregister('na2_flat');

-- DROP OWNED BY the owner of a key's tables, after writing one of them in the same transaction: the
-- store's flush events are drained first (as before DROP TABLE), so it drops the tables and the key
-- as it does without the write.
CREATE ROLE na2_dropped;
GRANT USAGE, CREATE ON SCHEMA na2 TO na2_dropped;
SET ROLE na2_dropped;
CREATE TABLE na2.carts (id int PRIMARY KEY);
CREATE TABLE na2.items (id int PRIMARY KEY, cart_id int NOT NULL REFERENCES na2.carts);
CREATE INDEX ON na2.items (cart_id);
INSERT INTO na2.carts VALUES (1);
RESET ROLE;
SELECT store_register('na2_carts', 'na2.carts', shape => 'id,items(id)');
BEGIN;
INSERT INTO na2.items VALUES (1, 1);
DROP OWNED BY na2_dropped;
SELECT count(*) AS carts_keys FROM store.keys WHERE key = 'na2_carts';
COMMIT;
DROP ROLE na2_dropped;

-- A temporary table is dropped at the end of its session without any event trigger firing: a key
-- over one (flat or nested) would outlive it and break store_verify() and store_reload() for
-- everyone. Refused at registration.
CREATE TEMP TABLE na2_tmp_orders (id int PRIMARY KEY);
CREATE TEMP TABLE na2_tmp_lines (id int PRIMARY KEY, order_id int REFERENCES na2_tmp_orders);
\set VERBOSITY terse
SELECT store_register('na2_tmp', 'na2_tmp_orders');
SELECT store_register('na2_tmp_nested', 'na2_tmp_orders', shape => 'id,na2_tmp_lines(id)');
\set VERBOSITY default
SELECT count(*) AS temporary_keys FROM store.keys WHERE key LIKE 'na2_tmp%';

-- An unlogged table is emptied by crash recovery while the store's documents (logged) stay: a key
-- over one would show rows that are gone. Refused at registration, as root or embedded; a reached
-- table cannot become unlogged while registered.
CREATE UNLOGGED TABLE na2_unlogged (id int PRIMARY KEY);
CREATE TABLE na2_logged_root (id int PRIMARY KEY);
CREATE UNLOGGED TABLE na2_unlogged_lines (id int PRIMARY KEY, root_id int REFERENCES na2_logged_root);
CREATE TABLE na2_logged_lines (id int PRIMARY KEY, root_id int REFERENCES na2_logged_root);
CREATE INDEX ON na2_logged_lines (root_id);
\set VERBOSITY terse
SELECT store_register('na2_u', 'na2_unlogged');
SELECT store_register('na2_u_nested', 'na2_logged_root', shape => 'id,na2_unlogged_lines(id)');
CREATE TABLE na2_flat_table (id int PRIMARY KEY);
SELECT store_register('na2_flat', 'na2_flat_table');
SELECT store_register('na2_nested', 'na2_logged_root', shape => 'id,na2_logged_lines(id)');
ALTER TABLE na2_logged_lines SET UNLOGGED;
SELECT store_unregister('na2_nested');
ALTER TABLE na2_flat_table SET UNLOGGED;
\set VERBOSITY default
SELECT relpersistence FROM pg_class WHERE oid = 'na2_flat_table'::regclass;
SELECT store_unregister('na2_flat');
SELECT count(*) AS unlogged_keys FROM store.keys WHERE key LIKE 'na2_u%';

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP SCHEMA na2 CASCADE;
DROP ROLE na2_app;
DROP ROLE na2_owner;
RESET client_min_messages;
