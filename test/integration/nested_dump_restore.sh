#!/usr/bin/env bash
# pg_dump / pg_restore of a store with a nested key (issue 11): pg_dump creates the store's
# triggers before the foreign keys the shape follows, so DDL handling must let the restore through;
# afterwards the documents, the triggers on every table the shape reaches and the maintenance in
# the writing transaction work as before. Runs against the server of the PG* environment (inside
# pg_virtualenv in CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
test_name="nested dump/restore"
. test/integration/lib.sh

fresh_database store_nested_dumped store_nested_restored
psql_ -d store_nested_dumped >/dev/null <<'SQL'
CREATE EXTENSION store;
CREATE TABLE country (id int PRIMARY KEY, name text);
CREATE TABLE customer (id int PRIMARY KEY, name text, country_id int REFERENCES country);
CREATE TABLE orders (id int PRIMARY KEY, status text, customer_id int REFERENCES customer);
CREATE TABLE line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders ON DELETE CASCADE, qty int);
CREATE INDEX ON customer (country_id);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON line (order_id);
INSERT INTO country VALUES (1, 'France'), (2, 'Germany');
INSERT INTO customer VALUES (1, 'Ann', 1), (2, 'Bob', 2);
INSERT INTO orders VALUES (1, 'open', 1), (2, 'open', 2);
INSERT INTO line VALUES (10, 1, 2), (11, 1, 3);
SELECT store_register('orders', 'orders', shape => 'id,status,customer(name,country(name)),lines:line(id,qty)');
SQL
dump=$(mktemp)
pg_dump -Fc -d store_nested_dumped -f "$dump"
pg_restore --exit-on-error -d store_nested_restored "$dump" || fail "the restore failed"
rm -f "$dump"
db=store_nested_restored
[ "$(q "SELECT count(*) FROM store_verify()")" = 0 ] || fail "the restored store does not verify"
q "INSERT INTO line VALUES (20, 2, 5)" >/dev/null
q "UPDATE country SET name = 'Deutschland' WHERE id = 2" >/dev/null
[ "$(q "SELECT store_get('orders', '2') -> 'lines' ->> 0")" = '{"id" : 20, "qty" : 5}' ] ||
    fail "a child inserted after the restore is not in its document"
[ "$(q "SELECT store_get('orders', '2') -> 'customer' -> 'country' ->> 'name'")" = "Deutschland" ] ||
    fail "a to-one target renamed after the restore is not in its document"
[ "$(q "SELECT count(*) FROM store_verify()")" = 0 ] || fail "the restored store does not follow its tables"
psql -X -q -d postgres -c "DROP DATABASE store_nested_dumped" -c "DROP DATABASE store_nested_restored"
echo "nested dump/restore test: a nested key's documents and triggers survive pg_dump and pg_restore and keep following every table: ok"
