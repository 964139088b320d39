-- Row-level security on an embedded table that applies to the root table's owner (issue 11, R6).
-- Nested documents are rendered once for every reader, as the root table's owner: rows hidden from
-- it would be missing from every document. So the store renders none: registration refuses
-- (42501), DDL that would make it apply is refused, and when it comes to apply anyway through a
-- role change no event trigger sees (the owner loses BYPASSRLS, or its membership in the embedded
-- table's owner), every write reaching the key is refused (42501, naming the table, the role and the
-- fixes), as are store_reload and store_verify: documents are never stored with rows missing. The
-- fix (BYPASSRLS again, membership, disabling RLS) makes the writes work again with no reload.
SET client_min_messages = warning;
CREATE EXTENSION store;
DROP ROLE IF EXISTS nro_alice;
DROP ROLE IF EXISTS nro_bob;
RESET client_min_messages;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE ROLE nro_alice;
CREATE ROLE nro_bob;
CREATE SCHEMA nro;
GRANT USAGE, CREATE ON SCHEMA nro TO nro_alice, nro_bob;
SET ROLE nro_alice;
CREATE TABLE nro.orders (id int PRIMARY KEY, status text);
GRANT SELECT, REFERENCES ON nro.orders TO nro_bob;
SET ROLE nro_bob;
CREATE TABLE nro.line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES nro.orders, qty int);
CREATE INDEX ON nro.line (order_id);
GRANT SELECT, INSERT, UPDATE ON nro.line TO nro_alice;
CREATE POLICY mine ON nro.line USING (qty < 100);
RESET ROLE;
INSERT INTO nro.orders VALUES (1, 'open');
INSERT INTO nro.line VALUES (10, 1, 1), (11, 1, 500);

-- Registration: refused while RLS on line applies to alice, with what to do.
ALTER TABLE nro.line ENABLE ROW LEVEL SECURITY;
SELECT err($$SELECT store_register('nro_o', 'nro.orders', shape => 'id,status,lines:line(id,qty)')$$);
\set VERBOSITY default

-- Allowed while alice bypasses RLS; line 11 (which the policy hides) is in the document.
ALTER ROLE nro_alice BYPASSRLS;
SELECT store_register('nro_o', 'nro.orders', shape => 'id,status,lines:line(id,qty)');
SELECT store_get('nro_o', '1');

-- Alice loses BYPASSRLS: no event trigger sees it. Every write reaching the key is refused at its
-- flush (here the commit), by either owner; store_reload and store_verify refuse too; the stored
-- document stays as it was (and exact: nothing changed).
ALTER ROLE nro_alice NOBYPASSRLS;
\set SHOW_CONTEXT never
SET ROLE nro_bob;
INSERT INTO nro.line VALUES (12, 1, 2);
SET ROLE nro_alice;
UPDATE nro.orders SET status = 'paid' WHERE id = 1;
RESET ROLE;
SELECT left(err($$SELECT store_reload('nro_o')$$), 5) AS reload;
SELECT left(err('SELECT count(*) FROM store_verify()'), 5) AS verify;
SELECT store_get('nro_o', '1');

-- Fixed by membership in line's owner: writes work again, documents exact without a reload.
GRANT nro_bob TO nro_alice;
INSERT INTO nro.line VALUES (12, 1, 2);
UPDATE nro.orders SET status = 'paid' WHERE id = 1;
SELECT store_get('nro_o', '1');
SELECT count(*) AS problems FROM store_verify();

-- Membership revoked (refused again), then BYPASSRLS given back (works again).
REVOKE nro_bob FROM nro_alice;
UPDATE nro.line SET qty = 3 WHERE id = 12;
\set SHOW_CONTEXT errors
ALTER ROLE nro_alice BYPASSRLS;
UPDATE nro.line SET qty = 3 WHERE id = 12;
SELECT count(*) AS problems FROM store_verify();

-- The embedded table's owner cannot turn row-level security on (or FORCE it on a table alice
-- owns) while the key embeds it and it would apply to alice: the DDL is refused.
ALTER ROLE nro_alice NOBYPASSRLS;
ALTER TABLE nro.line DISABLE ROW LEVEL SECURITY;
UPDATE nro.line SET qty = 4 WHERE id = 12;
SET ROLE nro_bob;
SELECT left(err('ALTER TABLE nro.line ENABLE ROW LEVEL SECURITY'), 5) AS enable_rls;
RESET ROLE;
SELECT store_get('nro_o', '1');
SELECT count(*) AS problems FROM store_verify();

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP SCHEMA nro CASCADE;
DROP ROLE nro_alice;
DROP ROLE nro_bob;
DROP FUNCTION err(text);
RESET client_min_messages;
