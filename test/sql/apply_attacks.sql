-- store_apply under attack: session settings, privileges and transactions a hostile or unusual
-- caller brings. Each section names what it guards against.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

-- $expect compares as the document shows the row: the store renders documents under fixed output
-- settings (TimeZone UTC, extra_float_digits 1, IntervalStyle postgres, bytea_output hex), so the
-- caller's own settings must not turn a value it copied from a document into a conflict.
CREATE TABLE attack_ev (id int PRIMARY KEY, at timestamptz, f float8, iv interval, b bytea, n int);
INSERT INTO attack_ev VALUES (1, '2024-01-01 10:00+00', 0.1::float8 + 0.2::float8, '1 day 2 hours', '\x0102', 0);
SELECT store_register('attack_ev', 'attack_ev');
SELECT store_get('attack_ev', '1');
SET TimeZone = 'America/New_York';
SELECT store_apply('{"changes": [{"op": "update", "entityName": "attack_ev", "entities": [{"id": 1, "changes": {"n": 1}, "$expect": {"at": "2024-01-01T10:00:00+00:00"}}]}]}') -> 'applied';
RESET TimeZone;
SET extra_float_digits = 0;
SELECT store_apply('{"changes": [{"op": "update", "entityName": "attack_ev", "entities": [{"id": 1, "changes": {"n": 2}, "$expect": {"f": 0.30000000000000004}}]}]}') -> 'applied';
-- and a value that is not the document's still conflicts
SELECT store_apply('{"changes": [{"op": "update", "entityName": "attack_ev", "entities": [{"id": 1, "changes": {"n": 9}, "$expect": {"f": 0.3}}]}]}') -> 'applied';
RESET extra_float_digits;
SET IntervalStyle = 'iso_8601';
SELECT store_apply('{"changes": [{"op": "update", "entityName": "attack_ev", "entities": [{"id": 1, "changes": {"n": 3}, "$expect": {"iv": "1 day 02:00:00"}}]}]}') -> 'applied';
RESET IntervalStyle;
SET bytea_output = 'escape';
SELECT store_apply('{"changes": [{"op": "delete", "entityName": "attack_ev", "entities": [{"id": 1, "$expect": {"b": "\\x0102", "n": 3}}]}]}') -> 'applied';
RESET bytea_output;
-- the caller's settings are its own again after the call (and were while its values were read)
SET TimeZone = 'America/New_York';
SELECT store_apply('{"changes": [{"op": "add", "entityName": "attack_ev", "entities": [{"id": 2, "at": "2024-01-01 05:00"}]}]}') -> 'applied';
SELECT current_setting('TimeZone'), store_get('attack_ev', '2') -> 'at' AS at;
RESET TimeZone;
-- NULL columns match a JSON null; an empty $expect only asks that the row exists
SELECT store_apply('{"changes": [{"op": "update", "entityName": "attack_ev", "entities": [{"id": 2, "changes": {"n": 5}, "$expect": {"f": null, "b": null}}, {"id": 2, "changes": {"n": 6}, "$expect": {}}]}]}') -> 'documents';
SELECT store_apply('{"changes": [{"op": "delete", "entityName": "attack_ev", "entities": [{"id": 99, "$expect": {}}]}]}');

-- Temporary ids of keys whose values print after the session's settings (timestamptz, float8)
-- come back as documents show them, and a $ref to one carries the exact key.
CREATE TABLE attack_tk (at timestamptz PRIMARY KEY DEFAULT '2024-01-01 10:00+00', v int);
CREATE TABLE attack_fk (f float8 PRIMARY KEY DEFAULT 0.1::float8 + 0.2::float8, v int);
CREATE TABLE attack_ref (id serial PRIMARY KEY, at timestamptz REFERENCES attack_tk, f float8 REFERENCES attack_fk);
SELECT store_register('attack_tk', 'attack_tk');
SELECT store_register('attack_fk', 'attack_fk');
SELECT store_register('attack_ref', 'attack_ref');
SET TimeZone = 'America/New_York';
SET extra_float_digits = 0;
SELECT store_apply('{"changes": [
  {"op": "add", "entityName": "attack_tk", "entities": [{"id": {"$tmp": "t"}, "v": 1}]},
  {"op": "add", "entityName": "attack_fk", "entities": [{"id": {"$tmp": "f"}, "v": 1}]},
  {"op": "add", "entityName": "attack_ref", "entities": [{"id": {"$tmp": "r"}, "at": {"$ref": "t"}, "f": {"$ref": "f"}}]}]}') -> 'ids';
RESET TimeZone;
RESET extra_float_digits;
SELECT store_snapshot() -> 'attack_tk' AS tk, store_snapshot() -> 'attack_fk' AS fk, store_snapshot() -> 'attack_ref' AS ref;

-- A role that may only INSERT (a drop box: no SELECT) adds rows through store_apply as it can
-- with INSERT; a $tmp id needs the key back, so it needs SELECT on the key (as RETURNING does).
CREATE TABLE attack_box (id serial PRIMARY KEY, msg text);
SELECT store_register('attack_box', 'attack_box');
CREATE ROLE attack_dropper;
GRANT INSERT ON attack_box TO attack_dropper;
GRANT USAGE ON SEQUENCE attack_box_id_seq TO attack_dropper;
SET ROLE attack_dropper;
SELECT store_apply('{"changes": [{"op": "add", "entityName": "attack_box", "entities": [{"id": 5, "msg": "hi"}, {"msg": "no id"}]}]}');
SELECT store_apply('{"clientId": "box-1", "mutationId": 1, "changes": [{"op": "add", "entityName": "attack_box", "entities": [{"msg": "replayed"}]}]}');
SELECT store_apply('{"clientId": "box-1", "mutationId": 1, "changes": [{"op": "add", "entityName": "attack_box", "entities": [{"msg": "replayed"}]}]}');
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "attack_box", "entities": [{"id": {"$tmp": "b"}, "msg": "tmp"}]}]}')$$);
RESET ROLE;
SELECT id, msg FROM attack_box ORDER BY id;
-- with SELECT on the key column only, a $tmp works
GRANT SELECT (id) ON attack_box TO attack_dropper;
SET ROLE attack_dropper;
SELECT store_apply('{"changes": [{"op": "add", "entityName": "attack_box", "entities": [{"id": {"$tmp": "b"}, "msg": "tmp"}]}]}') -> 'ids';
RESET ROLE;

-- Row-level security that lets a role insert rows it may not read (WITH CHECK true, USING
-- false): an add goes in as a plain INSERT would; the row it cannot see is gone from its view.
CREATE TABLE attack_rls (id int PRIMARY KEY, owner_name text);
ALTER TABLE attack_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY attack_rls_ins ON attack_rls FOR INSERT WITH CHECK (true);
CREATE POLICY attack_rls_sel ON attack_rls FOR SELECT USING (owner_name = current_user);
GRANT SELECT, INSERT ON attack_rls TO attack_dropper;
SELECT store_register('attack_rls', 'attack_rls');
SET ROLE attack_dropper;
SELECT store_apply('{"changes": [{"op": "add", "entityName": "attack_rls", "entities": [{"id": 1, "owner_name": "someone else"}, {"id": 2, "owner_name": "attack_dropper"}]}]}');
RESET ROLE;
SELECT * FROM attack_rls ORDER BY id;

-- Rows the caller cannot see (row-level security) that the batch changed through a cascade are
-- not named in the answer (the history does not name them either): the key says "refetch". Rows
-- the batch names itself are listed (13 is its own; 12, which it cannot see, is unmatched).
CREATE TABLE attack_parent (id int PRIMARY KEY);
CREATE TABLE attack_child (id int PRIMARY KEY, parent int REFERENCES attack_parent ON DELETE CASCADE,
                           owner_name text);
ALTER TABLE attack_child ENABLE ROW LEVEL SECURITY;
CREATE POLICY attack_child_sel ON attack_child FOR SELECT USING (owner_name = current_user);
CREATE POLICY attack_child_del ON attack_child FOR DELETE USING (owner_name = current_user);
INSERT INTO attack_parent VALUES (1), (2);
INSERT INTO attack_child VALUES (10, 1, 'attack_dropper'), (11, 1, 'someone else'), (12, 2, 'someone else'),
                                (13, 2, 'attack_dropper');
SELECT store_register('attack_parent', 'attack_parent');
SELECT store_register('attack_child', 'attack_child');
GRANT SELECT, DELETE ON attack_parent TO attack_dropper;
GRANT SELECT, UPDATE, DELETE ON attack_child TO attack_dropper;
SET ROLE attack_dropper;
SELECT store_apply('{"changes": [{"op": "delete", "entityName": "attack_parent", "entities": [1]}]}') -> 'documents';
SELECT store_apply('{"changes": [{"op": "delete", "entityName": "attack_child", "entities": [12, 13]}]}');
RESET ROLE;
SELECT * FROM attack_child ORDER BY id;

-- A clientId too long for its replay record is refused as malformed input (not as an error about
-- the store's index); one of 1000 bytes is recorded.
SELECT err($$SELECT store_apply(jsonb_build_object('clientId', repeat('c', 1001), 'mutationId', 1, 'changes', jsonb_build_array()))$$);
SELECT err($$SELECT store_apply(jsonb_build_object('clientId', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i),
                   'mutationId', 1, 'changes', '[{"op": "add", "entityName": "attack_parent", "entities": [{"id": 8}]}]'::jsonb))$$);
SELECT store_apply(jsonb_build_object('clientId', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 31) i) || 'abcdefgh',
                   'mutationId', 1, 'changes', '[{"op": "add", "entityName": "attack_parent", "entities": [{"id": 9}]}]'::jsonb)) -> 'applied';
SELECT length(client_id), last_mutation FROM store.mutations WHERE length(client_id) > 100;

-- $expect renders the columns it compares as the table's owner, in a security-restricted
-- operation, as the store renders documents: a type's cast to json (code the owner trusts, not
-- the caller) never runs as the caller.
CREATE ROLE attack_owner;
CREATE SCHEMA attack_s AUTHORIZATION attack_owner;
SET ROLE attack_owner;
CREATE TYPE attack_s.size AS ENUM ('s', 'm', 'l');
CREATE FUNCTION attack_s.size_json(attack_s.size) RETURNS json LANGUAGE plpgsql AS
    $$ BEGIN RAISE NOTICE 'size rendered as the caller: %', current_user = session_user; RETURN to_json(upper($1::text)); END $$;
CREATE CAST (attack_s.size AS json) WITH FUNCTION attack_s.size_json(attack_s.size);
CREATE TABLE attack_s.priced (id int PRIMARY KEY, size attack_s.size, note text);
INSERT INTO attack_s.priced VALUES (1, 'm', 'x');
RESET ROLE;
SELECT store_register('attack_priced', 'attack_s.priced');
SELECT store_apply('{"changes": [{"op": "update", "entityName": "attack_priced", "entities": [{"id": 1, "changes": {"note": "y"}, "$expect": {"size": "M"}}]}]}') -> 'applied';

-- A call inside a savepoint that is rolled back leaves no replay record; two calls in one
-- transaction each list only their own documents.
CREATE TABLE attack_t (id int PRIMARY KEY, v int);
SELECT store_register('attack_t', 'attack_t');
BEGIN;
SAVEPOINT s;
SELECT store_apply('{"clientId": "sp", "mutationId": 1, "changes": [{"op": "add", "entityName": "attack_t", "entities": [{"id": 1, "v": 1}]}]}') -> 'applied';
ROLLBACK TO s;
SELECT count(*) FROM store.mutations WHERE client_id = 'sp';
SELECT store_apply('{"clientId": "sp", "mutationId": 1, "changes": [{"op": "add", "entityName": "attack_t", "entities": [{"id": 1, "v": 1}]}]}') -> 'documents';
SELECT store_apply('{"clientId": "sp", "mutationId": 2, "changes": [{"op": "add", "entityName": "attack_t", "entities": [{"id": 2, "v": 2}]}]}') -> 'documents';
COMMIT;
SELECT role = current_user AS mine, client_id, last_mutation FROM store.mutations WHERE client_id = 'sp';

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP TABLE attack_ev, attack_ref, attack_tk, attack_fk, attack_box, attack_rls, attack_child, attack_parent, attack_t;
DROP SCHEMA attack_s CASCADE;
DROP ROLE attack_dropper, attack_owner;
DROP FUNCTION err(text);
