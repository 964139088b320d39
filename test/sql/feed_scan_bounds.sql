-- The feed's kept generic plans read only the history rows a call needs, whatever plan the
-- statistics suggest: part 2 of the history (rows of transactions running in the version) is a few
-- index descents (xid = ANY (xip)), never a walk over every older row. Counted with the history
-- index's tuples read (pg_stat_user_indexes), not timed: 50000 old rows below the version, then
-- 100 new changes; each function is read several times, and the index may give up only a few
-- hundred tuples per call.
CREATE EXTENSION store;
CREATE TABLE bounds_items (id int PRIMARY KEY, qty int);
INSERT INTO bounds_items SELECT g, 0 FROM generate_series(1, 1000) g;
SELECT store_register('bounds', 'bounds_items');
-- An old history, as a long-lived store has: rows of transactions every version sees.
INSERT INTO store.history (origin, xid, cache_key, item, state)
    SELECT store._origin(), '3', 'bounds', to_jsonb(g % 1000), 'U' FROM generate_series(1, 50000) g;
ANALYZE store.history;
SELECT store_version() AS v \gset
UPDATE bounds_items SET qty = qty + 1 WHERE id <= 100;

-- The history index's tuples read so far (flushed: this session's counters are sent at its next idle).
CREATE FUNCTION bounds_read() RETURNS bigint LANGUAGE sql AS $$
    SELECT pg_stat_clear_snapshot();
    SELECT idx_tup_read FROM pg_catalog.pg_stat_user_indexes
     WHERE schemaname = 'store' AND indexrelname = 'history_xid_idx' $$;
SELECT pg_stat_force_next_flush();
SELECT bounds_read() AS r0 \gset
SELECT count(*) AS history_rows FROM store_history(:'v'), generate_series(1, 8) AS n;
SELECT pg_stat_force_next_flush();
SELECT bounds_read() AS r1 \gset
SELECT sum(jsonb_array_length(store_changes(:'v')::jsonb -> 'changes' -> 'bounds' -> 'upserted')) AS changed
  FROM generate_series(1, 8) AS n;
SELECT pg_stat_force_next_flush();
SELECT bounds_read() AS r2 \gset
SELECT (:r1 - :r0) / 8 < 1000 AS history_reads_few_rows, (:r2 - :r1) / 8 < 1000 AS changes_reads_few_rows;

DROP FUNCTION bounds_read();
DROP EXTENSION store CASCADE;
DROP TABLE bounds_items;
