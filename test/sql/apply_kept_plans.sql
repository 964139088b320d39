-- store_apply keeps its statements' plans per backend (issue 14): what a batch may write, and how,
-- is still decided on every call. Each case applies batches many times in one session (past the
-- plan cache's first uses, so the kept plans are reused), then changes the table or takes a right
-- away and applies again: the very next call must see it.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
-- upd(n, field, id): n calls of store_apply in this session as the current role, each setting
-- field of row id to the call's number (1..n); the distinct answers' "applied" (and "unmatched").
CREATE FUNCTION upd(n int, field text, id int DEFAULT 1) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(DISTINCT concat(a ->> 'applied', CASE WHEN a ? 'unmatched' THEN ' unmatched' END), ', ')
    FROM generate_series(1, n) g,
         LATERAL (SELECT store_apply(jsonb_build_object('changes', jsonb_build_array(jsonb_build_object(
             'op', 'update', 'entityName', 'kp_items', 'entities',
             jsonb_build_array(jsonb_build_object('id', id, 'changes', jsonb_build_object(field, g)))))))) AS r(a) $$;
-- upd_err(field, value): one such call with value, its error as err() shows it.
CREATE FUNCTION upd_err(field text, value text, id int DEFAULT 1) RETURNS text LANGUAGE sql AS $$
    SELECT err(format('SELECT store_apply(%L)', jsonb_build_object('changes', jsonb_build_array(jsonb_build_object(
        'op', 'update', 'entityName', 'kp_items', 'entities',
        jsonb_build_array(jsonb_build_object('id', id, 'changes', jsonb_build_object(field, value)))))))) $$;

CREATE ROLE store_kp_writer;
CREATE ROLE store_kp_other;
CREATE ROLE store_kp_group;
CREATE SCHEMA kp;
GRANT USAGE ON SCHEMA kp TO store_kp_writer;
CREATE TABLE kp.items (id int PRIMARY KEY, name text, qty int, note text);
INSERT INTO kp.items VALUES (1, 'a', 0, 'n1'), (2, 'b', 0, 'n2');
SELECT store_register('kp_items', 'kp.items');
GRANT SELECT, UPDATE ON kp.items TO store_kp_writer, store_kp_other;
GRANT EXECUTE ON FUNCTION upd(int, text, int), upd_err(text, text, int), err(text) TO PUBLIC;

-- 1. A column added between two calls: the kept UPDATE is planned again for the new row layout
-- (the new column keeps its value, the document shows both).
SET ROLE store_kp_writer;
SELECT upd(20, 'qty');
RESET ROLE;
ALTER TABLE kp.items ADD COLUMN extra text DEFAULT 'x';
SET ROLE store_kp_writer;
SELECT upd(3, 'qty');
SELECT upd(2, 'extra');
RESET ROLE;
SELECT * FROM kp.items ORDER BY id;
SELECT store_get('kp_items', '1');

-- 2. A column dropped: another one (the same statement, planned again), then the one the
-- statement writes (42703: the key no longer holds it).
ALTER TABLE kp.items DROP COLUMN note;
SET ROLE store_kp_writer;
SELECT upd(4, 'qty');
RESET ROLE;
SELECT * FROM kp.items ORDER BY id;
ALTER TABLE kp.items DROP COLUMN extra;
SET ROLE store_kp_writer;
SELECT upd_err('extra', 'y');
SELECT upd(20, 'name');
RESET ROLE;

-- 3. A column's type changed: the value is read by the new type (a text qty takes 'many'; with
-- the old int plan it would be 22P02).
ALTER TABLE kp.items ALTER COLUMN qty TYPE text;
SET ROLE store_kp_writer;
SELECT upd_err('qty', 'many');
SELECT upd(2, 'qty');
RESET ROLE;
SELECT * FROM kp.items ORDER BY id;

-- 4. UPDATE on the table revoked (42501), then granted on one column only: that column is
-- writable, the others not; that column revoked too.
REVOKE UPDATE ON kp.items FROM store_kp_writer;
SET ROLE store_kp_writer;
SELECT upd_err('name', 'z');
RESET ROLE;
GRANT UPDATE (name) ON kp.items TO store_kp_writer;
SET ROLE store_kp_writer;
SELECT upd(20, 'name');
SELECT upd_err('qty', '1');
RESET ROLE;
REVOKE UPDATE (name) ON kp.items FROM store_kp_writer;
SET ROLE store_kp_writer;
SELECT upd_err('name', 'z');
RESET ROLE;
GRANT UPDATE ON kp.items TO store_kp_writer;

-- 5. Row-level security turned on after many calls: row 1 is no longer visible to the writer
-- (unmatched, nothing written); turned off, it is written again.
SET ROLE store_kp_writer;
SELECT upd(20, 'name');
RESET ROLE;
ALTER TABLE kp.items ENABLE ROW LEVEL SECURITY;
CREATE POLICY not_one ON kp.items TO store_kp_writer USING (id <> 1);
SET ROLE store_kp_writer;
SELECT upd(3, 'name');
SELECT upd(3, 'name', 2);
RESET ROLE;
SELECT id, name FROM kp.items ORDER BY id;
ALTER TABLE kp.items DISABLE ROW LEVEL SECURITY;
SET ROLE store_kp_writer;
SELECT upd(5, 'name');
RESET ROLE;
SELECT id, name FROM kp.items ORDER BY id;

-- 6. USAGE on the table's schema revoked: the statement names the schema (42501 as a fresh
-- statement gives it).
REVOKE USAGE ON SCHEMA kp FROM store_kp_writer;
SET ROLE store_kp_writer;
SELECT upd_err('name', 'z');
RESET ROLE;

-- 7. USAGE held through a role's membership, the membership revoked (no catalog row of the
-- schema or the table changes: only role membership).
GRANT USAGE ON SCHEMA kp TO store_kp_group;
GRANT store_kp_group TO store_kp_writer;
SET ROLE store_kp_writer;
SELECT upd(20, 'name');
RESET ROLE;
REVOKE store_kp_group FROM store_kp_writer;
SET ROLE store_kp_writer;
SELECT upd_err('name', 'z');
RESET ROLE;

-- 8. Another role in the same session: it holds the table's rights but not USAGE on the schema,
-- while the statement's plan is kept for a role that had it.
GRANT USAGE ON SCHEMA kp TO store_kp_writer;
SET ROLE store_kp_writer;
SELECT upd(20, 'name');
RESET ROLE;
SET ROLE store_kp_other;
SELECT upd_err('name', 'z');
RESET ROLE;

-- 9. A superuser's rights taken away: its plans were analysed with no check at all.
CREATE ROLE store_kp_super SUPERUSER;
SET ROLE store_kp_super;
SELECT upd(20, 'name');
RESET ROLE;
ALTER ROLE store_kp_super NOSUPERUSER;
SET ROLE store_kp_super;
SELECT upd_err('name', 'z');
RESET ROLE;

-- 10. The table dropped and created again under the same name, columns in another order, and
-- registered again: the same statement text writes the new table's columns.
SET ROLE store_kp_writer;
SELECT upd(20, 'name');
RESET ROLE;
SELECT store_unregister('kp_items');
DROP TABLE kp.items;
CREATE TABLE kp.items (qty text, name text, id int PRIMARY KEY);
INSERT INTO kp.items VALUES ('q', 'old', 1);
GRANT SELECT, UPDATE ON kp.items TO store_kp_writer;
SELECT store_register('kp_items', 'kp.items');
SET ROLE store_kp_writer;
SELECT upd(2, 'name');
RESET ROLE;
SELECT * FROM kp.items;
SELECT store_get('kp_items', '1');

-- 11. $expect checks and $tmp adds, many times (their render statements are kept too), then
-- the expected column's type changed: compared as the new type renders it.
CREATE TABLE kp.notes (id serial PRIMARY KEY, body text, score numeric);
SELECT store_register('kp_notes', 'kp.notes');
SELECT DISTINCT store_apply($$
{"changes": [{"op": "add", "entityName": "kp_notes", "entities": [{"id": {"$tmp": "n"}, "body": "b", "score": 1.50}]},
             {"op": "update", "entityName": "kp_notes", "entities": [{"id": {"$ref": "n"}, "changes": {"body": "c"}, "$expect": {"body": "b", "score": 1.5}}]}]}
$$) -> 'applied' FROM generate_series(1, 20);
ALTER TABLE kp.notes ALTER COLUMN score TYPE int USING score::int;
SELECT store_apply($$
{"changes": [{"op": "add", "entityName": "kp_notes", "entities": [{"id": {"$tmp": "n"}, "body": "b", "score": 2}]},
             {"op": "update", "entityName": "kp_notes", "entities": [{"id": {"$ref": "n"}, "changes": {"body": "c"}, "$expect": {"body": "b", "score": 2}}]}]}
$$) -> 'ids';
SELECT store_apply($$
{"changes": [{"op": "update", "entityName": "kp_notes", "entities": [{"id": 1, "changes": {"body": "d"}, "$expect": {"score": 1.5}}]}]}
$$) -> 'conflicts';

-- 12. store_apply inside a trigger of a batch's statement, with many statement shapes: the
-- nested calls fill the kept plans past their limit while the outer statement runs (nothing is
-- freed under it: the nested calls plan for one use); the next call frees them first.
CREATE TABLE kp.wide (id int PRIMARY KEY, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, c7 int, c8 int);
INSERT INTO kp.wide VALUES (1, 0, 0, 0, 0, 0, 0, 0, 0);
CREATE TABLE kp.log (id int PRIMARY KEY, n int);
INSERT INTO kp.log VALUES (1, 0);
SELECT store_register('kp_wide', 'kp.wide');
SELECT store_register('kp_log', 'kp.log');
-- sets the columns c<b> of NEW.n's bits b to NEW.n: one statement shape per n
CREATE FUNCTION kp.wide_shapes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM store_apply(jsonb_build_object('changes', jsonb_build_array(jsonb_build_object(
        'op', 'update', 'entityName', 'kp_wide', 'entities', jsonb_build_array(jsonb_build_object('id', 1, 'changes',
        (SELECT jsonb_object_agg('c' || b, NEW.n) FROM generate_series(1, 8) b WHERE NEW.n & (1 << (b - 1)) <> 0)))))));
    RETURN NULL;
END $$;
CREATE TRIGGER wide_shapes AFTER UPDATE ON kp.log FOR EACH ROW EXECUTE FUNCTION kp.wide_shapes();
-- log(n): one batch of n updates of kp.log's row (n = 1..n, in order)
CREATE FUNCTION kp.log(n int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT store_apply(jsonb_build_object('changes', jsonb_build_array(jsonb_build_object(
        'op', 'update', 'entityName', 'kp_log', 'entities',
        (SELECT jsonb_agg(jsonb_build_object('id', 1, 'changes', jsonb_build_object('n', g)) ORDER BY g)
         FROM generate_series(1, n) g))))) -> 'applied' $$;
SELECT kp.log(255);
SELECT * FROM kp.wide;
SELECT kp.log(40);
SELECT * FROM kp.wide;
SELECT store_get('kp_wide', '1');

DROP SCHEMA kp CASCADE;
DROP FUNCTION upd(int, text, int), upd_err(text, text, int);
DROP ROLE store_kp_writer, store_kp_other, store_kp_group, store_kp_super;
DROP EXTENSION store CASCADE;
DROP FUNCTION err(text);
