#!/usr/bin/env bash
# The notifier (shared_preload_libraries = 'store'): writers leave NOTIFY to a per-database
# background worker. With the library preloaded, every single-row commit is announced (the
# latency probe fails on a missing notification), a notifier runs for the database, followers of
# the stress test see exactly what the notifications announce, and DROP DATABASE right after
# writes succeeds (the notifier leaves). The cluster is set back to no preloading at the end.
# Runs inside pg_virtualenv (cluster "regress" of $PGVERSION); elsewhere set STORE_TEST_RESTART (a
# command restarting the server of the PG* environment). The attacks are in attack_notifier.sh.
set -euo pipefail
test_name=notifier
db=store_notifier
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
restart_with() {
    psql -X -q -c "ALTER SYSTEM SET shared_preload_libraries = '$1'"
    restart
}
trap 'psql -X -q -c "ALTER SYSTEM RESET shared_preload_libraries" >/dev/null 2>&1; restart >/dev/null 2>&1 || true' EXIT

restart_with store
fresh_database $db
q "CREATE EXTENSION store"
q "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric, qty int, tags text[], active bool, at timestamptz)"
q "SELECT store_register('items', 'items')"
latency=$(PGDATABASE=$db build/store_notify_latency 200 items store) || fail "a commit was not announced"
[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'store notifier' AND datname = '$db'")" = 1 ] ||
    fail "no notifier runs for the database"
build/store_stress 4 15 >/dev/null || fail "the stress test's followers disagree with the notifications"
q "INSERT INTO items VALUES (0, 'just before the drop', 1, 1, '{}', true, now())"
psql -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE $db" || fail "DROP DATABASE was blocked by the notifier"
echo "notifier test: commits announced by the notifier (p50 / p99 $latency ms), stress exact, database droppable: ok"
