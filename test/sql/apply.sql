-- store_apply(changeset): an @ngrx/data ChangeSet written as the calling role, in array order, all
-- or nothing. Every op; temporary ids across keys; $expect conflicts returned (not raised) with
-- the caller's transaction going on; replays; each error code with its DETAIL; GRANTs and RLS as
-- a non-superuser role.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

CREATE TABLE apply_orders (id bigserial PRIMARY KEY, customer_id int, status text NOT NULL DEFAULT 'new',
                           price numeric(10,2), tags text[], extra jsonb, secret text);
CREATE TABLE apply_lines (order_id bigint REFERENCES apply_orders, line_no int,
                          qty int CHECK (qty > 0), PRIMARY KEY (order_id, line_no));
-- A user trigger: it runs for writes through store_apply too.
CREATE TABLE apply_audit (what text);
CREATE FUNCTION apply_audit() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO apply_audit VALUES (TG_OP || ' ' || TG_TABLE_NAME); RETURN NULL; END $$;
CREATE TRIGGER apply_audit AFTER INSERT OR UPDATE OR DELETE ON apply_lines FOR EACH ROW EXECUTE FUNCTION apply_audit();
SELECT store_register('orders', 'apply_orders', ARRAY['id', 'customer_id', 'status', 'price', 'tags', 'extra']);
SELECT store_register('lines', 'apply_lines');
-- A second key over the orders: the open ones (a filtered key). Its documents change with the
-- writes to orders too, and the answers list them.
SELECT store_register('open_orders', 'apply_orders', ARRAY['id', 'status'], 'status = ''new''');

-- add: an order and its lines in one call; the order's id comes from its default ($tmp) and
-- lands in the lines ($ref). Numbers keep their digits, arrays and objects go to array and jsonb
-- columns. The answer holds the temporary ids and the documents the batch changed.
SELECT jsonb_pretty(store_apply($$
{"tag": "checkout-1", "changes": [
  {"op": "Add", "entityName": "orders", "entities": [
    {"id": {"$tmp": "o1"}, "customer_id": 3, "price": 1.60, "tags": ["a", "b"], "extra": {"gift": true}},
    {"id": {"$tmp": "o2"}, "customer_id": 4}]},
  {"op": "ADD", "entityName": "lines", "entities": [
    {"order_id": {"$ref": "o1"}, "line_no": 1, "qty": 2},
    {"order_id": {"$ref": "o1"}, "line_no": 2, "qty": 1},
    {"order_id": {"$ref": "o2"}, "line_no": 1, "qty": 7}]}]}
$$));
SELECT * FROM apply_orders ORDER BY id;
SELECT * FROM apply_lines ORDER BY order_id, line_no;
SELECT store_get('orders', '1');
SELECT cache_key, item, state FROM store.history WHERE item IS NOT NULL ORDER BY seq;

-- update (PATCH of the given fields, with a matching $expect), upsert (insert and update), delete
-- (ids, an Update<T>-style {id, $expect}); a missing row is "unmatched", not an error.
SELECT jsonb_pretty(store_apply($$
{"changes": [
  {"op": "update", "entityName": "orders", "entities": [
    {"id": 1, "changes": {"status": "paid"}, "$expect": {"status": "new", "price": 1.6, "tags": ["a", "b"]}}]},
  {"op": "upsert", "entityName": "lines", "entities": [{"id": [1, 1], "qty": 5}, {"order_id": 1, "line_no": 3, "qty": 3}]},
  {"op": "delete", "entityName": "lines", "entities": [[1, 2], {"id": [2, 1], "$expect": {"qty": 7}}, [9, 9]]},
  {"op": "update", "entityName": "orders", "entities": [{"id": 99, "changes": {"status": "x"}}]}]}
$$));
SELECT * FROM apply_orders ORDER BY id;
SELECT * FROM apply_lines ORDER BY order_id, line_no;
SELECT what, count(*) FROM apply_audit GROUP BY what ORDER BY what;

-- A conflict: the stored status differs. Nothing of the batch stays (the line added before the
-- check is rolled back), the call returns the current document, and the transaction goes on.
BEGIN;
SELECT jsonb_pretty(store_apply($$
{"tag": 7, "changes": [
  {"op": "add", "entityName": "lines", "entities": [{"order_id": 1, "line_no": 4, "qty": 1}]},
  {"op": "update", "entityName": "orders", "entities": [{"id": 1, "changes": {"status": "shipped"}, "$expect": {"status": "new"}}]}]}
$$));
SELECT count(*) AS line_4 FROM apply_lines WHERE line_no = 4;
SELECT count(*) AS line_4_documents FROM store.entries WHERE key = 'lines' AND id = '[1, 4]';
-- A gone row is a conflict too (current null); a delete can carry $expect.
SELECT store_apply('{"changes": [{"op": "delete", "entityName": "lines", "entities": [{"id": [5, 5], "$expect": {"qty": 1}}]}]}');
SELECT store_apply('{"changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 1, "changes": {}, "$expect": {"status": "paid", "extra": {"gift": true}}}]}]}');
COMMIT;
SELECT id, status FROM apply_orders ORDER BY id;
SELECT count(*) AS problems FROM store_verify();
-- Every conflict of the batch at once, in order: after a conflict the batch goes on evaluating
-- (the conflicted entity writes nothing; the others write, so later expectations see them: order
-- 2's second $expect holds), then rolls back whole.
SELECT jsonb_pretty(store_apply($$
{"tag": "all", "changes": [
  {"op": "update", "entityName": "orders", "entities": [
    {"id": 1, "changes": {"status": "shipped"}, "$expect": {"status": "new"}},
    {"id": 2, "changes": {"status": "packed"}, "$expect": {"status": "new"}}]},
  {"op": "delete", "entityName": "lines", "entities": [{"id": [1, 1], "$expect": {"qty": 0}}, {"id": [5, 5], "$expect": {"qty": 1}}]},
  {"op": "update", "entityName": "orders", "entities": [{"id": 2, "changes": {}, "$expect": {"status": "packed"}}]}]}
$$));
SELECT id, status FROM apply_orders ORDER BY id;
-- A later statement that fails after a conflict (here because the conflicted delete of line [1, 3]
-- was skipped: the add of the same line is a duplicate) ends the batch: the answer holds the
-- conflicts found so far and where it stopped, and nothing raises.
SELECT jsonb_pretty(store_apply($$
{"changes": [
  {"op": "delete", "entityName": "lines", "entities": [{"id": [1, 3], "$expect": {"qty": 99}}]},
  {"op": "add", "entityName": "lines", "entities": [{"order_id": 1, "line_no": 3, "qty": 1}]},
  {"op": "update", "entityName": "orders", "entities": [{"id": 2, "changes": {}, "$expect": {"status": "other"}}]}]}
$$));
SELECT count(*) AS lines FROM apply_lines;
-- Errors in the input itself still raise after a conflict (here an unknown key), as do errors of
-- the session (a cancelled statement, a deadlock: see core::RaisesAfterConflict).
SELECT err($$SELECT store_apply('{"changes": [{"op": "delete", "entityName": "lines", "entities": [{"id": [1, 3], "$expect": {"qty": 99}}]}, {"op": "add", "entityName": "nope", "entities": [{}]}]}')$$);

-- Replays: the first mutation of a client applies and is recorded; the same one again (or an
-- older one) writes nothing; a newer one applies.
SELECT store_apply('{"clientId": "c-9", "mutationId": 5, "changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 2, "changes": {"status": "m5"}}]}]}') ->> 'applied' AS applied;
SELECT store_apply('{"clientId": "c-9", "mutationId": 5, "changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 2, "changes": {"status": "m5 again"}}]}]}');
SELECT store_apply('{"clientId": "c-9", "mutationId": 4, "changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 2, "changes": {"status": "m4"}}]}]}');
SELECT client_id, last_mutation, applied_at IS NOT NULL AS stamped FROM store.mutations;
-- A batch that writes no row records nothing (no row grows for it): an empty one, one whose
-- updates and deletes find no row, one of $expect checks only. Its replay runs it again.
SELECT store_apply('{"clientId": "c-9", "mutationId": 6, "changes": []}');
SELECT store_apply('{"clientId": "idle", "mutationId": 1, "changes": []}');
SELECT store_apply('{"clientId": "idle", "mutationId": 2, "changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 99, "changes": {"status": "x"}}]}, {"op": "delete", "entityName": "lines", "entities": [[9, 9]]}]}');
SELECT store_apply('{"clientId": "idle", "mutationId": 3, "changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 2, "changes": {}, "$expect": {"status": "m5"}}]}]}');
SELECT store_apply('{"clientId": "idle", "mutationId": 3, "changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 2, "changes": {}, "$expect": {"status": "m5"}}]}]}');
SELECT client_id, last_mutation FROM store.mutations;
SELECT status FROM apply_orders WHERE id = 2;
-- A conflicting mutation is not recorded: its replay applies later.
SELECT store_apply('{"clientId": "c-9", "mutationId": 7, "changes": [{"op": "delete", "entityName": "lines", "entities": [{"id": [1, 1], "$expect": {"qty": 0}}]}]}') ->> 'applied' AS applied;
SELECT last_mutation FROM store.mutations;

-- Errors raise and leave nothing of the batch (the first change of each applied before the error).
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "lines", "entities": [{"order_id": 1, "line_no": 8, "qty": 1}]}, {"op": "update", "entityName": "nope", "entities": []}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "lines", "entities": [{"order_id": 1, "line_no": 8, "qty": 1}]}, {"op": "add", "entityName": "orders", "entities": [{"secret": "s"}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 1, "changes": {"lines": []}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "lines", "entities": [{"order_id": {"$ref": "o9"}, "line_no": 1}]}, {"op": "add", "entityName": "orders", "entities": [{"id": {"$tmp": "o9"}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "merge", "entityName": "orders", "entities": []}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "lines", "entities": [{"order_id": 1, "line_no": 8, "qty": 1}, {"order_id": 1, "line_no": 9, "qty": 0}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "lines", "entities": [{"order_id": 1, "line_no": 8, "qty": 1}]}, {"op": "add", "entityName": "lines", "entities": [{"order_id": 1, "line_no": 8, "qty": 2}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "add", "entityName": "lines", "entities": [{"order_id": 42, "line_no": 1, "qty": 1}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 1], "changes": {"qty": "many"}}]}]}')$$);
SELECT err($$SELECT store_apply(NULL)$$);
SELECT count(*) AS line_8 FROM apply_lines WHERE line_no = 8;

-- Only the given fields are converted: a NOT NULL domain column left to its default is no error;
-- a type in another schema (not on the search_path) is found; a value the domain refuses is 23514.
CREATE SCHEMA apply_types;
CREATE DOMAIN apply_types.code AS text NOT NULL CHECK (VALUE ~ '^[A-Z]+$');
CREATE TABLE apply_items (id int PRIMARY KEY, code apply_types.code DEFAULT 'NEW', label varchar(5));
SELECT store_register('items', 'apply_items');
SELECT store_apply('{"changes": [{"op": "add", "entityName": "items", "entities": [{"id": 1, "label": "one"}, {"id": 2, "code": "TWO"}]}]}') -> 'documents';
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "items", "entities": [{"id": 1, "changes": {"code": "low"}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "items", "entities": [{"id": 1, "changes": {"label": "too long"}}]}]}')$$);

-- As a role: GRANTs and row-level security apply (store_apply is SECURITY INVOKER).
CREATE ROLE apply_clerk;
GRANT SELECT, INSERT, UPDATE ON apply_lines TO apply_clerk;
GRANT SELECT ON apply_orders TO apply_clerk;
GRANT INSERT ON apply_audit TO apply_clerk;                -- the user trigger runs as the caller
ALTER TABLE apply_lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY clerk_sees_order_1 ON apply_lines USING (order_id = 1) WITH CHECK (qty < 100);
SET ROLE apply_clerk;
-- No privilege on store.mutations is needed, nor on the store's tables.
SELECT store_apply('{"clientId": "clerk", "mutationId": 1, "changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 1], "changes": {"qty": 6}}]}]}') -> 'documents';
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "orders", "entities": [{"id": 1, "changes": {"status": "mine"}}]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "delete", "entityName": "lines", "entities": [[1, 1]]}]}')$$);
SELECT err($$SELECT store_apply('{"changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 1], "changes": {"qty": 500}}]}]}')$$);
-- A row RLS hides: an update writes nothing (unmatched); with $expect it is a conflict.
SELECT store_apply('{"changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [2, 1], "changes": {"qty": 1}}]}]}') -> 'unmatched';
SELECT store_apply('{"changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 3], "changes": {"qty": 1}, "$expect": {"qty": 3}}, {"id": [2, 1], "changes": {"qty": 1}, "$expect": {"qty": 7}}]}]}');
SELECT err($$SELECT * FROM store.mutations$$);
RESET ROLE;
-- Replays are recorded per role (the one running store_apply) and clientId: another role that
-- knows the clerk's clientId does not make the clerk's mutations count as duplicates.
CREATE ROLE apply_intruder;
GRANT SELECT, UPDATE ON apply_lines TO apply_intruder;
GRANT INSERT ON apply_audit TO apply_intruder;
SET ROLE apply_intruder;
SELECT store_apply('{"clientId": "clerk", "mutationId": 7, "changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 1], "changes": {"qty": 8}}]}]}') ->> 'applied' AS intruder_applied;
RESET ROLE;
SET ROLE apply_clerk;
-- the clerk's own next mutations still apply, its replays are still duplicates
SELECT store_apply('{"clientId": "clerk", "mutationId": 2, "changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 1], "changes": {"qty": 9}}]}]}') -> 'documents';
SELECT store_apply('{"clientId": "clerk", "mutationId": 2, "changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 1], "changes": {"qty": 10}}]}]}');
-- store_forget_client forgets the caller's own record of a client (true when there was one):
-- the client's replays apply again; another role's record of the same clientId stays.
SELECT store_forget_client('clerk') AS forgotten;
SELECT store_forget_client('clerk') AS forgotten_again;
SELECT store_forget_client(NULL) AS forgotten_null;
SELECT store_apply('{"clientId": "clerk", "mutationId": 2, "changes": [{"op": "update", "entityName": "lines", "entities": [{"id": [1, 1], "changes": {"qty": 9}}]}]}') ? 'duplicate' AS duplicate;
RESET ROLE;
SELECT * FROM apply_lines ORDER BY order_id, line_no;
SELECT CASE WHEN role = current_user THEN '(test user)' ELSE role END AS role, client_id, last_mutation
    FROM store.mutations ORDER BY last_mutation;
-- The documents follow the tables after all of it.
SELECT count(*) AS problems FROM store_verify();

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP TABLE apply_lines, apply_orders, apply_audit, apply_items;
DROP SCHEMA apply_types CASCADE;
DROP FUNCTION apply_audit();
DROP ROLE apply_clerk, apply_intruder;
DROP FUNCTION err(text);
