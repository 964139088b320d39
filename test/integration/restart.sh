#!/usr/bin/env bash
# Versions stay valid across a server restart: a version taken before the restart still yields
# exactly the changes after it. Runs inside pg_virtualenv (cluster "regress" of $PGVERSION).
set -euo pipefail
db=store_restart
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
fail() { echo "restart test: FAIL: $*" >&2; exit 1; }

psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q "CREATE EXTENSION store"
q "CREATE TABLE items (id int PRIMARY KEY, name text)"
q "SELECT store_register('items', 'items')"
before=$(q "SELECT store_version()")
q "INSERT INTO items VALUES (1, 'before restart')"
middle=$(q "SELECT store_snapshot() ->> 'version'")

pg_ctlcluster "$PGVERSION" regress restart
for _ in $(seq 1 50); do pg_isready -q && break; sleep 0.2; done

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
