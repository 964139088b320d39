#!/usr/bin/env bash
# pg_dump / pg_restore of a store with a composite-key table and a partitioned table (a
# sub-partitioned partition, a default partition): the restore succeeds (partition DDL during a
# restore leaves the documents alone), triggers and documents come back, the restored store
# verifies and keeps following both tables, partitions included; and keys with chosen columns and
# filters on a table with a dropped column (restored with other column numbers) keep their columns. Runs against the server of the
# PG* environment (inside pg_virtualenv in CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
test_name="tables dump/restore"
. test/integration/lib.sh

fresh_database store_tables_dumped store_tables_restored
psql -X -q -v ON_ERROR_STOP=1 -d store_tables_dumped <<'SQL' >/dev/null
CREATE EXTENSION store;
CREATE TABLE film_actor (actor_id int, film_id int, PRIMARY KEY (actor_id, film_id));
INSERT INTO film_actor SELECT a, f FROM generate_series(1, 5) a, generate_series(1, 5) f;
SELECT store_register('film_actor', 'film_actor');
CREATE TABLE payment (payment_id int, month int, amount numeric, PRIMARY KEY (payment_id, month))
    PARTITION BY LIST (month);
CREATE TABLE payment_1 PARTITION OF payment FOR VALUES IN (1);
CREATE TABLE payment_2 PARTITION OF payment FOR VALUES IN (2) PARTITION BY RANGE (payment_id);
CREATE TABLE payment_2a PARTITION OF payment_2 FOR VALUES FROM (0) TO (1000);
CREATE TABLE payment_other PARTITION OF payment DEFAULT;
INSERT INTO payment SELECT g, g % 3, g FROM generate_series(1, 30) g;
SELECT store_register('payment', 'payment');
-- a dropped column: the restored table numbers its columns differently
CREATE TABLE accounts (id int PRIMARY KEY, gone text, active int, pw_hash text, credit int);
ALTER TABLE accounts DROP COLUMN gone;
INSERT INTO accounts VALUES (1, 1, 'secret 1', 10), (2, 0, 'secret 2', 20);
SELECT store_register('active_accounts', 'accounts', ARRAY['id', 'active'], filter => 'active = 1');
SELECT store_register('rich_accounts', 'accounts', filter => 'credit > 15');
SQL

dump=$(mktemp)
pg_dump -Fc -d store_tables_dumped -f "$dump"
pg_restore --exit-on-error -d store_tables_restored "$dump" || fail "the restore failed"
rm -f "$dump"

documents() { q "$1" "SELECT md5(string_agg(key || id::text || doc::text, '|' ORDER BY key, id::text)) FROM store.entries"; }
[ "$(documents store_tables_dumped)" = "$(documents store_tables_restored)" ] || fail "documents differ"
[ "$(q store_tables_restored "SELECT count(*) FROM store_verify()")" = "0" ] || fail "the restored store does not verify"
[ "$(q store_tables_restored "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'store\_payment%'")" = "10" ] ||
    fail "the partitions' store triggers were not all restored"
q store_tables_restored "INSERT INTO payment VALUES (100, 2, 1), (101, 7, 1)"
q store_tables_restored "DELETE FROM film_actor WHERE actor_id = 1 AND film_id = 2"
q store_tables_restored "TRUNCATE payment_1"
[ "$(q store_tables_restored "SELECT count(*) FROM store_verify()")" = "0" ] ||
    fail "the restored store does not follow its tables"
[ "$(q store_tables_restored "SELECT store_get('payment', '[100,2]') ->> 'amount'")" = "1" ] ||
    fail "a restored partition's writes are not captured"
# Chosen columns and filters are found again by name after the restore, never by the old numbers.
q store_tables_restored "INSERT INTO accounts VALUES (3, 1, 'secret 3', 30), (4, 0, 'secret 4', 5)"
[ "$(q store_tables_restored "SELECT string_agg(doc::text, ' ' ORDER BY id) FROM store.entries WHERE key = 'active_accounts'")" = \
  '{"id":1,"active":1} {"id":3,"active":1}' ] || fail "a key with chosen columns follows other columns after the restore"
[ "$(q store_tables_restored "SELECT string_agg(id::text, ' ' ORDER BY id) FROM store.entries WHERE key = 'rich_accounts'")" = "2 3" ] ||
    fail "a filter tests another column after the restore"
[ "$(q store_tables_restored "SELECT count(*) FROM store_verify()")" = "0" ] || fail "the restored accounts do not verify"
psql -X -q -c "DROP DATABASE store_tables_dumped" -c "DROP DATABASE store_tables_restored"
echo "tables dump/restore test: composite keys, partitioned tables, and keys on a table with a dropped column (chosen columns, filters) survive pg_dump and pg_restore: ok"
