#!/usr/bin/env bash
# Crash safety: SIGKILL a server process in the middle of a write load. PostgreSQL then kills
# every server process and restarts with WAL recovery, exactly as after a crash of the machine
# (its own crash-restart tests do the same). Afterwards the store still equals its tables
# (store_verify reports nothing) and the history still matches them.
# Runs inside pg_virtualenv (cluster "regress" of $PGVERSION); elsewhere set STORE_TEST_LOG (see lib.sh).
set -euo pipefail
test_name=crash
db=store_crash
. "$(dirname "$0")/lib.sh"

fresh_database $db
q "CREATE EXTENSION store"
q "CREATE TABLE items (id int PRIMARY KEY, name text, qty int)"
q "INSERT INTO items SELECT g, 'item ' || g, 0 FROM generate_series(1, 1000) g"
q "SELECT store_register('items', 'items')"
start=$(q "SELECT store_version()")

script=$(mktemp)
cat > "$script" <<'SQL'
\set id random(1, 2000)
BEGIN;
INSERT INTO items VALUES (:id, 'new', 1) ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1;
UPDATE items SET name = md5(random()::text) WHERE id = :id % 1000 + 1;
DELETE FROM items WHERE id = (:id * 7) % 2000 + 1;
COMMIT;
SQL
"$(pg_bindir)"/pgbench -n -c 4 -T 30 -f "$script" "$db" >/dev/null 2>&1 &
load=$!
sleep 3
victim=$(q "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'pgbench' LIMIT 1")
[ -n "$victim" ] || fail "no pgbench backend to kill"
kill -9 "$victim"
wait "$load" || true
rm -f "$script"
sleep 1
wait_for_server
grep -q "terminated by signal 9" "$(server_log)" ||
    fail "the server did not go through a crash restart"

problems=$(q "SELECT count(*) FROM store_verify()")
[ "$problems" = "0" ] || fail "store_verify reports $problems problems after the crash"
written=$(q "SELECT count(*) FROM store_history('$start')")
[ "$written" -gt 0 ] || fail "no change survived: the load did not run"
# Every item the history says exists (last state C or U) is in the table, and no other.
missing=$(q "SELECT count(*) FROM (
    SELECT DISTINCT ON (item_id) item_id, state FROM (
        SELECT item_id, state, row_number() OVER () AS n FROM store_history('0')) h
     WHERE item_id IS NOT NULL ORDER BY item_id, n DESC) last
    FULL JOIN items ON items.id::text = last.item_id
   WHERE (last.state IN ('C', 'U')) IS DISTINCT FROM (items.id IS NOT NULL)")
[ "$missing" = "0" ] || fail "history and table disagree on $missing items after the crash"
psql -X -q -c "DROP DATABASE $db"
echo "crash test: $written changes survived a SIGKILL; store and history match the table: ok"
