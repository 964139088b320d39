#!/usr/bin/env bash
# Every real table shape under concurrent writers: a join table with a composite key, a table
# partitioned by month (a default partition, rows moving between partitions, a partition detached
# and attached again while writers run) and a partial key (a filter rows move in and out of),
# written by several pgbench clients at once. Afterwards store_verify() is empty for every key and
# a follower that applied every page of store_changes since the start holds exactly the store.
# Runs inside pg_virtualenv (or against the PG* server; see lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
test_name="shapes stress"
db=store_shapes
. test/integration/lib.sh
seconds=${SHAPES_SECONDS:-15}

fresh_database "$db"
psql_ -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION store;
CREATE TABLE film_actor (actor_id int, film_id int, last_update timestamptz NOT NULL DEFAULT now(),
                         PRIMARY KEY (actor_id, film_id));
INSERT INTO film_actor SELECT a, f, '2026-01-01' FROM generate_series(1, 20) a, generate_series(1, 20) f;
CREATE TABLE payment (payment_id int, month int, amount numeric(10,2), PRIMARY KEY (payment_id, month))
    PARTITION BY LIST (month);
CREATE TABLE payment_1 PARTITION OF payment FOR VALUES IN (1);
CREATE TABLE payment_2 PARTITION OF payment FOR VALUES IN (2);
CREATE TABLE payment_3 PARTITION OF payment FOR VALUES IN (3);
CREATE TABLE payment_rest PARTITION OF payment DEFAULT;
INSERT INTO payment SELECT g, g % 5 + 1, g FROM generate_series(1, 500) g;
CREATE TABLE items (id int PRIMARY KEY, name text, active bool NOT NULL, qty int NOT NULL);
INSERT INTO items SELECT g, 'item ' || g, g % 2 = 0, 0 FROM generate_series(1, 500) g;
SELECT store_register('film_actor', 'film_actor');
SELECT store_register('payment', 'payment');
SELECT store_register('active_items', 'items', ARRAY['id', 'name', 'qty'], filter => 'active AND qty < 1000');
SQL
start=$(q "SELECT store_snapshot()")

writes=$(mktemp)
cat > "$writes" <<'SQL'
\set a random(1, 30)
\set f random(1, 30)
\set p random(1, 600)
\set i random(1, 600)
BEGIN;
INSERT INTO film_actor VALUES (:a, :f) ON CONFLICT (actor_id, film_id) DO UPDATE SET last_update = now();
DELETE FROM film_actor WHERE actor_id = :f AND film_id = :a;
SELECT pg_advisory_xact_lock(:p);
INSERT INTO payment SELECT :p, :p % 5 + 1, 1
 WHERE NOT EXISTS (SELECT FROM payment WHERE payment_id = :p);
UPDATE payment SET month = month % 5 + 1, amount = amount + 1 WHERE payment_id = :p;
INSERT INTO items VALUES (:i, 'new', true, 0) ON CONFLICT (id) DO UPDATE SET active = NOT items.active, qty = items.qty + 1;
DELETE FROM items WHERE id = (:i * 7) % 600 + 1 AND qty > 3;
COMMIT;
SQL
partitions=$(mktemp)
cat > "$partitions" <<'SQL'
BEGIN;
ALTER TABLE payment DETACH PARTITION payment_3;
ALTER TABLE payment ATTACH PARTITION payment_3 FOR VALUES IN (3);
COMMIT;
SELECT pg_sleep(0.5);
SQL
bindir=$(pg_bindir)
"$bindir/pgbench" -n -c 4 -T "$seconds" --max-tries=20 -f "$writes" "$db" >"$writes.out" 2>&1 &
load=$!
"$bindir/pgbench" -n -c 1 -T "$seconds" --max-tries=20 -f "$partitions" "$db" >"$partitions.out" 2>&1 ||
    { cat "$partitions.out"; fail "detaching and attaching a partition failed"; }
wait "$load" || { cat "$writes.out"; fail "the writers failed"; }
committed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$writes.out")
rm -f "$writes" "$writes.out" "$partitions" "$partitions.out"

problems=$(q "SELECT count(*) FROM store_verify()")
[ "$problems" = 0 ] || { q "SELECT * FROM store_verify() LIMIT 10"; fail "store_verify reports $problems problems"; }
# A follower: the starting snapshot plus every page of changes since equals the store now.
follower=$(psql_ -d "$db" -v start="$start" <<'SQL'
SELECT set_config('shapes.start', :'start', false) IS NOT NULL AS started \g /dev/null
CREATE TEMP TABLE copy AS
    SELECT k AS key, d ->> 'id' AS id, d AS doc FROM json_each(:'start'::json) AS s(k, docs),
           json_array_elements(CASE WHEN k = 'version' THEN '[]' ELSE docs END) AS d;
CREATE FUNCTION pg_temp.id_of(key text, doc json) RETURNS text LANGUAGE sql AS $$
    SELECT CASE key WHEN 'film_actor' THEN json_build_array(doc -> 'actor_id', doc -> 'film_id')::jsonb::text
                    WHEN 'payment' THEN json_build_array(doc -> 'payment_id', doc -> 'month')::jsonb::text
                    ELSE (doc -> 'id')::jsonb::text END $$;
UPDATE copy SET id = pg_temp.id_of(key, doc);
DO $$
DECLARE
    version text := current_setting('shapes.start')::json ->> 'version';
    delta jsonb;
    c record;
BEGIN
    LOOP
        delta := store_changes(version, 100)::jsonb;
        IF (delta ->> 'reload')::bool THEN RAISE EXCEPTION 'unexpected reload'; END IF;
        FOR c IN SELECT * FROM jsonb_each(delta -> 'changes') LOOP
            IF (c.value ->> 'replaced')::bool THEN DELETE FROM copy WHERE key = c.key; END IF;
            DELETE FROM copy WHERE key = c.key
               AND id IN (SELECT d::text FROM jsonb_array_elements(c.value -> 'deleted') AS d
                          UNION ALL SELECT pg_temp.id_of(c.key, d::json) FROM jsonb_array_elements(c.value -> 'upserted') AS d);
            INSERT INTO copy SELECT c.key, pg_temp.id_of(c.key, d::json), d::json
              FROM jsonb_array_elements(c.value -> 'upserted') AS d;
        END LOOP;
        version := delta ->> 'version';
        EXIT WHEN NOT coalesce((delta ->> 'more')::bool, false);
    END LOOP;
END $$;
SELECT count(*) FROM (
    (SELECT key, doc::jsonb FROM copy
     EXCEPT ALL SELECT e.key, e.doc::jsonb FROM store.entries AS e)
    UNION ALL
    (SELECT e.key, e.doc::jsonb FROM store.entries AS e
     EXCEPT ALL SELECT key, doc::jsonb FROM copy)) AS differences;
SQL
)
[ "$follower" = 0 ] || fail "a follower of store_changes differs from the store in $follower documents"
keys=$(q "SELECT string_agg(DISTINCT cache_key, ',' ORDER BY cache_key) FROM store.history WHERE item IS NOT NULL")
[ "$keys" = "active_items,film_actor,payment" ] || fail "not every key was written: $keys"
psql -X -q -d postgres -c "DROP DATABASE $db"
echo "shapes stress test: $committed transactions on composite, partitioned and filtered keys with partitions detached and attached; store_verify empty, a paging follower exact: ok"
