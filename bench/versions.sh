#!/usr/bin/env bash
# Builds of the store side by side: the existing workloads (W1 single-row writes, W2 bulk writes,
# R1 snapshots, R2 history/changes/get, reload) against two or more running clusters, each with its
# own build of the extension installed, in alternating rounds (each round starts one cluster
# further), so that the machine's noise falls on all alike; prints the medians and each build's
# ratio to the first. W1 is pgbench throughput (wall clock; the bare table runs in every cluster
# too: its ratio shows how much noise is left); the others are the CPU time of the backend running
# the statement (user + system from /proc, 10 ms ticks: short calls run in a loop), which other
# work on a shared machine disturbs far less than wall-clock time.
#   bash bench/versions.sh smoke|full HOST:PORT HOST:PORT [HOST:PORT...]   (the first is the base)
# VERSIONS_ONLY='regex' runs only the workloads whose label matches (e.g. 'W1 delete').
# e.g. with two private installs (see BENCHMARKS.md for the commands that build them):
#   bash bench/versions.sh full /tmp/pg-bench020-sock:5493 /tmp/pg-bench-sock:5492
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-smoke}; shift; targets=("$@")
export PGDATABASE=store_versions PGUSER=${PGUSER:-postgres}
pgbench=${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)}
if [ "$mode" = full ]; then
    ROUNDS=5; W1_SECONDS=6; W1_DELETES=4000; W2_ROWS=100000; R1_ROWS=270000; R2_HISTORY=1000000
    R2_CALLS=200; RELOAD_ROWS=200000; MANY_KEYS=100
else
    ROUNDS=1; W1_SECONDS=2; W1_DELETES=1000; W2_ROWS=5000; R1_ROWS=5000; R2_HISTORY=20000
    R2_CALLS=20; RELOAD_ROWS=5000; MANY_KEYS=10
fi
# VERSIONS_ROUNDS=n: more (or fewer) rounds; each table's 100000 rows still cover every round's deletes
ROUNDS=${VERSIONS_ROUNDS:-$ROUNDS}
W1_DELETES=$((W1_DELETES < 25000 / ROUNDS ? W1_DELETES : 25000 / ROUNDS))
work=$(mktemp -d /tmp/store-versions.XXXXXX)
trap 'rm -rf "$work"' EXIT

# on(side, command...): runs the command against the cluster of side (an index into targets).
on() {
    local target=${targets[$1]}; shift
    PGHOST=${target%:*} PGPORT=${target##*:} "$@"
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# cpu(sql, [n]): CPU milliseconds of the backend per run of sql, run n times (default 1).
cpu() { q "SELECT bench_cpu_ms(\$q\$$1\$q\$, ${2:-1})"; }
ratio() { if [ "$(echo "$2 == 0" | bc)" = 1 ]; then echo -; else echo "scale=2; $1 / $2" | bc; fi; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
row() { printf '%-54s' "$1"; shift; printf ' %12s' "$@"; echo; }
# fill(table, from, to): the INSERT of the issue's 7-column rows from..to (as bench.sh fills them).
fill() {
    echo "INSERT INTO $1 SELECT g, 'item ' || g, g * 1.25, g % 100, ARRAY['tag' || g % 7, 'x'], g % 2 = 0, '2026-11-25 12:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series($2, $3) g"
}
# table(name, rows, key or -): the 7-column table afresh with rows rows, registered as key unless -.
table() {
    q "DROP TABLE IF EXISTS $1 CASCADE"
    q "CREATE TABLE $1 (id bigint PRIMARY KEY, name text, price numeric(12,2), qty int, tags text[], active bool, updated_at timestamptz)"
    [ "$2" -gt 0 ] && q "$(fill "$1" 1 "$2")"
    [ "$3" != - ] && q "SELECT store_register('$3', '$1')" >/dev/null
    return 0
}

# setup: a fresh database in the current cluster with the extension at its default version and
# the tables of W1 (100000 rows each), R1 and R2 (with R2_HISTORY older history rows).
setup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS store_versions" -c "CREATE DATABASE store_versions"
    q "CREATE EXTENSION store"
    # the backend's CPU ticks so far (user + system, fields 14 and 15 of /proc/<pid>/stat)
    q "CREATE FUNCTION bench_ticks() RETURNS bigint LANGUAGE sql AS \$\$
       SELECT split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint
         FROM pg_read_file('/proc/' || pg_backend_pid() || '/stat') AS s \$\$"
    q "CREATE FUNCTION bench_cpu_ms(sql text, n int) RETURNS numeric LANGUAGE plpgsql AS \$\$
       DECLARE t0 bigint := bench_ticks();
       BEGIN
           FOR i IN 1 .. n LOOP EXECUTE sql; END LOOP;
           RETURN round((bench_ticks() - t0) * 1000.0 / $(getconf CLK_TCK) / n, 2);
       END \$\$"
    table bare_t 100000 -; table store_t 100000 w1
    q "CREATE SEQUENCE ins_seq START 1000001; CREATE SEQUENCE del_bare_t; CREATE SEQUENCE del_store_t"
    table r1_t "$R1_ROWS" r1
    table r2_t 100000 r2
    q "INSERT INTO store.history (origin, xid, cache_key, item, state)
       SELECT store._origin(), '3', 'r2', to_jsonb(g % 100000), 'U' FROM generate_series(1, $R2_HISTORY) g"
    q "VACUUM FULL ANALYZE"
    echo "$(q "SELECT extversion FROM pg_extension WHERE extname = 'store'")"
}

# w1(op, table): pgbench tps of single-row op transactions on table, 4 clients.
w1() {
    case $1 in
        insert) printf "INSERT INTO $2 VALUES (nextval('ins_seq'), 'new', 1.5, 1, '{a}', true, now());\n" ;;
        update) printf "\\\\set id random(1, 100000)\nUPDATE $2 SET qty = qty + 1, updated_at = now() WHERE id = :id;\n" ;;
        delete) printf "DELETE FROM $2 WHERE id = (SELECT nextval('del_$2'));\n" ;;
    esac > "$work/w1-$PGPORT.sql"
    local duration=(-T "$W1_SECONDS"); [ "$1" = delete ] && duration=(-t "$W1_DELETES")
    "$pgbench" -n -c 4 -j 2 "${duration[@]}" -f "$work/w1-$PGPORT.sql" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
# w2(op): CPU ms of one bulk statement on a fresh registered table: insert of W2_ROWS rows, or update of them.
w2() {
    table w2_t 0 w2
    local t; t=$(cpu "$(fill w2_t 1 "$W2_ROWS")")
    [ "$1" = update ] && t=$(cpu "UPDATE w2_t SET qty = qty + 1")
    q "SELECT store_unregister('w2')" >/dev/null; q "DROP TABLE w2_t"
    q "DELETE FROM store.history WHERE cache_key = 'w2'" # R2's history stays as it was
    q "VACUUM store.entries, store.history"
    echo "$t"
}
# r2(call): CPU ms of one read call (the mean of R2_CALLS calls); history and changes read the
# 100 changes made just before (over the R2_HISTORY older rows).
r2() {
    local version; version=$(q "SELECT store_version()")
    q "UPDATE r2_t SET qty = qty + 1 WHERE id <= 100"
    case $1 in
        history) cpu "SELECT count(*) FROM store_history('$version')" "$R2_CALLS" ;;
        changes) cpu "SELECT length(store_changes('$version')::text)" "$R2_CALLS" ;;
        get) cpu "SELECT store_get('r2', (random() * 99999 + 1)::int::text)" "$R2_CALLS" ;;
    esac
}
# many_keys: MANY_KEYS registered keys in all (small tables k_1, k_2, ... added once): readers
# check every key a reader may read.
many_keys() {
    local have i; have=$(q "SELECT count(*) FROM store.keys")
    for i in $(seq "$have" $((MANY_KEYS - 1))); do
        table "k_$i" 10 "k_$i"
    done
}
# reload: CPU ms of store_reload of a key of RELOAD_ROWS rows.
reload() {
    table rl_t "$RELOAD_ROWS" rl
    cpu "SELECT store_reload('rl')"
    q "SELECT store_unregister('rl')" >/dev/null; q "DROP TABLE rl_t"; q "VACUUM store.entries"
}

# The workloads: "label|command" (the command runs in one cluster and prints one figure).
WORKLOADS=(
    "W1 insert tps, bare table (noise check)|w1 insert bare_t"
    "W1 insert tps, store|w1 insert store_t"
    "W1 update tps, bare table (noise check)|w1 update bare_t"
    "W1 update tps, store|w1 update store_t"
    "W1 delete tps, bare table (noise check)|w1 delete bare_t"
    "W1 delete tps, store|w1 delete store_t"
    "W2 bulk INSERT of $W2_ROWS rows, CPU ms|w2 insert"
    "W2 bulk UPDATE of $W2_ROWS rows, CPU ms|w2 update"
    "R1 store_snapshot of $R1_ROWS rows, CPU ms|cpu \"COPY (SELECT store_snapshot('r1')) TO '/dev/null'\" 3"
    "R1 store_snapshot_rows of $R1_ROWS rows, CPU ms|cpu \"COPY (SELECT * FROM store_snapshot_rows('r1')) TO '/dev/null'\" 3"
    "R2 store_history, 100 changes, $R2_HISTORY rows, CPU ms|r2 history"
    "R2 store_changes, 100 changes, $R2_HISTORY rows, CPU ms|r2 changes"
    "R2 store_get, CPU ms|r2 get"
    "Reload of $RELOAD_ROWS rows, CPU ms|reload"
    "R2 store_history, $MANY_KEYS keys registered, CPU ms|many_keys; r2 history"
    "R2 store_changes, $MANY_KEYS keys registered, CPU ms|many_keys; r2 changes"
    "R2 store_get, $MANY_KEYS keys registered, CPU ms|many_keys; r2 get"
)

sides=$(seq 0 $((${#targets[@]} - 1)))
echo "== versions: ${targets[*]}, $ROUNDS alternating rounds, machine: $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB" >&2
versions=()
for side in $sides; do versions+=("$(on "$side" setup | tail -n 1):${targets[$side]##*:}"); done
results=()
for spec in "${WORKLOADS[@]}"; do
    label=${spec%%|*}; command=${spec#*|}
    [[ $label =~ ${VERSIONS_ONLY:-.} ]] || continue
    declare -A runs=()
    for round in $(seq 1 "$ROUNDS"); do
        for side in $sides; do # round r starts with side r - 1 (modulo the number of sides)
            side=$(((side + round - 1) % ${#targets[@]}))
            runs[$side]+="$(on "$side" eval "$command") "
        done
    done
    figures=(); ratios=()
    for side in $sides; do figures+=("$(echo "${runs[$side]}" | tr ' ' '\n' | grep . | median)"); done
    for side in $sides; do [ "$side" -gt 0 ] && ratios+=("$(ratio "${figures[$side]}" "${figures[0]}")"); done
    results+=("$(row "$label" "${figures[@]}" "${ratios[@]}")")
    echo "${results[-1]}   ($(for side in $sides; do printf '%s: %s; ' "${versions[$side]}" "${runs[$side]}"; done)$(uptime | sed 's/.*load/load/'))" >&2
    unset runs
done
echo
headers=(); for side in $sides; do [ "$side" -gt 0 ] && headers+=("$side/0"); done
row "workload (0: the first build)" "${versions[@]}" "${headers[@]}"
printf '%s\n' "${results[@]}"
