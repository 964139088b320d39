-- store_snapshot_chunks keeps its state open between calls (src/pg/snapshot.cpp: an index scan of
-- store.entries, or under row-level security a tuplestore of the visible documents), and
-- store_snapshot_rows is SQL inlined over it. Every way a caller stops reading early, rescans it,
-- or reads it across subtransactions, commits and errors must end that state without a leaked
-- buffer pin, relation reference or snapshot (each shows as a WARNING at commit, which this
-- test's expected output has none of), and what is read stays the one snapshot.
CREATE EXTENSION store;
CREATE TABLE stream_a (id int PRIMARY KEY, v text);
INSERT INTO stream_a SELECT g, 'v' || g FROM generate_series(1, 300) g;
CREATE TABLE stream_b (id int PRIMARY KEY, v text);
INSERT INTO stream_b SELECT g, 'w' || g FROM generate_series(1, 50) g;
SELECT store_register('stream_a', 'stream_a');
SELECT store_register('stream_b', 'stream_b');
-- a reader that row-level security filters on stream_b (its even ids): that key streams from a
-- tuplestore, stream_a from the index scan
CREATE ROLE stream_reader;
GRANT SELECT ON stream_a, stream_b TO stream_reader;
ALTER TABLE stream_b ENABLE ROW LEVEL SECURITY;
CREATE POLICY even ON stream_b FOR SELECT USING (id % 2 = 0);
CREATE PROCEDURE stream_commit_in_loop() LANGUAGE plpgsql AS $$
DECLARE
    c text;
    n int := 0;
BEGIN
    FOR c IN SELECT r.c FROM store_snapshot_rows() AS r(c) LOOP
        n := n + 1;
        IF n % 50 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
    RAISE NOTICE 'read % chunks, committing every 50', n;
END
$$;
SET ROLE stream_reader;

-- the whole stream: the same text as store_snapshot(), 1 + (1 + 300 + 1) + (1 + 25 + 1) + 1 chunks
SELECT count(*) AS chunks, string_agg(c, '') = store_snapshot()::text AS same_text
  FROM store_snapshot_rows() AS r(c);

-- LIMIT, in FROM and in the select list
SELECT count(*) FROM (SELECT c FROM store_snapshot_rows() AS r(c) LIMIT 5) AS x;
SELECT count(*) FROM (SELECT store_snapshot_chunks() LIMIT 5) AS x;
SELECT count(*) FROM (SELECT store_snapshot_rows() LIMIT 5) AS x;

-- rescans: a LATERAL stream per outer row, cut short by LIMIT, and a semi-join that stops at
-- the first match
SELECT k, count(*) FROM (VALUES ('stream_a'), ('stream_b'), ('stream_a')) AS v(k),
       LATERAL (SELECT c FROM store_snapshot_rows(v.k) AS r(c) LIMIT 4) AS x
 GROUP BY k ORDER BY k;
SELECT k FROM (VALUES ('stream_a'), ('stream_b')) AS v(k)
 WHERE EXISTS (SELECT FROM store_snapshot_rows(v.k) AS r(c) WHERE c LIKE '%"w2"%') ORDER BY k;

-- a cursor closed early, and one left open at COMMIT (in each key's documents)
BEGIN;
DECLARE c1 CURSOR FOR SELECT c FROM store_snapshot_rows() AS r(c);
MOVE 10 IN c1;
CLOSE c1;
DECLARE c2 CURSOR FOR SELECT c FROM store_snapshot_rows() AS r(c);
MOVE 310 IN c2;
COMMIT;

-- fetches in a savepoint rolled back, an error in another, then the rest
BEGIN;
DECLARE c CURSOR FOR SELECT c FROM store_snapshot_rows() AS r(c);
MOVE 10 IN c;
SAVEPOINT s;
MOVE 300 IN c;
ROLLBACK TO s;
SAVEPOINT t;
SELECT 1 / 0;
ROLLBACK TO t;
MOVE ALL IN c;
COMMIT;

-- a cursor declared in a savepoint that is rolled back while the stream is open
BEGIN;
SAVEPOINT s;
DECLARE c CURSOR FOR SELECT c FROM store_snapshot_rows() AS r(c);
MOVE 305 IN c;
ROLLBACK TO s;
COMMIT;

-- an error ends the transaction while the stream is open
BEGIN;
DECLARE c CURSOR FOR SELECT c FROM store_snapshot_rows() AS r(c);
MOVE 310 IN c;
SELECT 1 / 0;
ROLLBACK;

-- a holdable cursor: the rest is kept at COMMIT, then read after it
BEGIN;
DECLARE c CURSOR WITH HOLD FOR SELECT c FROM store_snapshot_rows() AS r(c);
MOVE 305 IN c;
COMMIT;
MOVE ALL IN c;
CLOSE c;

-- PL/pgSQL: a loop left early, a loop whose body catches errors, COMMIT inside a loop
DO $$
DECLARE
    c text;
    n int := 0;
BEGIN
    FOR c IN SELECT r.c FROM store_snapshot_rows() AS r(c) LOOP
        n := n + 1;
        EXIT WHEN n = 305;
    END LOOP;
    FOR c IN SELECT store_snapshot_chunks() LOOP
        BEGIN
            PERFORM 1 / 0;
        EXCEPTION WHEN division_by_zero THEN
            n := n + 1;
        END;
    END LOOP;
    RAISE NOTICE 'read % chunks', n;
END
$$;
CALL stream_commit_in_loop();
-- a cursor moved inside a block whose subtransaction rolls back keeps its position (as any
-- cursor does): 10 + 300 + the rest = every chunk once
DO $$
DECLARE
    cur refcursor;
    before_block bigint;
    in_block bigint := 0;
    rest bigint;
BEGIN
    OPEN cur NO SCROLL FOR SELECT r.c FROM store_snapshot_rows() AS r(c);
    MOVE FORWARD 10 FROM cur;
    GET DIAGNOSTICS before_block = ROW_COUNT;
    BEGIN
        MOVE FORWARD 300 FROM cur;
        GET DIAGNOSTICS in_block = ROW_COUNT;
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
    MOVE FORWARD ALL FROM cur;
    GET DIAGNOSTICS rest = ROW_COUNT;
    CLOSE cur;
    RAISE NOTICE '% + % + % chunks', before_block, in_block, rest;
END
$$;

RESET ROLE;
DROP PROCEDURE stream_commit_in_loop();
DROP TABLE stream_a, stream_b;
DROP ROLE stream_reader;
DROP EXTENSION store;
