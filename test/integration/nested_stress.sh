#!/usr/bin/env bash
# Nested keys under concurrent writers (issue 11): a depth-3 shape (country <- customer <- orders,
# lines with their product, tags through a many-to-many junction) written by several pgbench
# clients at once: children inserted, updated, deleted and moved between parents, to-one targets
# renamed, junction rows added and removed, parents created and deleted with cascades. Afterwards
# every document equals the on-the-fly nested query (store._shape_query), store_verify() is
# empty, and each committed transaction left at most one history row per document.
# Runs inside pg_virtualenv (or against the PG* server; see lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
test_name="nested stress"
db=store_nested
. test/integration/lib.sh
seconds=${NESTED_SECONDS:-15}

fresh_database "$db"
psql_ -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION store;
CREATE TABLE country (id int PRIMARY KEY, name text);
CREATE TABLE customer (id int PRIMARY KEY, name text, country_id int REFERENCES country);
CREATE INDEX ON customer (country_id);
CREATE TABLE orders (id int PRIMARY KEY, status text, customer_id int REFERENCES customer);
CREATE INDEX ON orders (customer_id);
CREATE TABLE product (id int PRIMARY KEY, name text);
CREATE TABLE line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders ON DELETE CASCADE,
                   product_id int REFERENCES product, qty int);
CREATE INDEX ON line (order_id);
CREATE INDEX ON line (product_id);
CREATE TABLE tag (id int PRIMARY KEY, label text);
CREATE TABLE order_tag (order_id int REFERENCES orders ON DELETE CASCADE, tag_id int REFERENCES tag,
                        PRIMARY KEY (order_id, tag_id));
CREATE INDEX ON order_tag (tag_id);
INSERT INTO country SELECT g, 'country ' || g FROM generate_series(1, 10) g;
INSERT INTO customer SELECT g, 'customer ' || g, g % 10 + 1 FROM generate_series(1, 50) g;
INSERT INTO orders SELECT g, 'open', g % 50 + 1 FROM generate_series(1, 200) g;
INSERT INTO product SELECT g, 'product ' || g FROM generate_series(1, 30) g;
INSERT INTO line SELECT g, g % 200 + 1, g % 30 + 1, 1 FROM generate_series(1, 1000) g;
INSERT INTO tag SELECT g, 'tag ' || g FROM generate_series(1, 10) g;
INSERT INTO order_tag SELECT o, t FROM generate_series(1, 200) o, generate_series(1, 10) t WHERE (o + t) % 4 = 0;
SELECT store_register('orders', 'orders', shape =>
    'id,status,customer(name,country(name)),lines:line(id,qty,product(name)),tags:tag(label)');
SQL

writes=$(mktemp)
cat > "$writes" <<'SQL'
\set o random(1, 250)
\set p random(1, 250)
\set l random(1, 1500)
\set c random(1, 50)
\set k random(1, 10)
\set t random(1, 10)
\set r random(1, 30)
BEGIN;
INSERT INTO orders VALUES (:o, 'new', :c) ON CONFLICT DO NOTHING;
INSERT INTO line SELECT :l, o.id, :r, 1 FROM (SELECT id FROM orders WHERE id = :p FOR KEY SHARE) AS o
    ON CONFLICT (id) DO UPDATE SET qty = line.qty + 1;
UPDATE line SET order_id = o.id FROM (SELECT id FROM orders WHERE id = :p FOR KEY SHARE) AS o
 WHERE line.id = (:l * 7) % 1500 + 1;
DELETE FROM line WHERE id = (:l * 13) % 1500 + 1 AND qty > 2;
INSERT INTO order_tag SELECT o.id, :t FROM (SELECT id FROM orders WHERE id = :p FOR KEY SHARE) AS o ON CONFLICT DO NOTHING;
DELETE FROM order_tag WHERE order_id = :o AND tag_id = (:t % 10) + 1;
COMMIT;
BEGIN;
UPDATE product SET name = 'product ' || :r || ' v' || :l WHERE id = :r;
UPDATE country SET name = 'country ' || :k || ' v' || :l WHERE id = :k;
UPDATE customer SET country_id = :k WHERE id = :c;
UPDATE tag SET label = 'tag ' || :t || ' v' || :l WHERE id = :t;
UPDATE orders SET status = 'paid', customer_id = :c WHERE id = :o;
DELETE FROM orders WHERE id = (:o * 11) % 250 + 1 AND status = 'paid' AND :l % 5 = 0;
COMMIT;
SQL
bindir=$(pg_bindir)
"$bindir/pgbench" -n -c 4 -T "$seconds" --max-tries=50 -f "$writes" "$db" >"$writes.out" 2>&1 ||
    { cat "$writes.out"; fail "the writers failed"; }
committed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$writes.out")
rm -f "$writes" "$writes.out"

wrong=$(psql_ -d "$db" <<'SQL'
DO $$
DECLARE
    wrong bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT to_jsonb(t.id) AS id, (%s)::text AS doc FROM orders AS t) AS q
                      FULL JOIN (SELECT e.id, e.doc::text AS doc FROM store.entries AS e WHERE e.key = ''orders'') AS e
                        ON e.id = q.id WHERE e.doc IS DISTINCT FROM q.doc',
                   store._shape_query('orders', (SELECT k.nested FROM store.keys AS k WHERE k.key = 'orders'), 't'))
        INTO wrong;
    PERFORM set_config('nested.wrong', wrong::text, false);
END $$;
SELECT current_setting('nested.wrong');
SQL
)
[ "$wrong" = 0 ] || fail "$wrong documents differ from the nested query"
problems=$(q "SELECT count(*) FROM store_verify()")
[ "$problems" = 0 ] || { q "SELECT * FROM store_verify() LIMIT 10"; fail "store_verify reports $problems problems"; }
repeated=$(q "SELECT count(*) FROM (SELECT FROM store.history WHERE item IS NOT NULL
                                    GROUP BY origin, xid, cache_key, item HAVING count(*) > 1) AS r")
[ "$repeated" = 0 ] || fail "$repeated documents have more than one history row in one transaction"
psql -X -q -d postgres -c "DROP DATABASE $db"
echo "nested stress test: $committed transactions on a depth-3 nested key with a many-to-many junction; documents equal the nested query, store_verify empty, one history row per transaction and document: ok"
