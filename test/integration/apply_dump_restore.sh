#!/usr/bin/env bash
# store_apply's replay records (store.mutations, per role and clientId) survive pg_dump /
# pg_restore into a new database: the role's replay of an applied mutation is still a duplicate
# there, and another role's call with the same clientId is not (the records name roles by name,
# so they hold in a database, or a cluster, where the roles have other oids). Runs inside
# pg_virtualenv.
set -euo pipefail
test_name=apply-dump/restore
. "$(dirname "$0")/lib.sh"

role=store_apply_dump_clerk
fresh_database store_apply_dumped store_apply_restored
q postgres "SET client_min_messages = warning; DROP ROLE IF EXISTS $role"
q postgres "CREATE ROLE $role"
q store_apply_dumped "CREATE EXTENSION store"
q store_apply_dumped "CREATE TABLE items (id int PRIMARY KEY, name text)"
q store_apply_dumped "GRANT SELECT, INSERT, UPDATE ON items TO $role"
q store_apply_dumped "SELECT store_register('items', 'items')"
add='{"clientId": "c-1", "mutationId": 3, "changes": [{"op": "add", "entityName": "items", "entities": [{"id": 1, "name": "one"}]}]}'
update='{"clientId": "c-1", "mutationId": 3, "changes": [{"op": "update", "entityName": "items", "entities": [{"id": 1, "changes": {"name": "again"}}]}]}'
[ "$(q store_apply_dumped "SET ROLE $role; SELECT store_apply('$add') ->> 'applied'")" = "true" ] ||
    fail "the mutation did not apply"

dump=$(mktemp)
pg_dump -Fc -d store_apply_dumped -f "$dump"
pg_restore -d store_apply_restored "$dump"
rm -f "$dump"

[ "$(q store_apply_restored "SET ROLE $role; SELECT store_apply('$update') ->> 'duplicate'")" = "true" ] ||
    fail "the restored store applied a replay of a recorded mutation"
[ "$(q store_apply_restored "SELECT name FROM items WHERE id = 1")" = "one" ] ||
    fail "the replay wrote"
[ "$(q store_apply_restored "SELECT store_apply('$update') ? 'duplicate'")" = "f" ] ||
    fail "another role's call with the same clientId counted as a duplicate"
[ "$(q store_apply_restored "SELECT name FROM items WHERE id = 1")" = "again" ] ||
    fail "another role's mutation did not write"

q postgres "DROP DATABASE store_apply_dumped"
q postgres "DROP DATABASE store_apply_restored"
q postgres "DROP ROLE $role"
echo "$test_name test: replay records survive pg_dump/pg_restore, per role: ok"
