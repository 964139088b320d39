-- store_apply and nested keys: the answer lists the nested documents the batch touched (written
-- by a flush right after the batch), and the transaction's later writes merge into the same
-- history row of each document (one row per transaction, key and document).
SET client_min_messages = warning;
CREATE EXTENSION store;
RESET client_min_messages;
CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL DEFAULT 'open');
CREATE TABLE line (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders, qty int);
CREATE INDEX ON line (order_id);
SELECT store_register('orders_nested', 'orders', shape => 'id,status,lines:line(id,qty)');
SELECT store_register('lines', 'line');
SELECT store_version() AS v0 \gset
SELECT jsonb_pretty(store_apply('{"changes": [
    {"op": "add", "entityName": "orders_nested", "entities": [{"id": {"$tmp": "o"}}]},
    {"op": "add", "entityName": "lines", "entities": [{"id": {"$tmp": "l"}, "order_id": {"$ref": "o"}, "qty": 3}]}]}'));
SELECT store_version() AS v1 \gset
BEGIN;
SELECT jsonb_pretty(store_apply('{"changes": [{"op": "update", "entityName": "lines", "entities": [{"id": 1, "changes": {"qty": 4}}]}]}'));
UPDATE line SET qty = 5;
COMMIT;
-- one row per document and transaction: C then U
SELECT cache_key, item_id, state FROM store_history(:'v0') WHERE item_id IS NOT NULL ORDER BY cache_key, state;
SELECT cache_key, item_id, state FROM store_history(:'v1') ORDER BY cache_key, state;
-- Several calls in one transaction: each lists every document it changed, also a nested document
-- an earlier call of the transaction wrote (the flush updates that history row, whose seq is older
-- than the call), and only those (the caller's own pending writes are flushed before the batch).
BEGIN;
SELECT store_apply('{"changes": [
    {"op": "add", "entityName": "orders_nested", "entities": [{"id": {"$tmp": "o"}}]},
    {"op": "add", "entityName": "lines", "entities": [{"id": {"$tmp": "l"}, "order_id": {"$ref": "o"}, "qty": 1}]}]}') -> 'documents';
SELECT store_apply('{"changes": [{"op": "update", "entityName": "lines", "entities": [{"id": 2, "changes": {"qty": 2}}]}]}') -> 'documents';
UPDATE line SET qty = 6 WHERE id = 1;
SELECT store_apply('{"changes": [{"op": "update", "entityName": "orders_nested", "entities": [{"id": 2, "changes": {"status": "paid"}}]}]}') -> 'documents';
SELECT store_apply('{"changes": [{"op": "delete", "entityName": "lines", "entities": [2]}]}') -> 'documents';
COMMIT;
SELECT cache_key, item_id, state FROM store_history(:'v1') WHERE item_id = '2' ORDER BY cache_key, state;
SELECT store_get('orders_nested', '1');
SELECT count(*) AS problems FROM store_verify();
SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE line, orders;
