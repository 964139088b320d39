#!/usr/bin/env bash
# Versions stay valid across a server restart: a version taken before the restart still yields
# exactly the changes after it. Runs inside pg_virtualenv (cluster "regress" of $PGVERSION);
# elsewhere set STORE_TEST_RESTART (see lib.sh).
set -euo pipefail
test_name=restart
db=store_restart
. "$(dirname "$0")/lib.sh"

fresh_database $db
q "CREATE EXTENSION store"
q "CREATE TABLE items (id int PRIMARY KEY, name text)"
q "SELECT store_register('items', 'items')"
before=$(q "SELECT store_version()")
q "INSERT INTO items VALUES (1, 'before restart')"
middle=$(q "SELECT store_snapshot() ->> 'version'")

restart

q "INSERT INTO items VALUES (2, 'after restart')"
got=$(q "SELECT string_agg(item_id || state, ' ') FROM store_history('$before')")
[ "$got" = "1C 2C" ] || fail "history after the pre-restart version: '$got', expected '1C 2C'"
got=$(q "SELECT string_agg(item_id || state, ' ') FROM store_history('$middle')")
[ "$got" = "2C" ] || fail "history after the snapshot version: '$got', expected '2C'"
got=$(q "SELECT store_changes('$middle')::jsonb -> 'changes'")
[ "$got" = '{"items": {"deleted": [], "upserted": [{"id": 2, "name": "after restart"}]}}' ] ||
    fail "changes after the snapshot version: $got"
psql -X -q -c "DROP DATABASE $db"
echo "restart test: versions taken before a restart stay valid: ok"
