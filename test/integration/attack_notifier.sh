#!/usr/bin/env bash
# Attacks on the notifier (shared_preload_libraries = 'store'); each part failed before the fixes:
#  permissions  a role that may not drop, rename, move or copy a database cannot stop its notifier,
#               and a loop of its refused DROP DATABASE loses no notification (its owner's statements
#               stop it, and succeed);
#  terminate    a notifier terminated between its wake-up and its announcement (waiting for the
#               notify lock, held by a commit stuck on a synchronous standby that never comes)
#               still announces the commit;
#  settings     store.notifier_idle_timeout / store.notifier_batch_interval exist, and a running
#               notifier reloads them on SIGHUP;
#  refused      a notifier that cannot connect (ALLOW_CONNECTIONS false) wedges nothing: the commit
#               is announced, and once connections are allowed the database gets a notifier again;
#  drop         DROP DATABASE right after a database's first commit always succeeds (also by its
#               non-superuser owner WITH (FORCE)), and 100 create/commit/drop cycles leak no slot
#  exhausted    with every background worker slot taken (max_worker_processes = 1, held by
#               another database's notifier), 4000 bursts of 8 concurrent commits are all announced.
# "Announced" is checked by build/store_notify_probe: a notification whose version sees every
# commit arrives within 20 s. No timing is asserted. STORE_ATTACK_PARTS="..." runs some parts only.
# Runs inside pg_virtualenv (cluster "regress" of $PGVERSION); elsewhere set STORE_TEST_RESTART (a
# command restarting the server of the PG* environment) and STORE_TEST_LOG (its log file). The
# server's settings are reset at the end.
set -euo pipefail
test_name=attack_notifier
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
db=store_attack
tpl=store_attack_tpl
probe=build/store_notify_probe
parts=${STORE_ATTACK_PARTS:-permissions terminate settings refused drop exhausted}

# until_true SECONDS CONDITION...: true once the condition holds, false after SECONDS.
until_true() {
    local deadline=$((SECONDS + $1))
    shift
    while [ $SECONDS -lt $deadline ]; do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
reload() { q postgres "SELECT pg_reload_conf()" >/dev/null; }
notifier_pid() { q postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = 'store notifier' AND datname = '$1'"; }
has_notifier() { [ -n "$(notifier_pid "$1")" ]; }
no_notifier() { [ -z "$(notifier_pid "$1")" ]; }
commit_in() { PGDATABASE=$1 psql_ -c "INSERT INTO probe DEFAULT VALUES"; }
run_probe() { # run_probe DATABASE WRITERS BURSTS [COMMAND]
    local database=$1
    shift
    PGDATABASE=$database "$probe" "$@"
}
# Commits in database $1 until its notifier runs (20 s at most).
bring_notifier() {
    local deadline=$((SECONDS + 20))
    until has_notifier "$1"; do
        [ $SECONDS -lt $deadline ] || return 1
        commit_in "$1"
        sleep 0.2
    done
}
# Commits in database $1 until the notifier (not the writer) announces one (20 s at most).
notifier_serves() {
    local deadline=$((SECONDS + 20)) out
    while [ $SECONDS -lt $deadline ]; do
        out=$(run_probe "$1" 1 1) || return 1
        case "$out" in *"from_notifier 0") sleep 0.2 ;; *) return 0 ;; esac
    done
    return 1
}
fresh_db() { # a new database with the probe table registered, copied from the template
    psql_ -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" \
        -c "CREATE DATABASE $1 TEMPLATE $tpl"
}
reset_settings="shared_preload_libraries max_worker_processes max_logical_replication_workers max_parallel_workers
          synchronous_standby_names store.notifier_idle_timeout"
cleanup() {
    [ -n "${drop_loop:-}" ] && kill "$drop_loop" 2>/dev/null
    for s in $reset_settings; do psql -X -q -d postgres -c "ALTER SYSTEM RESET $s" >/dev/null 2>&1; done
    reload >/dev/null 2>&1 || true # releases a commit still waiting for the synchronous standby
    restart >/dev/null 2>&1 || true
    rm -f build/attack_notifier_*.sh
}
trap cleanup EXIT

permissions() {
    echo "== a role that may not drop, rename, move or copy a database does not stop its notifier"
    notifier_serves $db || fail "no notifier serves $db"
    local pid statement out
    pid=$(notifier_pid $db)
    for statement in "DROP DATABASE $db" "ALTER DATABASE $db RENAME TO ${db}_renamed" \
        "ALTER DATABASE $db SET TABLESPACE $space" "CREATE DATABASE ${db}_copy TEMPLATE $db"; do
        if psql -X -q -d postgres -c "SET ROLE store_intruder" -c "$statement" 2>/dev/null; then
            fail "store_intruder could run: $statement"
        fi
        [ "$(notifier_pid $db)" = "$pid" ] || fail "the notifier of $db was stopped by a refused '$statement'"
    done
    # a loop of refused DROP DATABASE while bursts of commits run: every burst is announced
    (while :; do psql -X -q -d postgres -c "SET ROLE store_intruder" -c "DROP DATABASE $db" 2>/dev/null || :; done) &
    drop_loop=$!
    out=$(run_probe $db 2 30) || fail "a commit was not announced during refused DROP DATABASE: $out"
    kill $drop_loop 2>/dev/null || true
    wait $drop_loop 2>/dev/null || true
    drop_loop=
    [ "$(notifier_pid $db)" = "$pid" ] || fail "the notifier of $db was stopped by a refused DROP DATABASE"
    # the owner's statements stop it (and succeed)
    local serving statements=("$db:ALTER DATABASE $db RENAME TO ${db}_renamed"
        "${db}_renamed:ALTER DATABASE ${db}_renamed RENAME TO $db" "$db:CREATE DATABASE ${db}_copy TEMPLATE $db"
        "${db}_copy:DROP DATABASE ${db}_copy")
    for statement in "${statements[@]}"; do
        serving=${statement%%:*}
        statement=${statement#*:}
        notifier_serves "$serving" || fail "no notifier serves $serving before '$statement'"
        psql_ -d postgres -c "$statement" || fail "the owner could not run '$statement' (the notifier stayed?)"
    done
    if [ $space != pg_default ]; then
        for statement in "ALTER DATABASE $db SET TABLESPACE store_attack_space" "ALTER DATABASE $db SET TABLESPACE pg_default"; do
            notifier_serves $db || fail "no notifier serves $db before '$statement'"
            psql_ -d postgres -c "$statement" || fail "the owner could not run '$statement' (the notifier stayed?)"
        done
    fi
    notifier_serves $db || fail "no notifier serves $db after it was renamed, copied and moved"
    echo "   refused statements left notifier $pid running; during a refused DROP loop: $out"
}

terminate() {
    echo "== a notifier terminated between its wake-up and its announcement still announces"
    notifier_serves $db || fail "no notifier serves $db"
    q postgres "ALTER SYSTEM SET synchronous_standby_names = 'store_test_never_connects'"
    reload
    # the notify lock: held by this commit (it writes WAL) while it waits for the standby that never comes
    PGAPPNAME=store_blocker psql -X -q -d postgres -c "SET synchronous_commit = on" \
        -c "SELECT pg_logical_emit_message(true, 'store_test', 'wal'); NOTIFY store_blocker" \
        >/dev/null 2>&1 &
    local blocker=$! out
    blocker_waits() {
        [ "$(q postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'store_blocker'
                         AND wait_event = 'SyncRep'")" = 1 ]
    }
    until_true 20 blocker_waits || fail "the blocking commit does not wait for the standby"
    # once the notifier waits for the notify lock (its commit taken, not announced): terminate it,
    # then let the blocking commit finish
    local waits="SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                 WHERE a.backend_type = 'store notifier' AND a.datname = '$db' AND NOT l.granted"
    cat >build/attack_notifier_terminate.sh <<EOF
set -e
for _ in \$(seq 1 200); do
    [ "\$(psql -X -At -d postgres -c "$waits")" = 1 ] && break
    sleep 0.1
done
[ "\$(psql -X -At -d postgres -c "$waits")" = 1 ] || { echo "the notifier does not wait for the notify lock" >&2; exit 1; }
psql -X -At -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                            WHERE backend_type = 'store notifier' AND datname = '$db'" >/dev/null
psql -X -At -d postgres -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'store_blocker'" >/dev/null
EOF
    # lock_timeout: a writer that would notify itself fails instead of waiting for ever
    out=$(PGOPTIONS="-c synchronous_commit=local -c lock_timeout=20s" \
        run_probe $db 1 1 "bash build/attack_notifier_terminate.sh") ||
        fail "the commit of a terminated notifier was not announced: $out"
    wait $blocker 2>/dev/null || true
    q postgres "ALTER SYSTEM RESET synchronous_standby_names"
    reload
    echo "   terminated while it waited for the notify lock, the notifier still announced the commit: $out"
}

settings() {
    echo "== store.notifier_idle_timeout and store.notifier_batch_interval, reloaded by a running notifier"
    [ "$(q postgres "SHOW store.notifier_idle_timeout")" = 30s ] || fail "store.notifier_idle_timeout is not 30s"
    [ "$(q postgres "SHOW store.notifier_batch_interval")" = 2ms ] || fail "store.notifier_batch_interval is not 2ms"
    notifier_serves $db || fail "no notifier serves $db"
    q postgres "ALTER SYSTEM SET store.notifier_idle_timeout = '1s'"
    reload
    until_true 20 no_notifier $db || fail "the notifier did not leave after store.notifier_idle_timeout = 1s"
    q postgres "ALTER SYSTEM RESET store.notifier_idle_timeout"
    reload
    echo "   both settings exist; a running notifier left after the reloaded 1 s idle timeout"
}

refused() {
    echo "== a notifier that cannot connect wedges nothing"
    local refusing=${db}_refusing log before out
    fresh_db $refusing
    log=$(server_log)
    [ -r "$log" ] || fail "cannot read the server log '$log' (set STORE_TEST_LOG)"
    before=$(grep -c "database \"$refusing\" is not currently accepting connections" "$log" || true)
    # the probe connects, then connections are refused: its commit launches a notifier that cannot
    # connect; once the log shows it was refused, connections are allowed again
    cat >build/attack_notifier_allow.sh <<EOF
set -e
for _ in \$(seq 1 200); do
    [ "\$(grep -c 'database "$refusing" is not currently accepting connections' "$log" || true)" -gt $before ] && break
    sleep 0.1
done
psql -X -q -d postgres -c "ALTER DATABASE $refusing ALLOW_CONNECTIONS true"
EOF
    out=$(STORE_PROBE_SETUP="psql -X -q -d postgres -c 'ALTER DATABASE $refusing ALLOW_CONNECTIONS false'" \
        run_probe $refusing 1 1 "bash build/attack_notifier_allow.sh") ||
        fail "a commit was not announced when its notifier could not connect: $out"
    [ "$(grep -c "database \"$refusing\" is not currently accepting connections" "$log" || true)" -gt "$before" ] ||
        fail "no notifier was refused by $refusing (the test did not test)"
    out=$(run_probe $refusing 2 10) || fail "a commit was not announced after connections were allowed again: $out"
    notifier_serves $refusing || fail "$refusing never got a notifier again"
    psql_ -d postgres -c "DROP DATABASE $refusing"
    echo "   announced while the notifier was refused; a notifier serves again once connections are allowed"
}

drop() {
    echo "== DROP DATABASE right after the first commit, 100 times: never refused, no slot leaked"
    local out
    out=$(PGDATABASE=postgres build/store_drop_race 100 $tpl store_intruder 10) ||
        fail "DROP DATABASE right after the first commit was refused: $out"
    fresh_db ${db}_last
    notifier_serves ${db}_last || fail "after 100 create/commit/drop cycles no notifier starts (slots leaked)"
    psql_ -d postgres -c "DROP DATABASE ${db}_last"
    echo "   $out; a notifier still starts afterwards"
}

exhausted() {
    echo "== every background worker slot taken: bursts of concurrent commits are all announced"
    local out
    psql_ -d postgres -c "ALTER SYSTEM SET max_worker_processes = 1" \
        -c "ALTER SYSTEM SET max_logical_replication_workers = 0" -c "ALTER SYSTEM SET max_parallel_workers = 0"
    restart
    fresh_db ${db}_full
    notifier_serves $db || fail "no notifier serves $db"
    # a race (a writer relied on a launch that then failed): before the fix, one of every few hundred
    # bursts lost a commit
    out=$(run_probe ${db}_full 8 4000) || fail "a commit was not announced while no worker could start: $out"
    psql_ -d postgres -c "DROP DATABASE ${db}_full"
    psql_ -d postgres -c "ALTER SYSTEM RESET max_worker_processes" \
        -c "ALTER SYSTEM RESET max_logical_replication_workers" -c "ALTER SYSTEM RESET max_parallel_workers"
    restart
    echo "   $out"
}

psql_ -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = 'store'"
restart
for d in $db ${db}_renamed ${db}_copy ${db}_refusing ${db}_full ${db}_last; do
    psql_ -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)"
done
if [ -n "$(q postgres "SELECT 1 FROM pg_database WHERE datname = '$tpl'")" ]; then
    psql_ -d postgres -c "ALTER DATABASE $tpl IS_TEMPLATE false" -c "DROP DATABASE $tpl"
fi
psql_ -d postgres -c "SET client_min_messages = warning" -c "DROP TABLESPACE IF EXISTS store_attack_space" \
    -c "DROP ROLE IF EXISTS store_intruder" \
    -c "CREATE ROLE store_intruder LOGIN CREATEDB PASSWORD 'store_intruder'"
# a tablespace the intruder may use (when this runs as root, which can give the server a directory)
space=pg_default
if [ "$(id -u)" = 0 ]; then
    space_dir=$(mktemp -d)
    chown postgres "$space_dir"
    psql_ -d postgres -c "CREATE TABLESPACE store_attack_space LOCATION '$space_dir'" \
        -c "GRANT CREATE ON TABLESPACE store_attack_space TO store_intruder"
    space=store_attack_space
fi
# the template never notifies: it would launch a notifier that each copy must stop first
psql_ -d postgres -c "CREATE DATABASE $tpl" -c "ALTER DATABASE $tpl SET store.notify = off"
q $tpl "CREATE EXTENSION store"
q $tpl "CREATE TABLE probe (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())"
q $tpl "GRANT ALL ON probe, probe_id_seq TO PUBLIC"
q $tpl "SELECT store_register('probe', 'probe')" >/dev/null
psql_ -d postgres -c "ALTER DATABASE $tpl IS_TEMPLATE true"
fresh_db $db

for part in $parts; do "$part"; done

psql_ -d postgres -c "DROP DATABASE $db" -c "ALTER DATABASE $tpl IS_TEMPLATE false" -c "DROP DATABASE $tpl"
if [ $space != pg_default ]; then
    psql_ -d postgres -c "DROP TABLESPACE $space"
    rm -rf "$space_dir"
fi
psql_ -d postgres -c "DROP ROLE store_intruder"
echo "attack_notifier test ($parts): ok"
