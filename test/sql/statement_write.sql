-- One executor state per statement (src/pg/writer.cpp, StatementWrite): the row events of one
-- statement share the store tables' executor state. Whatever aborts around it (the statement at
-- its 15,000th row, a savepoint, a subtransaction inside another trigger between the rows, the
-- transaction), the store and its history stay exact: every version of every row that stayed,
-- nothing of what was rolled back; and the state is closed when its statement ends.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE TABLE big (id int PRIMARY KEY, v int);
CREATE TABLE side (id int PRIMARY KEY);
SELECT store_register('big', 'big');
SELECT store_register('side', 'side');
-- exact(key): the store's documents of key equal its table now, and each row's history is exactly
-- 'C' then one 'U' per recorded update (versions(key) lists the counts).
CREATE FUNCTION exact(k text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    src regclass := (SELECT source FROM store.keys WHERE key = k);
    expected jsonb;
    actual jsonb;
BEGIN
    EXECUTE format('SELECT coalesce(jsonb_agg(to_json(t)::jsonb ORDER BY t.id), ''[]'') FROM %s t', src) INTO expected;
    SELECT coalesce(jsonb_agg(doc::jsonb ORDER BY id), '[]') INTO actual FROM store.entries WHERE key = k;
    RETURN expected = actual;
END $$;
CREATE FUNCTION versions(k text) RETURNS TABLE (state text, n bigint, items bigint) LANGUAGE sql AS $$
    SELECT h.state, count(*), count(DISTINCT h.item) FROM store.history AS h
     WHERE h.cache_key = k GROUP BY h.state ORDER BY h.state
$$;

-- Bulk INSERT, UPDATE and DELETE, one statement each: every version.
INSERT INTO big SELECT g, g FROM generate_series(1, 1000) g;
UPDATE big SET v = v + 1;
DELETE FROM big WHERE id > 900;
SELECT * FROM versions('big');
SELECT exact('big');

-- The state is closed when its statement ends: DDL on store.entries later in the same
-- transaction finds it unused (an open state: "cannot ALTER TABLE ... being used by active queries").
BEGIN;
UPDATE big SET v = v + 1 WHERE id <= 10;
ALTER TABLE store.entries SET (fillfactor = 100);
ALTER TABLE store.history SET (fillfactor = 100);
ROLLBACK;

-- A superuser's triggers on the store tables still fire, once per row written (and the tables
-- the trigger manager opened for them are closed: no "relcache reference leak" warning).
CREATE TABLE fired (tbl text, n int);
CREATE FUNCTION count_fired() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fired SET n = n + 1 WHERE tbl = TG_TABLE_NAME;
    IF NOT FOUND THEN INSERT INTO fired VALUES (TG_TABLE_NAME, 1); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER count_entries AFTER INSERT OR UPDATE ON store.entries FOR EACH ROW EXECUTE FUNCTION count_fired();
CREATE TRIGGER count_history AFTER INSERT ON store.history FOR EACH ROW EXECUTE FUNCTION count_fired();
UPDATE big SET v = v + 1 WHERE id <= 300;
SELECT * FROM fired ORDER BY tbl;
DROP TRIGGER count_entries ON store.entries;
DROP TRIGGER count_history ON store.history;
TRUNCATE store.history;
SELECT exact('big');

-- An error in the statement's 15,000th row, after the store wrote the 14,999 before it and the
-- 15,000th itself (zz_fail fires after store_big): the savepoint's rollback leaves none of them,
-- and the next statement in the same transaction writes through a fresh state.
CREATE FUNCTION fail_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = 15000 OR NEW.v < 0 THEN RAISE EXCEPTION 'row % refused', NEW.id; END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER zz_fail AFTER INSERT OR UPDATE ON big FOR EACH ROW EXECUTE FUNCTION fail_at();
BEGIN;
SAVEPOINT s;
INSERT INTO big SELECT g, g FROM generate_series(1001, 15500) g;
ROLLBACK TO s;
INSERT INTO big SELECT g, g FROM generate_series(1001, 1100) g;
UPDATE big SET v = v + 1 WHERE id > 1050;
COMMIT;
SELECT count(*) AS entries, max(id::text::int) AS last FROM store.entries WHERE key = 'big';
SELECT * FROM versions('big');
SELECT exact('big');

-- The same without a savepoint: the transaction aborts, the session writes on.
INSERT INTO big SELECT g, g FROM generate_series(1101, 15500) g;
SELECT count(*) AS entries FROM store.entries WHERE key = 'big';
UPDATE big SET v = v + 1 WHERE id <= 5;
SELECT * FROM versions('big');
SELECT exact('big');

-- Subtransactions (exception blocks) whose bulk UPDATE fails at one of its rows, then more writes
-- in the function's own subtransaction level.
TRUNCATE store.history;
SELECT err('UPDATE big SET v = CASE WHEN id = 1050 THEN -1 ELSE v + 1 END WHERE id > 1000');
DO $$
BEGIN
    BEGIN
        UPDATE big SET v = CASE WHEN id = 1100 THEN -1 ELSE v + 100 END WHERE id >= 1000;
    EXCEPTION WHEN raise_exception THEN
        RAISE NOTICE 'caught: %', SQLERRM;
    END;
    UPDATE big SET v = v + 1 WHERE id BETWEEN 2 AND 4;
END $$;
SELECT * FROM versions('big');
SELECT exact('big');
DROP TRIGGER zz_fail ON big;

-- Between the rows of one statement, another trigger writes to another key in subtransactions,
-- every other one rolled back (rows written, then a savepoint rolled back mid-statement): both
-- keys stay exact, and the statement's own writes go on through its state.
CREATE FUNCTION side_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id % 10 = 0 THEN
        BEGIN
            INSERT INTO side VALUES (NEW.id);
            IF NEW.id % 20 = 0 THEN RAISE EXCEPTION 'undo side %', NEW.id; END IF;
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER zz_side AFTER UPDATE ON big FOR EACH ROW EXECUTE FUNCTION side_write();
TRUNCATE store.history;
UPDATE big SET v = v + 1 WHERE id <= 200;
SELECT * FROM versions('big');
SELECT * FROM versions('side');
SELECT count(*) AS side_rows, bool_and(id % 20 = 10) AS only_kept FROM side;
SELECT exact('big'), exact('side');
DROP TRIGGER zz_side ON big;

-- A statement that changes primary keys (D then C per row) and COPY (its rows are not fired by
-- an executor's finish: one state per write, as before).
TRUNCATE store.history;
UPDATE big SET id = id + 1000000 WHERE id <= 3;
COPY big FROM stdin;
2000001	1
2000002	2
\.
SELECT * FROM versions('big');
SELECT exact('big');

-- Two keys written by one statement (a data-modifying WITH): one state for both, every version
-- of each; TRUNCATE of the store tables later in the same transaction finds them closed.
TRUNCATE store.history;
WITH a AS (INSERT INTO side SELECT g FROM generate_series(1001, 1200) g RETURNING id)
UPDATE big SET v = v + 1 WHERE id IN (SELECT id - 1000 FROM a);
BEGIN;
WITH d AS (DELETE FROM side WHERE id > 1100 RETURNING id) UPDATE big SET v = v + 1 WHERE id IN (SELECT id - 1000 FROM d);
TRUNCATE store.entries, store.history;
ROLLBACK;
SELECT cache_key, state, count(*) FROM store.history GROUP BY 1, 2 ORDER BY 1, 2;
SELECT exact('big'), exact('side');

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE big, side, fired;
DROP FUNCTION err(text), exact(text), versions(text), count_fired(), fail_at(), side_write();
