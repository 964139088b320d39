-- store_reload under READ COMMITTED writes only the entries whose stored text differs from what the
-- table renders now (src/pg/reload.cpp, writer.cpp ReloadEntries): an entry that already holds its
-- document keeps its tuple (same xmin and ctid), a drifted one is rewritten, a missing one
-- inserted, an extra one deleted — whatever order the rows come in (stepping one index scan
-- forward, or descending when they jump). The history gets exactly the reload's U row, no item
-- rows, and the version moves. Under REPEATABLE READ, and for a nested key, every entry is
-- rewritten, as before.
CREATE EXTENSION store;
-- rows stored in id order (the reload steps), in random order (it descends), and composite ids
CREATE TABLE ordered (id int PRIMARY KEY, name text);
INSERT INTO ordered SELECT g, 'item ' || g FROM generate_series(1, 3000) g;
CREATE TABLE shuffled (id int PRIMARY KEY, name text, active bool);
INSERT INTO shuffled SELECT g, 'item ' || g, g % 10 <> 0 FROM generate_series(1, 3000) g ORDER BY md5(g::text);
CREATE TABLE pairs (a text, b int, v text, PRIMARY KEY (a, b));
INSERT INTO pairs SELECT 'x' || (g % 37), g, 'v' || g FROM generate_series(1, 2000) g ORDER BY md5(g::text);
SELECT store_register('ordered', 'ordered');
SELECT store_register('shuffled', 'shuffled', filter => 'active');
SELECT store_register('pairs', 'pairs');

-- The entries as they are, to tell afterwards which tuples a reload wrote.
CREATE TABLE before AS SELECT key, id, xmin::text AS tx, ctid::text AS place FROM store.entries;
-- The drift a superuser's direct writes (or a store that did not follow) leave behind.
CREATE TABLE drift (key text, id jsonb, kind text);
INSERT INTO drift VALUES
    ('ordered', '5', 'changed'), ('ordered', '6', 'changed'), ('ordered', '3000', 'changed'),
    ('ordered', '1', 'missing'), ('ordered', '7', 'missing'), ('ordered', '2999', 'missing'),
    ('ordered', '0', 'extra'), ('ordered', '1500.5', 'extra'), ('ordered', '99999', 'extra'), ('ordered', '"s"', 'extra'),
    -- the same document as different text (spaces): stored text counts, not meaning
    ('ordered', '100', 'respaced'),
    ('shuffled', '11', 'changed'), ('shuffled', '2999', 'changed'), ('shuffled', '12', 'missing'),
    ('shuffled', '20', 'extra'), ('shuffled', '3001', 'extra'),
    ('pairs', '["x1", 1]', 'changed'), ('pairs', '["x2", 2000]', 'missing'), ('pairs', '["x0", 0]', 'extra');
UPDATE store.entries AS e SET doc = '{"drifted": true}'
  FROM drift AS d WHERE d.kind = 'changed' AND e.key = d.key AND e.id = d.id;
UPDATE store.entries AS e SET doc = pg_catalog.replace(e.doc::text, ':', ': ')::json
  FROM drift AS d WHERE d.kind = 'respaced' AND e.key = d.key AND e.id = d.id;
DELETE FROM store.entries AS e USING drift AS d WHERE d.kind = 'missing' AND e.key = d.key AND e.id = d.id;
INSERT INTO store.entries (key, id, doc) SELECT d.key, d.id, '{}' FROM drift AS d WHERE d.kind = 'extra';
SELECT cache_key, problem, count(*) FROM store_verify() GROUP BY 1, 2 ORDER BY 1, 2;

CREATE TABLE start AS SELECT store_version() AS version;
SELECT store_reload('ordered'), store_reload('shuffled'), store_reload('pairs');
SELECT count(*) AS problems_left FROM store_verify();
-- every entry: one per stored row
SELECT (SELECT count(*) FROM store.entries WHERE key = 'ordered') = (SELECT count(*) FROM ordered) AS ordered_whole,
       (SELECT count(*) FROM store.entries WHERE key = 'shuffled') = (SELECT count(*) FROM shuffled WHERE active) AS shuffled_whole,
       (SELECT count(*) FROM store.entries WHERE key = 'pairs') = (SELECT count(*) FROM pairs) AS pairs_whole;
-- written: exactly the drifted entries (new tuples), the missing ones inserted; every other entry
-- is the tuple it was
SELECT e.key, e.id #>> '{}' AS id, d.kind
  FROM store.entries AS e
  LEFT JOIN before AS b ON b.key = e.key AND b.id = e.id AND b.tx = e.xmin::text AND b.place = e.ctid::text
  LEFT JOIN drift AS d ON d.key = e.key AND d.id = e.id
 WHERE b.key IS NULL
 ORDER BY 1, 2;
SELECT count(*) AS untouched_drift
  FROM drift AS d JOIN store.entries AS e ON e.key = d.key AND e.id = d.id
  JOIN before AS b ON b.key = e.key AND b.id = e.id AND b.tx = e.xmin::text AND b.place = e.ctid::text;
-- the history: one U (item NULL) per reload, nothing per item; the version moved
SELECT cache_key, item_id, state FROM store_history((SELECT version FROM start));
SELECT store_version() <> (SELECT version FROM start) AS version_moved;

-- A reload with nothing to repair writes no entry at all.
TRUNCATE before;
INSERT INTO before SELECT key, id, xmin::text, ctid::text FROM store.entries;
SELECT store_reload('ordered');
SELECT count(*) AS rewritten
  FROM store.entries AS e LEFT JOIN before AS b ON b.key = e.key AND b.id = e.id AND b.place = e.ctid::text AND b.tx = e.xmin::text
 WHERE b.key IS NULL;

-- Rows that changed while the store did not follow (triggers bypassed by a superuser with the
-- event triggers off) are found too, in any order.
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE shuffled DISABLE TRIGGER store_shuffled;
UPDATE shuffled SET name = 'renamed ' || id WHERE id % 97 = 0;
UPDATE shuffled SET active = NOT active WHERE id % 89 = 0;
DELETE FROM shuffled WHERE id % 83 = 0;
INSERT INTO shuffled SELECT g, 'late ' || g, true FROM generate_series(3001, 3010) g;
ALTER TABLE shuffled ENABLE ALWAYS TRIGGER store_shuffled;
ALTER EVENT TRIGGER store_triggers ENABLE ALWAYS;
SELECT problem, count(*) FROM store_verify('shuffled') GROUP BY 1 ORDER BY 1;
SELECT store_reload('shuffled');
SELECT count(*) AS problems_left FROM store_verify();

-- Under REPEATABLE READ the reload deletes and inserts every entry (a snapshot older than a
-- concurrent rebuild fails with 40001 there): the same documents, all of them new tuples.
TRUNCATE before;
INSERT INTO before SELECT key, id, xmin::text, ctid::text FROM store.entries;
UPDATE store.entries SET doc = '{}' WHERE key = 'ordered' AND id = '42';
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT store_reload('ordered');
COMMIT;
SELECT count(*) AS problems_left FROM store_verify();
SELECT count(*) AS kept_tuples
  FROM store.entries AS e JOIN before AS b ON b.key = e.key AND b.id = e.id AND b.place = e.ctid::text AND b.tx = e.xmin::text
 WHERE e.key = 'ordered';

-- Only READ COMMITTED takes the path that skips.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT store._reload_entries('ordered');
ROLLBACK;

-- A nested key is rebuilt whole (writers of its other tables are not held back by the reload's
-- lock): every entry rewritten, drift repaired.
CREATE TABLE orders (id int PRIMARY KEY, status text);
CREATE TABLE line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders, qty int);
CREATE INDEX ON line (order_id);
INSERT INTO orders SELECT g, 'open' FROM generate_series(1, 20) g;
INSERT INTO line SELECT g, g % 20 + 1, g FROM generate_series(1, 60) g;
SELECT store_register('o', 'orders', shape => 'id,status,lines:line(id,qty)');
TRUNCATE before;
INSERT INTO before SELECT key, id, xmin::text, ctid::text FROM store.entries WHERE key = 'o';
UPDATE store.entries SET doc = '{}' WHERE key = 'o' AND id = '3';
SELECT store_reload('o');
SELECT count(*) AS problems_left FROM store_verify('o');
SELECT count(*) AS kept_tuples
  FROM store.entries AS e JOIN before AS b ON b.key = e.key AND b.id = e.id AND b.place = e.ctid::text AND b.tx = e.xmin::text
 WHERE e.key = 'o';

DROP EXTENSION store CASCADE;
DROP TABLE ordered, shuffled, pairs, before, drift, start, line, orders;
