-- Nested keys (issue 11): store_register(..., shape => ...) and the documents kept exact in the
-- writing transaction: one history row per (transaction, key, document) with the net change, for
-- every relationship kind, moves, to-one targets, cascades, savepoints and TRUNCATE. After each
-- scenario every document equals the on-the-fly nested query (store._shape_query) and
-- store_verify() is empty.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
SET jit = off;

CREATE TABLE country (id int PRIMARY KEY, name text);
CREATE TABLE customer (id int PRIMARY KEY, name text, country_id int REFERENCES country);
CREATE INDEX ON customer (country_id);
CREATE TABLE orders (id int PRIMARY KEY, status text,
                     customer_id int REFERENCES customer, billing_customer_id int REFERENCES customer);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (billing_customer_id);
CREATE TABLE product (id int PRIMARY KEY, name text);
CREATE TABLE line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders ON DELETE CASCADE,
                   product_id int REFERENCES product, qty int, note text);
CREATE INDEX ON line (order_id);
CREATE INDEX ON line (product_id);
CREATE TABLE order_detail (order_id int PRIMARY KEY REFERENCES orders ON DELETE CASCADE, note text);
CREATE TABLE tag (id int PRIMARY KEY, label text);
CREATE TABLE order_tag (order_id int REFERENCES orders ON DELETE CASCADE, tag_id int REFERENCES tag,
                        PRIMARY KEY (order_id, tag_id));
CREATE INDEX ON order_tag (tag_id);

INSERT INTO country VALUES (1, 'France'), (2, 'Germany');
INSERT INTO customer VALUES (1, 'Ann', 1), (2, 'Bob', 2), (3, 'Cy', NULL);
INSERT INTO product VALUES (1, 'pen'), (2, 'ink'), (3, 'pad');
INSERT INTO orders VALUES (1, 'open', 1, 2), (2, 'open', 2, NULL), (3, 'closed', NULL, NULL);
INSERT INTO line VALUES (10, 1, 1, 2, 'a'), (11, 1, 2, 1, 'b'), (20, 2, 1, 5, 'c');
INSERT INTO order_detail VALUES (1, 'gift');
INSERT INTO tag VALUES (1, 'red'), (2, 'blue');
INSERT INTO order_tag VALUES (1, 1), (1, 2), (2, 2);

-- Errors: shape with columns; unknown table or column; an ambiguous relationship (two foreign
-- keys from orders to customer) lists the candidates and the hint syntax.
SELECT err($$SELECT store_register('o', 'orders', ARRAY['id'], shape => 'id')$$);
SELECT err($$SELECT store_register('o', 'orders', shape => 'id,nowhere(id)')$$);
SELECT err($$SELECT store_register('o', 'orders', shape => 'id,nothing')$$);
SELECT err($$SELECT store_register('o', 'orders', shape => 'id,customer(name)')$$);
SELECT count(*) AS keys FROM store.keys;

-- The key: many-to-one (to depth 2), one-to-many with a many-to-one inside, many-to-many, one-to-one.
SELECT store_register('o', 'orders', shape =>
    'id, status, customer:customer!orders_customer_id_fkey(name, country(name)),
     lines:line(id, qty, product(name)), tags:tag(label), detail:order_detail(note)');
SELECT key, columns, nested FROM store.keys;
SELECT * FROM store_explain('o');

-- History since the last call (the test's own bookkeeping), and the documents checked against the
-- on-the-fly query and store_verify().
\set nested_checks_sql :abs_srcdir '/sql/include/nested_checks.sql'
\i :nested_checks_sql
SELECT id, doc FROM store.entries WHERE key = 'o' ORDER BY id;
SELECT check_docs();

-- A child inserted: U of its order.
INSERT INTO line VALUES (21, 2, 3, 1, 'd');
SELECT * FROM changes();
SELECT check_docs();
-- A column no document shows (line.note): nothing.
UPDATE line SET note = 'changed' WHERE id = 10;
SELECT * FROM changes();
-- A child moved to another parent: both re-rendered.
UPDATE line SET order_id = 3 WHERE id = 11;
SELECT * FROM changes();
SELECT check_docs();
-- A to-one target renamed: exactly the documents reaching it (pen: orders 1 and 2; pad: 2).
UPDATE product SET name = 'pencil' WHERE id = 1;
SELECT * FROM changes();
UPDATE product SET name = 'notepad' WHERE id = 3;
SELECT * FROM changes();
-- Depth 2: Germany reaches order 2 only (through its customer Bob); the billing customer is not shown.
UPDATE country SET name = 'Deutschland' WHERE id = 2;
SELECT * FROM changes();
SELECT check_docs();
-- Many-to-many: the junction and the far table.
INSERT INTO order_tag VALUES (3, 1);
SELECT * FROM changes();
UPDATE tag SET label = 'crimson' WHERE id = 1;
SELECT * FROM changes();
DELETE FROM order_tag WHERE order_id = 1 AND tag_id = 2;
SELECT * FROM changes();
-- One-to-one: an object, null when missing.
INSERT INTO order_detail VALUES (2, 'fragile');
UPDATE order_detail SET note = 'urgent' WHERE order_id = 1;
SELECT * FROM changes();
SELECT check_docs();
-- An order and 3 lines in one transaction: one C; updating it and 2 of its lines: one U.
BEGIN;
INSERT INTO orders VALUES (4, 'new', 3, NULL);
INSERT INTO line VALUES (40, 4, 1, 1, NULL), (41, 4, 2, 1, NULL), (42, 4, 3, 1, NULL);
COMMIT;
SELECT * FROM changes();
BEGIN;
UPDATE orders SET status = 'paid' WHERE id = 4;
UPDATE line SET qty = 7 WHERE id IN (40, 41);
COMMIT;
SELECT * FROM changes();
SELECT doc FROM store.entries WHERE key = 'o' AND id = '4';
-- SET CONSTRAINTS ALL IMMEDIATE flushes early; later writes merge into the same row.
BEGIN;
UPDATE line SET qty = 8 WHERE id = 40;
SET CONSTRAINTS ALL IMMEDIATE;
UPDATE line SET qty = 9 WHERE id = 41;
COMMIT;
SELECT * FROM changes();
-- Inserted then deleted in one transaction: nothing; and the same for a child's round trip.
BEGIN;
INSERT INTO orders VALUES (5, 'gone', 1, NULL);
INSERT INTO line VALUES (50, 5, 1, 1, NULL);
SET CONSTRAINTS ALL IMMEDIATE;
DELETE FROM orders WHERE id = 5;
COMMIT;
SELECT * FROM changes();
BEGIN;
INSERT INTO line VALUES (51, 1, 1, 1, NULL);
DELETE FROM line WHERE id = 51;
COMMIT;
SELECT * FROM changes();
-- A rolled-back savepoint leaves nothing; a released one counts.
BEGIN;
SAVEPOINT s;
INSERT INTO line VALUES (52, 1, 1, 1, NULL);
ROLLBACK TO SAVEPOINT s;
SAVEPOINT t;
UPDATE line SET qty = 3 WHERE id = 20;
RELEASE SAVEPOINT t;
COMMIT;
SELECT * FROM changes();
SELECT check_docs();
-- store_get in the writing transaction reads its own writes (a flush first), and the commit's
-- flush merges into the same history row.
BEGIN;
INSERT INTO line VALUES (53, 2, 2, 4, NULL);
SELECT store_get('o', '2') -> 'lines' AS lines;
UPDATE line SET qty = 6 WHERE id = 53;
SELECT store_get('o', '2') -> 'lines' AS lines;
COMMIT;
SELECT * FROM changes();
SELECT check_docs();
-- A flush inside a savepoint that rolls back: its documents roll back, the changes recorded
-- before the savepoint are flushed again at commit (one U, the line with its first qty).
BEGIN;
INSERT INTO line VALUES (54, 3, 1, 1, NULL);
SAVEPOINT a;
UPDATE line SET qty = 2 WHERE id = 54;
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK TO SAVEPOINT a;
COMMIT;
SELECT * FROM changes();
SELECT store_get('o', '3') -> 'lines' AS lines;
SELECT check_docs();
-- A cascaded delete: one D (its lines, detail and tags go with it).
DELETE FROM orders WHERE id = 1;
SELECT * FROM changes();
SELECT check_docs();
-- TRUNCATE of an embedded table: a key-level U.
TRUNCATE order_detail;
SELECT * FROM changes();
SELECT check_docs();

-- A filter applies to root rows: a root row leaving it is D, entering it C; a child of a root
-- outside the filter changes nothing.
SELECT store_register('open_orders', 'orders', filter => $$status <> 'closed'$$, shape => 'id,status,lines:line(id)');
SELECT id FROM store.entries WHERE key = 'open_orders' ORDER BY id;
UPDATE mark SET seq = (SELECT max(seq) FROM store.history);
CREATE VIEW open_changes AS SELECT h.item, h.state FROM store.history AS h, mark AS m
 WHERE h.seq > m.seq AND h.cache_key = 'open_orders' ORDER BY h.seq;
UPDATE orders SET status = 'closed' WHERE id = 2;
SELECT * FROM open_changes;
UPDATE mark SET seq = (SELECT max(seq) FROM store.history);
INSERT INTO line VALUES (60, 2, 1, 1);
SELECT * FROM open_changes;
UPDATE mark SET seq = (SELECT max(seq) FROM store.history);
UPDATE orders SET status = 'open' WHERE id = 3;
SELECT * FROM open_changes;
DROP VIEW open_changes;
SELECT cache_key, count(*) AS differences FROM store_verify() GROUP BY 1;
SELECT store_unregister('open_orders');
UPDATE orders SET status = 'open' WHERE id = 2;
UPDATE orders SET status = 'closed' WHERE id = 3;
UPDATE mark SET seq = (SELECT max(seq) FROM store.history);
SELECT check_docs();

-- A composite primary key at the root: ids are JSON arrays.
CREATE TABLE shelf (room int, slot text, label text, PRIMARY KEY (room, slot));
CREATE TABLE book (id int PRIMARY KEY, room int, slot text, title text, FOREIGN KEY (room, slot) REFERENCES shelf);
CREATE INDEX ON book (room, slot);
INSERT INTO shelf VALUES (1, 'a', 'top'), (1, 'b', 'low'), (2, 'a', 'new');
INSERT INTO book VALUES (1, 1, 'a', 'Emma');
SELECT store_register('shelves', 'shelf', shape => 'room,slot,books:book(title)');
INSERT INTO book VALUES (2, 1, 'b', 'Ulysses');
UPDATE book SET room = 2 WHERE id = 1;
SELECT item, state FROM store.history WHERE cache_key = 'shelves' ORDER BY seq;
SELECT id, doc FROM store.entries WHERE key = 'shelves' ORDER BY id;
SELECT count(*) AS differences FROM store_verify('shelves');
SELECT store_unregister('shelves');
DROP TABLE book, shelf;
UPDATE mark SET seq = (SELECT max(seq) FROM store.history);

-- Reading rights: SELECT on every column the shape reads, in every table.
CREATE ROLE nested_reader;
GRANT SELECT ON orders TO nested_reader;
SET ROLE nested_reader;
SELECT err($$SELECT store_get('o', '2')$$);
SELECT err($$SELECT count(*) FROM store_explain('o')$$);
RESET ROLE;
GRANT SELECT ON customer, country, line, product, tag, order_tag, order_detail TO nested_reader;
SET ROLE nested_reader;
SELECT store_get('o', '2');
RESET ROLE;
-- Row-level security on an embedded table that applies to the reader: the key is unreadable.
ALTER TABLE line ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON line FOR SELECT USING (qty > 1);
SET ROLE nested_reader;
SELECT err($$SELECT store_get('o', '2')$$);
RESET ROLE;
ALTER TABLE line DISABLE ROW LEVEL SECURITY;
DROP POLICY mine ON line;

-- DDL on embedded tables: their store triggers cannot be dropped or disabled, the columns the
-- shape reads cannot be dropped (renames are followed: nested_ddl.sql), the tables cannot be
-- dropped; other columns can.
SELECT err($$DROP TRIGGER store_o ON line$$);
SELECT err($$DROP TRIGGER store_o_flush ON tag$$);
SELECT err($$ALTER TABLE line DISABLE TRIGGER store_o_flush$$);
SELECT err($$ALTER TABLE line DROP COLUMN qty$$);
SELECT err($$DROP TABLE order_detail$$);
SELECT err($$ALTER TABLE line DROP CONSTRAINT line_product_id_fkey$$);
ALTER TABLE line DROP COLUMN note;
ALTER TABLE country ADD COLUMN code text;
SELECT * FROM changes();
SELECT check_docs();

-- Reload rebuilds from the shape; unregistering drops the triggers of every table.
SELECT store_reload('o');
SELECT check_docs();
SELECT store_unregister('o');
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2;
DROP OWNED BY nested_reader;
DROP ROLE nested_reader;
SET client_min_messages = warning;
DROP TABLE mark, order_tag, tag, order_detail, line, product, orders, customer, country;
DROP FUNCTION changes(), check_docs(text);
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP FUNCTION err(text);
