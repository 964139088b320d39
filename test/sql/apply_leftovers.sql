-- store_apply's edge cases: a bad value raises after a conflict as it does without one; an add a
-- BEFORE INSERT trigger skips is reported as "skipped" and a $ref to it is refused by name; a
-- replay answers in a read-only transaction (a new mutation still fails there).
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

CREATE TABLE left_orders (id bigserial PRIMARY KEY, note text);
CREATE TABLE left_lines (order_id bigint REFERENCES left_orders, line_no int, qty int,
                         PRIMARY KEY (order_id, line_no));
SELECT store_register('l_orders', 'left_orders');
SELECT store_register('l_lines', 'left_lines');
INSERT INTO left_orders (note) VALUES ('one');
INSERT INTO left_lines VALUES (1, 1, 5);

-- 1. Bad values (22P02: a text its type does not read; 22003: out of range) raise the same with
-- or without a conflict before them: the DETAIL names the entity; nothing of the batch is left.
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": "many"}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {}, "$expect": {"qty": 99}}]}, {"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": "many"}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {}, "$expect": {"qty": 99}}]}, {"op": "add", "entityName": "l_lines", "entities": [{"order_id": 1, "line_no": 2, "qty": 99999999999}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {}, "$expect": {"qty": 99}}]}, {"op": "add", "entityName": "l_orders", "entities": [{"id": "seven"}]}]}')$$);
-- An error that may come from the write the conflict skipped still ends the batch as "stopped".
SELECT store_apply('{"changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {}, "$expect": {"qty": 99}}]}, {"op": "add", "entityName": "l_lines", "entities": [{"order_id": 1, "line_no": 1, "qty": 1}]}]}') -> 'stopped' ->> 'sqlstate' AS stopped;
SELECT * FROM left_lines ORDER BY order_id, line_no;

-- 2. A BEFORE INSERT trigger that returns NULL skips the row: the batch applies, the add writes
-- nothing and is listed in "skipped" with its id as given ({"$tmp": …}, a key, or null when left
-- to the default); an upsert the trigger skips too.
CREATE FUNCTION left_skip() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN IF NEW.note = 'skip' OR (TG_OP = 'UPDATE' AND OLD.note = 'frozen') THEN RETURN NULL; END IF; RETURN NEW; END $$;
CREATE TRIGGER left_skip BEFORE INSERT OR UPDATE ON left_orders FOR EACH ROW EXECUTE FUNCTION left_skip();
SELECT jsonb_pretty(store_apply($$
{"changes": [{"op": "add", "entityName": "l_orders", "entities": [
  {"id": {"$tmp": "o1"}, "note": "skip"},
  {"id": 50, "note": "skip"},
  {"note": "skip"},
  {"id": {"$tmp": "o2"}, "note": "kept"}]},
  {"op": "upsert", "entityName": "l_orders", "entities": [{"id": 1, "note": "skip"}]}]}
$$));
SELECT * FROM left_orders ORDER BY id;
-- A BEFORE UPDATE trigger that skips the existing row of an upsert: skipped too; of an update:
-- unmatched (as a row that is not there).
UPDATE left_orders SET note = 'frozen' WHERE id = 4;
SELECT store_apply('{"changes": [{"op": "upsert", "entityName": "l_orders", "entities": [{"id": 4, "note": "thawed"}]}, {"op": "update", "entityName": "l_orders", "entities": [{"id": 4, "changes": {"note": "thawed"}}]}]}') - 'documents';
SELECT * FROM left_orders ORDER BY id;
-- A $ref to a skipped add raises 22023 naming both entities; nothing of the batch is left.
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "l_orders", "entities": [{"id": {"$tmp": "o1"}, "note": "skip"}]}, {"op": "add", "entityName": "l_lines", "entities": [{"order_id": {"$ref": "o1"}, "line_no": 1, "qty": 1}]}]}')$$);
-- Also in a $expect, and when the skipped add came after a conflict.
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "l_orders", "entities": [{"id": {"$tmp": "o1"}, "note": "skip"}]}, {"op": "update", "entityName": "l_orders", "entities": [{"id": 1, "changes": {}, "$expect": {"note": {"$ref": "o1"}}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {}, "$expect": {"qty": 99}}]}, {"op": "add", "entityName": "l_orders", "entities": [{"id": {"$tmp": "o1"}, "note": "skip"}]}, {"op": "add", "entityName": "l_lines", "entities": [{"order_id": {"$ref": "o1"}, "line_no": 1, "qty": 1}]}]}')$$);
SELECT count(*) AS orders FROM left_orders;
-- A batch whose only add was skipped wrote nothing: its replay record is not kept.
SELECT store_apply('{"clientId": "skipper", "mutationId": 1, "changes": [{"op": "add", "entityName": "l_orders", "entities": [{"note": "skip"}]}]}') -> 'skipped' AS skipped;
SELECT count(*) AS records FROM store.mutations WHERE client_id = 'skipper';

-- 3. A replay writes nothing: it answers in a read-only transaction. A mutation that is not a
-- replay (a newer one, or an unknown client) still fails there (25006).
SELECT store_apply('{"clientId": "ro", "mutationId": 3, "changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": 6}}]}]}') ->> 'applied' AS applied;
BEGIN READ ONLY;
SELECT store_apply('{"clientId": "ro", "mutationId": 3, "changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": 7}}]}]}');
SELECT store_apply('{"clientId": "ro", "mutationId": 2, "changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": 7}}]}]}');
SELECT err($$SELECT store_apply('{"clientId": "ro", "mutationId": 4, "changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": 7}}]}]}')$$);
SELECT err($$SELECT store_apply('{"clientId": "ro-new", "mutationId": 1, "changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": 7}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "l_lines", "entities": [{"id": [1, 1], "changes": {"qty": 7}}]}]}')$$);
COMMIT;
SELECT qty FROM left_lines WHERE line_no = 1;
SELECT client_id, last_mutation FROM store.mutations WHERE client_id LIKE 'ro%';

DROP TABLE left_lines, left_orders;
DROP FUNCTION left_skip();
DROP EXTENSION store CASCADE;
DROP FUNCTION err(text);
