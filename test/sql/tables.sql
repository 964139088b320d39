-- Every real table: composite primary keys (ids are JSON arrays of the key values, in key-column
-- order) and partitioned tables registered at their root.
CREATE EXTENSION store;
CREATE FUNCTION err(cmd text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE cmd;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- verified(): store_verify() finds nothing, over every key.
CREATE FUNCTION verified() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(cache_key || ' ' || coalesce(item_id, '-') || ' ' || problem, '; '), 'verified')
      FROM store_verify()
$$;

---------------------------------------------------------------------------------------------
-- Composite primary keys
---------------------------------------------------------------------------------------------

-- A join table: ids are [actor_id, film_id], in key-column order (not column order).
CREATE TABLE film_actor (film_id int, actor_id int, last_update timestamptz NOT NULL DEFAULT '2020-01-01 10:00+02',
                         PRIMARY KEY (actor_id, film_id));
INSERT INTO film_actor (actor_id, film_id) VALUES (1, 23), (1, 5), (2, 1), (10, 2), (2, 100);
SELECT store_register('film_actor', 'film_actor');
SELECT id_type, shape FROM store.keys WHERE key = 'film_actor';
SELECT id, doc FROM store.entries WHERE key = 'film_actor' ORDER BY id;
SELECT verified();

-- C, U, D and a key change (D + C) carry the array id; item_id is its text.
SELECT store_version() AS v0 \gset
INSERT INTO film_actor (actor_id, film_id) VALUES (3, 4);
UPDATE film_actor SET last_update = '2021-06-01 00:00+00' WHERE actor_id = 1 AND film_id = 5;
UPDATE film_actor SET film_id = 6 WHERE actor_id = 1 AND film_id = 5;
DELETE FROM film_actor WHERE actor_id = 2 AND film_id = 1;
SELECT cache_key, item_id, state FROM store_history(:'v0');
SELECT verified();

-- store_changes lists deleted ids as arrays.
SELECT store_changes(:'v0')::jsonb #> '{changes,film_actor}' AS changes;

-- store_get reads [1,23] (numbers or strings, any spacing); wrong shapes are refused.
SELECT store_get('film_actor', '[1,23]');
SELECT store_get('film_actor', '[ "1" , "23" ]');
SELECT store_get('film_actor', '[23,1]') AS wrong_order;
SELECT err($$SELECT store_get('film_actor', '[1]')$$);
SELECT err($$SELECT store_get('film_actor', '1')$$);
SELECT err($$SELECT store_get('film_actor', '[1,2,3]')$$);
SELECT err($$SELECT store_get('film_actor', '[1,[2]]')$$);
SELECT err($$SELECT store_get('film_actor', '[1,null]')$$);
SELECT err($$SELECT store_get('film_actor', '[1,"x"]')$$);
SELECT err($$SELECT store_get('film_actor', 'not json')$$);

-- Snapshots come in key order: actor_id, then film_id (numerically: 2 < 10, 6 < 23 < 100).
SELECT json_array_elements(store_snapshot('film_actor') -> 'film_actor') ->> 'actor_id' AS actor,
       json_array_elements(store_snapshot('film_actor') -> 'film_actor') ->> 'film_id' AS film;

-- Key columns of other types: each element in its type's input syntax, as to_json renders it.
CREATE TABLE stamped (at timestamptz, label text, n numeric, day date, flag boolean, u uuid,
                      note text, PRIMARY KEY (at, label, n, day, flag, u));
INSERT INTO stamped VALUES ('2020-01-01 00:00:00.5+00', 'x "quoted"', 1.50, '2020-02-29', true,
                            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'first');
SELECT store_register('stamped', 'stamped');
SET TimeZone = 'America/New_York';
SET DateStyle = 'German';
INSERT INTO stamped VALUES ('2020-01-01 00:00:00+00', 'y', -2, '2019-12-31', false,
                            '00000000-0000-0000-0000-000000000000', 'second');
SELECT id FROM store.entries WHERE key = 'stamped' ORDER BY id;
SELECT store_get('stamped', (SELECT id::text FROM store.entries WHERE key = 'stamped' AND doc->>'note' = 'first'));
SELECT store_get('stamped', '["2019-12-31T19:00:00-05:00", "y", -2.0, "2019-12-31", false, "00000000-0000-0000-0000-000000000000"]') AS other_spelling;
RESET TimeZone;
RESET DateStyle;
SELECT verified();

-- Every key column needs a canonical key type; deferrable keys stay refused.
CREATE TABLE badpart (a int, b interval, PRIMARY KEY (a, b));
SELECT err($$SELECT store_register('badpart', 'badpart')$$);
CREATE TABLE deferred_pair (a int, b int, PRIMARY KEY (a, b) DEFERRABLE);
SELECT err($$SELECT store_register('deferred_pair', 'deferred_pair')$$);

-- Chosen columns may leave the key out; ids still hold it.
CREATE TABLE film_category (film_id int, category_id int, note text, PRIMARY KEY (film_id, category_id));
INSERT INTO film_category VALUES (1, 2, 'a'), (1, 1, 'b');
SELECT store_register('film_notes', 'film_category', columns => ARRAY['note']);
SELECT id, doc FROM store.entries WHERE key = 'film_notes' ORDER BY id;
UPDATE film_category SET note = 'c' WHERE film_id = 1 AND category_id = 1;
SELECT store_get('film_notes', '[1,1]');
SELECT verified();

-- DDL: renaming a key column keeps the ids; a changed key (a new column in it) rebuilds them.
ALTER TABLE film_category RENAME COLUMN category_id TO cat_id;
SELECT id_type, shape FROM store.keys WHERE key = 'film_notes';
ALTER TABLE film_category ADD COLUMN extra int NOT NULL DEFAULT 0;
ALTER TABLE film_category DROP CONSTRAINT film_category_pkey, ADD PRIMARY KEY (film_id, cat_id, extra);
SELECT id_type, shape FROM store.keys WHERE key = 'film_notes';
SELECT id FROM store.entries WHERE key = 'film_notes' ORDER BY id;
SELECT verified();
-- back to a single-column key: scalar ids again
ALTER TABLE film_category DROP CONSTRAINT film_category_pkey,
    ADD COLUMN serial_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
SELECT id_type, shape FROM store.keys WHERE key = 'film_notes';
SELECT id FROM store.entries WHERE key = 'film_notes' ORDER BY id;
SELECT verified();

-- Row-level security on a composite-key table: readers see their rows only.
CREATE TABLE grants (owner_name text, item int, note text, PRIMARY KEY (owner_name, item));
INSERT INTO grants VALUES ('store_tables_ann', 1, 'a1'), ('someone', 1, 's1'), ('store_tables_ann', 2, 'a2');
ALTER TABLE grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_grants ON grants FOR SELECT USING (owner_name = current_user);
SELECT store_register('grants', 'grants');
CREATE ROLE store_tables_ann;
GRANT SELECT ON grants TO store_tables_ann;
SET ROLE store_tables_ann;
SELECT store_snapshot('grants') -> 'grants' AS visible;
SELECT store_get('grants', '["store_tables_ann", 2]') AS mine;
SELECT store_get('grants', '["someone", 1]') AS not_mine;
RESET ROLE;
DROP OWNED BY store_tables_ann;
DROP ROLE store_tables_ann;

---------------------------------------------------------------------------------------------
-- Partitioned tables, registered at their root
---------------------------------------------------------------------------------------------

-- Partitions numbering their columns differently (a dropped column, another order), a default
-- partition, and a partition that is itself partitioned.
CREATE TABLE payment (payment_id int, month int, amount numeric, note text, PRIMARY KEY (payment_id, month))
    PARTITION BY LIST (month);
CREATE TABLE payment_1 PARTITION OF payment FOR VALUES IN (1);
CREATE TABLE payment_2 (note text, dropped int, amount numeric, month int NOT NULL, payment_id int NOT NULL);
ALTER TABLE payment_2 DROP COLUMN dropped;
ALTER TABLE payment ATTACH PARTITION payment_2 FOR VALUES IN (2);
CREATE TABLE payment_3 PARTITION OF payment FOR VALUES IN (3) PARTITION BY RANGE (payment_id);
CREATE TABLE payment_3a PARTITION OF payment_3 FOR VALUES FROM (0) TO (1000);
CREATE TABLE payment_other PARTITION OF payment DEFAULT;
INSERT INTO payment VALUES (1, 1, 10, 'a'), (2, 2, 20, 'b'), (3, 3, 30, 'c'), (4, 9, 40, 'd');
SELECT store_register('payment', 'payment');
SELECT id, doc FROM store.entries WHERE key = 'payment' ORDER BY id;
-- the row trigger is cloned to every partition, and each partition has its own truncate trigger
SELECT tgrelid::regclass AS rel, tgname, tgenabled, tgparentid <> 0 AS clone FROM pg_trigger
 WHERE tgname LIKE 'store_payment%' ORDER BY tgrelid::regclass::text, tgname;
SELECT verified();

-- Writes into each partition, through the root and directly; a row moved to another partition
-- changes its primary key (which holds the partition key): D of the old id, C of the new one.
SELECT store_version() AS p0 \gset
INSERT INTO payment VALUES (5, 1, 50, 'e'), (6, 2, 60, 'f'), (7, 3, 70, 'g'), (8, 12, 80, 'h');
INSERT INTO payment_2 (payment_id, month, amount, note) VALUES (9, 2, 90, 'i');
UPDATE payment SET note = 'B' WHERE payment_id = 2;
UPDATE payment_2 SET amount = 61 WHERE payment_id = 6;
UPDATE payment SET month = 3 WHERE payment_id = 1;
UPDATE payment SET month = 2 WHERE payment_id = 4;
DELETE FROM payment WHERE payment_id = 5;
DELETE FROM payment_3a WHERE payment_id = 7;
SELECT cache_key, item_id, state FROM store_history(:'p0');
SELECT store_get('payment', '[2,2]'), store_get('payment', '[4,2]');
SELECT verified();

-- A partition created after registration: its rows follow at once.
CREATE TABLE payment_4 PARTITION OF payment FOR VALUES IN (4);
INSERT INTO payment VALUES (10, 4, 100, 'j');
SELECT store_get('payment', '[10,4]');
SELECT verified();

-- ATTACH PARTITION brings a table's rows in (C each), DETACH PARTITION takes them out (D each),
-- in the same transaction; a rollback leaves the documents as they were.
CREATE TABLE payment_5 (payment_id int NOT NULL, month int NOT NULL, amount numeric, note text);
INSERT INTO payment_5 VALUES (11, 5, 110, 'k'), (12, 5, 120, 'l');
SELECT store_version() AS p1 \gset
BEGIN;
ALTER TABLE payment ATTACH PARTITION payment_5 FOR VALUES IN (5);
SELECT verified();
SELECT store_get('payment', '[11,5]');
ROLLBACK;
SELECT store_get('payment', '[11,5]') AS after_rollback;
SELECT verified();
BEGIN;
ALTER TABLE payment ATTACH PARTITION payment_5 FOR VALUES IN (5);
INSERT INTO payment VALUES (13, 5, 130, 'm');
ALTER TABLE payment DETACH PARTITION payment_2;
SELECT verified();
COMMIT;
SELECT cache_key, item_id, state FROM store_history(:'p1');
SELECT verified();
-- the detached table keeps no store trigger; its writes and TRUNCATE no longer concern the key
SELECT tgname FROM pg_trigger WHERE tgrelid = 'payment_2'::regclass;
INSERT INTO payment_2 (payment_id, month) VALUES (99, 2);
TRUNCATE payment_2;
BEGIN;
ALTER TABLE payment DETACH PARTITION payment_5;
ALTER TABLE payment ATTACH PARTITION payment_2 FOR VALUES IN (2);
ROLLBACK;
SELECT verified();

-- TRUNCATE of one partition deletes its documents only (D each); of a sub-partitioned one, its
-- partitions' documents; of the root, the whole key (U).
SELECT store_version() AS p2 \gset
TRUNCATE payment_1;
TRUNCATE payment_3;
SELECT cache_key, item_id, state FROM store_history(:'p2');
SELECT verified();
INSERT INTO payment VALUES (20, 1, 1, 'x'), (21, 3, 1, 'y');
SELECT store_version() AS p3 \gset
TRUNCATE payment;
SELECT cache_key, item_id, state FROM store_history(:'p3');
SELECT count(*) AS documents FROM store.entries WHERE key = 'payment';
SELECT verified();

-- DROP TABLE of a partition takes its rows' documents along (D each).
INSERT INTO payment VALUES (30, 4, 1, 'x'), (31, 1, 1, 'y');
SELECT store_version() AS p4 \gset
DROP TABLE payment_4;
SELECT cache_key, item_id, state FROM store_history(:'p4');
SELECT verified();

-- A partition's store triggers cannot be stopped: PostgreSQL refuses to drop or rename a clone,
-- the store refuses to disable it or to drop or disable a partition's truncate trigger.
SELECT err($$DROP TRIGGER store_payment ON payment_1$$);
SELECT err($$ALTER TRIGGER store_payment ON payment_1 RENAME TO other$$);
SELECT err($$ALTER TABLE payment_1 DISABLE TRIGGER store_payment$$);
SELECT err($$ALTER TABLE payment_1 ENABLE REPLICA TRIGGER store_payment$$);
SELECT err($$ALTER TABLE payment_3a DISABLE TRIGGER store_payment_truncate$$);
SELECT err($$DROP TRIGGER store_payment_truncate ON payment_3a$$);
SELECT err($$ALTER TABLE payment DISABLE TRIGGER store_payment$$);
-- plain ENABLE (not ALWAYS) is allowed, as on the root
SELECT err($$ALTER TABLE payment_1 ENABLE TRIGGER store_payment$$);
SELECT verified();
-- stopped anyway (the store's event triggers off for a moment): readers refuse the key,
-- store_verify names the trigger, store_reload reinstalls every trigger
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE payment_1 DISABLE TRIGGER store_payment;
ALTER EVENT TRIGGER store_triggers ENABLE ALWAYS;
SELECT err($$SELECT store_snapshot('payment')$$);
SELECT cache_key, problem, stored FROM store_verify('payment');
SELECT store_reload('payment');
SELECT tgrelid::regclass AS rel, tgname, tgenabled FROM pg_trigger
 WHERE tgname LIKE 'store_payment%' ORDER BY tgrelid::regclass::text, tgname;
SELECT verified();
SELECT json_array_length(store_snapshot('payment') -> 'payment') AS documents;

-- Registering a single partition keeps working, next to its root's key.
SELECT store_register('payment_one', 'payment_1');
INSERT INTO payment VALUES (40, 1, 1, 'z');
SELECT key, id FROM store.entries WHERE key IN ('payment', 'payment_one') AND id = '[40, 1]' ORDER BY key;
TRUNCATE payment_1;
SELECT count(*) FILTER (WHERE key = 'payment_one') AS one, count(*) FILTER (WHERE key = 'payment') AS root
  FROM store.entries;
SELECT verified();

-- Unregistering the root removes every store trigger from its partitions.
SELECT store_unregister('payment');
SELECT tgrelid::regclass AS rel, tgname FROM pg_trigger
 WHERE tgname LIKE 'store_payment%' ORDER BY tgrelid::regclass::text, tgname;
SELECT verified();

-- A partition owned by another role: its rows render with the rights of the registered table's
-- owner, as every rebuild and store_verify render them (here a cast to json tells who runs it).
CREATE ROLE store_tables_bob;
CREATE TYPE mood AS ENUM ('fine');
CREATE FUNCTION mood_json(mood) RETURNS json LANGUAGE sql STABLE AS $$ SELECT pg_catalog.to_json(current_user::text) $$;
CREATE CAST (mood AS json) WITH FUNCTION mood_json(mood);
CREATE TABLE moods (id int PRIMARY KEY, m mood) PARTITION BY RANGE (id);
CREATE TABLE moods_1 PARTITION OF moods FOR VALUES FROM (0) TO (100);
ALTER TABLE moods_1 OWNER TO store_tables_bob;
SELECT store_register('moods', 'moods');
INSERT INTO moods VALUES (1, 'fine');
SELECT doc ->> 'm' = current_user AS rendered_as_the_tables_owner FROM store.entries WHERE key = 'moods';
SELECT verified();
SELECT store_unregister('moods');
DROP TABLE moods;
DROP ROLE store_tables_bob;

---------------------------------------------------------------------------------------------
-- Reconciling a partitioned key's documents with its rows (partition DDL, DROP, TRUNCATE)
---------------------------------------------------------------------------------------------

-- DETACH then ATTACH of the same partition in one transaction: D of its rows, then C again.
CREATE TABLE ledger (id int, part int, amount int, PRIMARY KEY (id, part)) PARTITION BY LIST (part);
CREATE TABLE ledger_1 PARTITION OF ledger FOR VALUES IN (1);
CREATE TABLE ledger_2 PARTITION OF ledger FOR VALUES IN (2);
INSERT INTO ledger VALUES (1, 1, 10), (2, 2, 20), (3, 2, 30);
SELECT store_register('ledger', 'ledger');
SELECT store_version() AS l0 \gset
BEGIN;
ALTER TABLE ledger DETACH PARTITION ledger_2;
ALTER TABLE ledger ATTACH PARTITION ledger_2 FOR VALUES IN (2);
COMMIT;
SELECT cache_key, item_id, state FROM store_history(:'l0');
SELECT verified();

-- Documents out of step (partition DDL while the store's event trigger was off): the next
-- reconciliation deletes the entries whose row is gone (D, first) and adds the rows without one
-- (C); a row whose document is there already is left alone.
CREATE TABLE ledger_3 (id int NOT NULL, part int NOT NULL, amount int);
INSERT INTO ledger_3 VALUES (4, 3, 40), (5, 3, 50);
ALTER EVENT TRIGGER store_partitions DISABLE;
ALTER TABLE ledger ATTACH PARTITION ledger_3 FOR VALUES IN (3);
ALTER TABLE ledger DETACH PARTITION ledger_1;
ALTER EVENT TRIGGER store_partitions ENABLE ALWAYS;
INSERT INTO ledger VALUES (6, 3, 60);
SELECT id FROM store.entries WHERE key = 'ledger' ORDER BY id;
SELECT store_version() AS l1 \gset
CREATE TABLE ledger_4 PARTITION OF ledger FOR VALUES IN (4);
SELECT cache_key, item_id, state FROM store_history(:'l1');
SELECT verified();

-- A filtered key on a partitioned table: an attached partition brings only its matching rows,
-- a detached or truncated one takes only those away.
SELECT store_register('ledger_big', 'ledger', filter => 'amount >= 30');
SELECT id FROM store.entries WHERE key = 'ledger_big' ORDER BY id;
CREATE TABLE ledger_5 (id int NOT NULL, part int NOT NULL, amount int);
INSERT INTO ledger_5 VALUES (7, 5, 5), (8, 5, 500), (9, 5, 29), (10, 5, 31);
SELECT store_version() AS l2 \gset
ALTER TABLE ledger ATTACH PARTITION ledger_5 FOR VALUES IN (5);
SELECT cache_key, item_id, state FROM store_history(:'l2');
SELECT verified();
SELECT store_version() AS l3 \gset
TRUNCATE ledger_5;
ALTER TABLE ledger DETACH PARTITION ledger_3;
SELECT cache_key, item_id, state FROM store_history(:'l3');
SELECT verified();
SELECT store_unregister('ledger_big');
SELECT store_unregister('ledger');
DROP TABLE ledger, ledger_1, ledger_3;
