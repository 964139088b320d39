#!/usr/bin/env bash
# Two versions of the store side by side: the existing workloads (W1 single-row writes, W2 bulk
# writes, R1 snapshots, R2 history/changes/get, reload) against two running clusters, each with its
# own build of the extension installed, in alternating rounds (old then new, new then old, ...), so
# that the machine's noise falls on both alike; prints the medians and new/old for each workload.
# The bare table runs in both clusters too: bare new/old shows how much noise is left.
#   bash bench/versions.sh smoke|full OLD_HOST:OLD_PORT NEW_HOST:NEW_PORT
# e.g. with two private installs (see BENCHMARKS.md for the commands that build them):
#   bash bench/versions.sh full /tmp/pg-bench020-sock:5493 /tmp/pg-bench-sock:5492
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-smoke}; old=$2; new=$3
export PGDATABASE=store_versions PGUSER=${PGUSER:-postgres}
pgbench=${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)}
if [ "$mode" = full ]; then
    ROUNDS=5; W1_SECONDS=6; W1_DELETES=4000; W2_ROWS=100000; R1_ROWS=270000; R2_HISTORY=1000000
    R2_SECONDS=3; RELOAD_ROWS=200000
else
    ROUNDS=1; W1_SECONDS=2; W1_DELETES=1000; W2_ROWS=5000; R1_ROWS=5000; R2_HISTORY=20000
    R2_SECONDS=1; RELOAD_ROWS=5000
fi
work=$(mktemp -d /tmp/store-versions.XXXXXX)
trap 'rm -rf "$work"' EXIT

# on(side, command...): runs the command against the cluster of side (old or new).
on() {
    local target=$new; [ "$1" = old ] && target=$old; shift
    PGHOST=${target%:*} PGPORT=${target##*:} "$@"
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# ms(sql): milliseconds one statement takes, measured in the server.
ms() { q "SELECT bench_ms(\$q\$$1\$q\$)"; }
ratio() { echo "scale=2; $1 / $2" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
row() { printf '%-54s %12s %12s %9s\n' "$@"; }
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
    q "CREATE FUNCTION bench_ms(sql text) RETURNS numeric LANGUAGE plpgsql AS \$\$
       DECLARE t0 timestamptz := clock_timestamp();
       BEGIN EXECUTE sql; RETURN round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1); END \$\$"
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
# w2(op): ms of one bulk statement on a fresh registered table: insert of W2_ROWS rows, or update of them.
w2() {
    table w2_t 0 w2
    local t; t=$(ms "$(fill w2_t 1 "$W2_ROWS")")
    [ "$1" = update ] && t=$(ms "UPDATE w2_t SET qty = qty + 1")
    q "SELECT store_unregister('w2')" >/dev/null; q "DROP TABLE w2_t"
    q "DELETE FROM store.history WHERE cache_key = 'w2'" # R2's history stays as it was
    q "VACUUM store.entries, store.history"
    echo "$t"
}
# r2(call): pgbench latency in ms of one read call, 1 client; history and changes read the 100
# changes made just before (over the R2_HISTORY older rows).
r2() {
    local version; version=$(q "SELECT store_version()")
    q "UPDATE r2_t SET qty = qty + 1 WHERE id <= 100"
    case $1 in
        history) printf "SELECT count(*) FROM store_history('%s');\n" "$version" ;;
        changes) printf "SELECT length(store_changes('%s')::text);\n" "$version" ;;
        get) printf "\\\\set id random(1, 100000)\nSELECT store_get('r2', :id::text);\n" ;;
    esac > "$work/r2-$PGPORT.sql"
    "$pgbench" -n -c 1 -T "$R2_SECONDS" -f "$work/r2-$PGPORT.sql" 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}
# reload: ms of store_reload of a key of RELOAD_ROWS rows.
reload() {
    table rl_t "$RELOAD_ROWS" rl
    ms "SELECT store_reload('rl')"
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
    "W2 bulk INSERT of $W2_ROWS rows, ms|w2 insert"
    "W2 bulk UPDATE of $W2_ROWS rows, ms|w2 update"
    "R1 store_snapshot of $R1_ROWS rows, ms|ms \"COPY (SELECT store_snapshot('r1')) TO '/dev/null'\""
    "R1 store_snapshot_rows of $R1_ROWS rows, ms|ms \"COPY (SELECT * FROM store_snapshot_rows('r1')) TO '/dev/null'\""
    "R2 store_history, 100 changes, $R2_HISTORY rows, ms|r2 history"
    "R2 store_changes, 100 changes, $R2_HISTORY rows, ms|r2 changes"
    "R2 store_get latency, ms|r2 get"
    "Reload of $RELOAD_ROWS rows, ms|reload"
)

echo "== versions: $old against $new, $ROUNDS alternating rounds, machine: $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB" >&2
versions=()
for side in old new; do versions+=("$(on "$side" setup | tail -n 1)"); done
results=()
for spec in "${WORKLOADS[@]}"; do
    label=${spec%%|*}; command=${spec#*|}
    declare -A runs=([old]="" [new]="")
    for round in $(seq 1 "$ROUNDS"); do
        order="old new"; [ $((round % 2)) = 0 ] && order="new old"
        for side in $order; do runs[$side]+="$(on "$side" eval "$command") "; done
    done
    o=$(echo "${runs[old]}" | tr ' ' '\n' | grep . | median); n=$(echo "${runs[new]}" | tr ' ' '\n' | grep . | median)
    results+=("$(row "$label" "$o" "$n" "$(ratio "$n" "$o")")")
    echo "${results[-1]}   (old: ${runs[old]}; new: ${runs[new]}; $(uptime | sed 's/.*load/load/'))" >&2
    unset runs
done
echo
row "workload" "${versions[0]}" "${versions[1]}" "new/old"
printf '%s\n' "${results[@]}"
