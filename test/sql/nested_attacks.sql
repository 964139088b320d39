-- Nested keys under attack: a writer's hostile search_path must not run its code as the root
-- table's owner when documents are re-rendered; a key whose trigger names another key's triggers
-- already hold is refused; an error in store_apply's flush of nested keys is an error, not a crash.
SET client_min_messages = warning;
CREATE EXTENSION store;
DROP ROLE IF EXISTS na_owner;
DROP ROLE IF EXISTS na_app;
RESET client_min_messages;
CREATE ROLE na_owner;
CREATE ROLE na_app;
CREATE SCHEMA na AUTHORIZATION na_owner;
SET ROLE na_owner;
CREATE TABLE na.orders (id int PRIMARY KEY, title text);
CREATE TABLE na.lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES na.orders, qty int);
CREATE INDEX ON na.lines (order_id);
INSERT INTO na.orders VALUES (1, 'a');
INSERT INTO na.lines VALUES (10, 1, 1);
GRANT USAGE ON SCHEMA na TO na_app;
GRANT SELECT, UPDATE ON na.lines TO na_app;
GRANT SELECT, UPDATE ON na.orders TO na_app;
RESET ROLE;
SELECT store_register('na_orders', 'na.orders', shape => 'id,title,lines(id,qty)');

-- The writer's own operator = on int comes first in its search_path.
CREATE SCHEMA evil AUTHORIZATION na_app;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
SET ROLE na_app;
CREATE TABLE evil.calls (who name);
GRANT INSERT ON evil.calls TO PUBLIC;
CREATE FUNCTION evil.eq(int, int) RETURNS bool LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO evil.calls VALUES (current_user); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.eq);
SET search_path = evil, pg_catalog, public;
UPDATE na.lines SET qty = 8 WHERE id OPERATOR(pg_catalog.=) 10;
RESET search_path;
RESET ROLE;
SELECT count(*) AS evil_calls FROM evil.calls;
SELECT store_get('na_orders', '1');

-- A transaction whose nested changes are still pending (written at commit) reads no versions,
-- as one that wrote a flat key.
BEGIN;
UPDATE na.lines SET qty = 9 WHERE id = 10;
\set VERBOSITY terse
SELECT store_version();
\set VERBOSITY default
ROLLBACK;

-- A key whose triggers would take another key's names: "na_orders" + "_flush".
\set VERBOSITY terse
SELECT store_register('na_orders_flush', 'na.orders', shape => 'id,lines(id)');
\set VERBOSITY default

-- store_apply's flush fails (the owner can no longer read an embedded table): an error, no crash.
REVOKE SELECT ON na.lines FROM na_owner;
\set VERBOSITY terse
SELECT store_apply('{"changes": [{"op": "update", "entityName": "na_orders", "entities": [{"id": 1, "changes": {"title": "z"}}]}]}');
\set VERBOSITY default
SELECT 1 AS still_connected;
GRANT SELECT ON na.lines TO na_owner;
SELECT count(*) AS problems FROM store_verify();

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP SCHEMA na CASCADE;
DROP SCHEMA evil CASCADE;
DROP ROLE na_app;
DROP ROLE na_owner;
RESET client_min_messages;
