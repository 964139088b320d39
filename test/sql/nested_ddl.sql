-- DDL on the tables a nested key reaches (issue 11): renames of what a shape names are followed
-- (columns, embedded tables, foreign keys and junctions named as hints), also in a transaction
-- that writes and under REPEATABLE READ. After each step the documents equal the on-the-fly nested
-- query and store_verify() is empty.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
SET jit = off;
SET client_min_messages = warning;

CREATE TABLE country (id int PRIMARY KEY, name text);
CREATE TABLE customer (id int PRIMARY KEY, name text, country_id int REFERENCES country);
CREATE INDEX ON customer (country_id);
CREATE TABLE orders (id int PRIMARY KEY, status text, note text,
                     customer_id int REFERENCES customer, billing_id int REFERENCES customer);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (billing_id);
CREATE TABLE line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders, qty int);
CREATE INDEX ON line (order_id);
CREATE TABLE tag (id int PRIMARY KEY, label text);
CREATE TABLE order_tag (order_id int REFERENCES orders, tag_id int REFERENCES tag, PRIMARY KEY (order_id, tag_id));
CREATE INDEX ON order_tag (tag_id);
INSERT INTO country VALUES (1, 'France');
INSERT INTO customer VALUES (1, 'Ann', 1), (2, 'Bob', 1);
INSERT INTO orders VALUES (1, 'open', 'n1', 1, 2), (2, 'closed', NULL, 2, NULL);
INSERT INTO line VALUES (10, 1, 2), (11, 1, 1);
INSERT INTO tag VALUES (1, 'red');
INSERT INTO order_tag VALUES (1, 1);

-- Every kind of name a shape holds: root columns (one aliased), a hint naming a foreign-key column,
-- a hint naming a constraint, embedded columns (one aliased), a nested embedding, an array, and a
-- many-to-many whose hint names the junction.
SELECT store_register('o', 'orders', shape =>
    'id,status,remark:note,customer!customer_id(name,country(name)),bill:customer!orders_billing_id_fkey(who:name),lines:line(qty),tags:tag!order_tag(label)');

\set nested_checks_sql :abs_srcdir '/sql/include/nested_checks.sql'
\i :nested_checks_sql
CREATE VIEW shape AS SELECT nested FROM store.keys WHERE key = 'o';
SELECT store_get('o', '1');

-- A root column the documents show under its name: the shape names it anew, the key in the
-- documents follows (as a flat key's documents follow a renamed column): one key-level U.
ALTER TABLE orders RENAME COLUMN status TO state;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT store_get('o', '1');
SELECT check_docs();
-- An aliased root column: the shape follows, the documents stay: nothing logged.
ALTER TABLE orders RENAME COLUMN note TO notes;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT check_docs();
-- A root foreign-key column named as a hint: the hint follows, nothing logged.
ALTER TABLE orders RENAME COLUMN customer_id TO client_id;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT check_docs();
-- A column of an embedded table, shown in two objects (once aliased): one U.
ALTER TABLE customer RENAME COLUMN name TO full_name;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT store_get('o', '1');
SELECT check_docs();
-- A column of a table two levels down.
ALTER TABLE country RENAME name TO label;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT check_docs();
-- An embedded table: named anew; its unaliased key follows (one U), its aliased one stays.
ALTER TABLE customer RENAME TO client;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT store_get('o', '1');
SELECT check_docs();
-- A foreign-key constraint named as a hint, and the junction's: nothing logged.
ALTER TABLE orders RENAME CONSTRAINT orders_billing_id_fkey TO billed_to;
ALTER TABLE order_tag RENAME TO tagging;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT check_docs();
-- store_explain shows the new names.
SELECT path, table_name, kind, constraint_name, junction, join_columns FROM store_explain('o');

-- A rename inside a transaction that also writes, before and after it: the writes before are
-- flushed first (SET CONSTRAINTS ALL IMMEDIATE: the known limit on ALTER TABLE after a write), the
-- ones after render with the new name; one U for the rename, one row per document written.
BEGIN;
UPDATE line SET qty = 3 WHERE id = 10;
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE line RENAME COLUMN qty TO quantity;
INSERT INTO line VALUES (20, 2, 7);
UPDATE line SET quantity = 4 WHERE id = 11;
COMMIT;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT store_get('o', '1'), store_get('o', '2');
SELECT check_docs();
-- Under REPEATABLE READ: a rename, then writes; rolled back, nothing stays.
BEGIN ISOLATION LEVEL REPEATABLE READ;
ALTER TABLE line RENAME TO order_line;
INSERT INTO order_line VALUES (21, 2, 8);
SELECT store_get('o', '2');
ROLLBACK;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT check_docs();
BEGIN ISOLATION LEVEL REPEATABLE READ;
ALTER TABLE line RENAME TO order_line;
INSERT INTO order_line VALUES (21, 2, 8);
DELETE FROM tagging;
COMMIT;
SELECT * FROM shape;
SELECT * FROM changes();
SELECT store_get('o', '1'), store_get('o', '2');
SELECT check_docs();

-- A rename whose new name is already a key of its object: refused (the shape would show a key
-- twice), with the hint to unregister.
SELECT err($$ALTER TABLE orders RENAME COLUMN state TO bill$$);
SELECT * FROM shape;
-- A new name equal to the item's alias: the alias goes, the documents stay.
ALTER TABLE orders RENAME COLUMN notes TO remark;
SELECT * FROM shape;
SELECT * FROM changes();
-- Renames of columns no shape reads change nothing.
ALTER TABLE orders ADD COLUMN spare int;
ALTER TABLE orders RENAME COLUMN spare TO spare2;
SELECT * FROM changes();
SELECT check_docs();

SELECT store_unregister('o');
DROP TABLE mark, tagging, tag, order_line, orders, client, country;

-- TRUNCATE of reached tables: one key-level U per transaction and key, however many tables and
-- times (also one TRUNCATE naming two tables); a U rolled back with its savepoint leaves room for one.
CREATE TABLE shelf (id int PRIMARY KEY, label text);
CREATE TABLE box (id int PRIMARY KEY, shelf_id int REFERENCES shelf, label text);
CREATE INDEX ON box (shelf_id);
CREATE TABLE book (id int PRIMARY KEY, shelf_id int REFERENCES shelf, title text);
CREATE INDEX ON book (shelf_id);
INSERT INTO shelf VALUES (1, 'top'), (2, 'low');
INSERT INTO box VALUES (1, 1, 'a');
INSERT INTO book VALUES (1, 1, 'Emma');
SELECT store_register('shelves', 'shelf', shape => 'id,label,boxes:box(label),books:book(title)');
CREATE TABLE shelf_mark (seq bigint);
INSERT INTO shelf_mark SELECT max(seq) FROM store.history;
-- The history rows since the last call.
CREATE FUNCTION shelf_history() RETURNS TABLE (item jsonb, state text) LANGUAGE sql AS $$
    WITH r AS (SELECT h.item, h.state, h.seq FROM store.history AS h, shelf_mark AS m WHERE h.seq > m.seq),
         u AS (UPDATE shelf_mark SET seq = (SELECT max(seq) FROM store.history) RETURNING 1)
    SELECT r.item, r.state FROM r LEFT JOIN (SELECT count(*) FROM u) AS x ON true ORDER BY r.seq
$$;
BEGIN;
TRUNCATE box;
INSERT INTO box VALUES (2, 2, 'b');
TRUNCATE book;
SET CONSTRAINTS ALL IMMEDIATE; -- (the known limit: TRUNCATE after a write in the transaction)
TRUNCATE box;
TRUNCATE box, book;
INSERT INTO book VALUES (2, 2, 'Ulysses');
COMMIT;
SELECT * FROM shelf_history();
SELECT store_get('shelves', '2');
SELECT count(*) AS differences FROM store_verify('shelves');
BEGIN;
SAVEPOINT s;
TRUNCATE box;
ROLLBACK TO SAVEPOINT s;
TRUNCATE book;
TRUNCATE book;
COMMIT;
SELECT * FROM shelf_history();
SELECT count(*) AS differences FROM store_verify('shelves');
SELECT store_unregister('shelves');
DROP FUNCTION shelf_history();
DROP TABLE shelf_mark, book, box, shelf;
-- Readers check the store triggers of every table a nested key reaches: where a superuser stopped
-- one (with the event triggers off) on an embedded table or a junction, or its flush trigger,
-- readers get 55000 as for the root's, whole-store reads leave the key out, store_verify shows the
-- triggers, and store_reload repairs them.
CREATE TABLE author (id int PRIMARY KEY, name text);
CREATE TABLE post (id int PRIMARY KEY, author_id int REFERENCES author, title text);
CREATE INDEX ON post (author_id);
CREATE TABLE topic (id int PRIMARY KEY, label text);
CREATE TABLE post_topic (post_id int REFERENCES post, topic_id int REFERENCES topic, PRIMARY KEY (post_id, topic_id));
CREATE INDEX ON post_topic (topic_id);
INSERT INTO author VALUES (1, 'Ann');
INSERT INTO post VALUES (1, 1, 'Hi');
INSERT INTO topic VALUES (1, 'news');
INSERT INTO post_topic VALUES (1, 1);
SELECT store_register('authors', 'author', shape => 'id,name,posts:post(title,topics:topic(label))');
CREATE FUNCTION readable() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN format('get: %s; in snapshot: %s; verify: %s', err($q$SELECT store_get('authors', '1')$q$),
                  store_snapshot()::jsonb ? 'authors',
                  (SELECT string_agg(problem || ' ' || stored::text, '; ') FROM store_verify('authors')));
END
$$;
SELECT readable();
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE post DISABLE TRIGGER store_authors;
ALTER EVENT TRIGGER store_triggers ENABLE;
SELECT readable();
SELECT store_reload('authors');
SELECT readable();
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE post_topic ENABLE REPLICA TRIGGER store_authors_truncate;
ALTER EVENT TRIGGER store_triggers ENABLE;
SELECT readable();
SELECT store_reload('authors');
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE topic DISABLE TRIGGER store_authors_flush;
ALTER TABLE author DISABLE TRIGGER store_authors_flush;
ALTER EVENT TRIGGER store_triggers ENABLE;
SELECT readable();
SELECT store._trigger_state('author', 'authors');
SELECT store_reload('authors');
SELECT readable();
-- The root's triggers, as before; and a flat key's (its partitions' too: tables.sql).
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE author DISABLE TRIGGER store_authors;
ALTER EVENT TRIGGER store_triggers ENABLE;
SELECT readable();
SELECT store._trigger_state('author', 'authors');
SELECT store_reload('authors');
SELECT store._trigger_state('author', 'authors');
SELECT store_register('topics', 'topic');
SELECT store._trigger_state('topic', 'topics');
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE topic DISABLE TRIGGER store_topics_truncate;
ALTER EVENT TRIGGER store_triggers ENABLE;
SELECT store._trigger_state('topic', 'topics');
SELECT err($$SELECT store_get('topics', '1')$$);
SELECT store_unregister('topics');
SELECT store_unregister('authors');
DROP FUNCTION readable();
DROP TABLE post_topic, topic, post, author;

-- Partitioned tables cannot be a nested key's root or be embedded in one (0A000; a flat key serves
-- them), nor a partition; and a table a nested key reaches cannot become a partition.
CREATE TABLE region (id int, day date, name text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
CREATE TABLE region_2026 PARTITION OF region FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE shop (id int PRIMARY KEY, region_id int, region_day date, FOREIGN KEY (region_id, region_day) REFERENCES region);
CREATE INDEX ON shop (region_id, region_day);
SELECT err($$SELECT store_register('s', 'shop', shape => 'id,region(name)')$$);
SELECT err($$SELECT store_register('r', 'region', shape => 'id,day,shops:shop(id)')$$);
SELECT err($$SELECT store_register('s', 'shop', shape => 'id,region_2026(name)')$$);
CREATE TABLE kiosk (id int PRIMARY KEY, shop_id int REFERENCES shop, name text);
CREATE INDEX ON kiosk (shop_id);
INSERT INTO kiosk VALUES (1, NULL, 'k');
SELECT store_register('k', 'kiosk', shape => 'id,name,shop(id)');
CREATE TABLE all_shops (id int PRIMARY KEY, region_id int, region_day date) PARTITION BY RANGE (id);
SELECT err($$ALTER TABLE all_shops ATTACH PARTITION shop FOR VALUES FROM (0) TO (100)$$);
CREATE TABLE all_kiosks (id int PRIMARY KEY, shop_id int, name text) PARTITION BY RANGE (id);
SELECT err($$ALTER TABLE all_kiosks ATTACH PARTITION kiosk FOR VALUES FROM (0) TO (100)$$);
SELECT store_get('k', '1');
SELECT store_unregister('k');
DROP TABLE all_kiosks, all_shops, kiosk, shop, region;

DROP VIEW IF EXISTS shape;
DROP FUNCTION changes(), check_docs(text);
DROP EXTENSION store CASCADE;
DROP FUNCTION err(text);
