#!/usr/bin/env bash
# Versions survive a crash: a version handed to a client never names a transaction whose end a
# crash can undo. Reproduces the 0.2.0 bug deterministically: with the WAL writer stopped, an
# asynchronous commit and a rollback leave their commit/abort records in the WAL buffers only; a
# version taken then counts both transactions as finished; the WAL writer is killed (SIGKILL: crash
# restart, the buffers are lost), recovery sets the next transaction id back to the first of them,
# and the next write reuses that id: a follower holding the version never received it. With the
# fix, handing out the version first flushes the WAL, so recovery knows both transactions and the
# write after the crash gets a new id, which store_history/store_changes deliver.
#
# Runs inside pg_virtualenv (cluster "regress" of $PGVERSION) as a superuser. Against another
# cluster: STORE_TEST_LOG=<its server log> (the crash restart is checked there; see lib.sh).
set -euo pipefail
test_name=crash_versions
db=store_crash_versions
. "$(dirname "$0")/lib.sh"

walwriter=""
# Puts the settings back and never leaves the WAL writer stopped.
cleanup() {
    [ -n "$walwriter" ] && kill -CONT "$walwriter" 2>/dev/null
    psql -X -q -c "ALTER SYSTEM RESET wal_writer_delay" -c "ALTER SYSTEM RESET autovacuum" \
        -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
}
trap cleanup EXIT

fresh_database $db
q "CREATE EXTENSION store"
q "CREATE TABLE items (id int PRIMARY KEY, name text)"
q "SELECT store_register('items', 'items')"

# Nothing may write the WAL buffers to the kernel behind the test's back: no autovacuum, a long
# WAL writer delay, a checkpoint now (none due for minutes), then the WAL writer stopped.
psql -X -q -c "ALTER SYSTEM SET wal_writer_delay = '10s'" -c "ALTER SYSTEM SET autovacuum = off" \
    -c "SELECT pg_reload_conf()" >/dev/null
q "CHECKPOINT"
sleep 0.5
walwriter=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'")
[ -n "$walwriter" ] || fail "no WAL writer process found"
kill -STOP "$walwriter"

# An asynchronous commit and a rolled-back write: finished, but their records are not on disk.
async_xid=$(q "SET synchronous_commit = off; INSERT INTO items VALUES (1, 'committed asynchronously');
               SELECT pg_current_xact_id()")
aborted_xid=$(q "BEGIN; INSERT INTO items VALUES (2, 'rolled back'); SELECT pg_current_xact_id(); ROLLBACK")
version=$(q "SELECT store_version()")
xmax=$(echo "$version" | cut -d: -f3)
[ "$xmax" -gt "$aborted_xid" ] || fail "version $version does not count $aborted_xid as finished"

# The crash: the stopped WAL writer is killed; the postmaster restarts every process with recovery.
kill -KILL "$walwriter"
stopped=$walwriter
walwriter=""
sleep 1
wait_for_server || fail "the server did not come back after the crash"
grep -q "process (PID $stopped) was terminated by signal 9" "$(server_log)" ||
    fail "the server did not go through a crash restart"
psql -X -q -c "ALTER SYSTEM RESET wal_writer_delay" -c "ALTER SYSTEM RESET autovacuum" -c "SELECT pg_reload_conf()" >/dev/null

new_xid=$(q "INSERT INTO items VALUES (3, 'after the crash'); SELECT pg_current_xact_id()")
q "INSERT INTO items VALUES (4, 'after the crash, too')" # (so that the version is not ahead of the store)
echo "crash_versions test: async commit xid $async_xid, rollback xid $aborted_xid, version $version," \
     "first write after the crash xid $new_xid"
problems=()
[ "$new_xid" -ge "$xmax" ] ||
    problems+=("transaction id $new_xid was used again after the crash, although version $version counts it as finished")
[ "$(q "SELECT string_agg(item_id, ',' ORDER BY item_id) FROM store_history('$version')")" = "3,4" ] ||
    problems+=("store_history('$version') does not deliver exactly the writes after the crash (3 and 4)")
[ "$(q "SELECT store_changes('$version')::jsonb -> 'changes' -> 'items' -> 'upserted' @> '[{\"id\": 3}, {\"id\": 4}]'")" = t ] ||
    problems+=("store_changes('$version') does not deliver the writes after the crash")
# What the version saw is what the database holds after the crash: the asynchronous commit
# survived (a follower holding the version has item 1, and nothing would ever tell it otherwise).
[ "$(q "SELECT count(*) FROM items WHERE id = 1")" = 1 ] ||
    problems+=("the asynchronous commit seen by version $version was lost in the crash")
[ "$(q "SELECT count(*) FROM store_verify()")" = 0 ] || problems+=("store_verify reports problems after the crash")
[ ${#problems[@]} -eq 0 ] || fail "$(printf '\n  %s' "${problems[@]}")"
psql -X -q -c "DROP DATABASE $db"
echo "crash_versions test: a version taken before a crash names no transaction the crash undid: ok"
