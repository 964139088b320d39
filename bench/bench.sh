#!/usr/bin/env bash
# The benchmark: every workload against the bare table, the store extension and the PL/pgSQL
# baseline, in one run, printing absolute figures and ratios. Runs inside a throwaway cluster
# (bench/run starts it with pg_virtualenv). Usage: bench.sh smoke|full; BENCH_SECTIONS="r1 memory"
# runs only those sections (w1 w2 r1 r2 reload notify memory notifier shapes nested apply gateway; memory_feed is the
# part of memory that reads a large history; shapes_write and shapes_read are the two halves of shapes).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-smoke}
bin=$(pg_config --bindir)
export PGDATABASE=store_bench
if [ "$mode" = full ]; then
    W1_ROUNDS=5; W1_ROUND_SECONDS=6; W1_DELETES=4000; W2_SIZES="200000 1000000"; R1_ROWS=270000; R1_KEYS=100; R1_KEY_ROWS=10000
    R2_HISTORY=10000000; RELOAD_ROWS=1000000; NOTIFY_SAMPLES=1000; BIG_ROWS=8000000; FEED_HISTORY=3000000
    SHAPE_ROUNDS=5; SHAPE_ROWS=100000; SHAPE_READ_ROWS=270000; SHAPE_CHANGED=10000
    NESTED_PARENTS=1000; NESTED_ROUNDS=5; NESTED_TXNS=200; NESTED_RENAMES=20
    APPLY_ROWS=100000; APPLY_ROUNDS=5; APPLY_ROUND_SECONDS=5
else
    W1_ROUNDS=1; W1_ROUND_SECONDS=3; W1_DELETES=2000; W2_SIZES="20000"; R1_ROWS=20000; R1_KEYS=10; R1_KEY_ROWS=1000
    R2_HISTORY=100000; RELOAD_ROWS=20000; NOTIFY_SAMPLES=100; BIG_ROWS=20000; FEED_HISTORY=20000
    SHAPE_ROUNDS=1; SHAPE_ROWS=5000; SHAPE_READ_ROWS=5000; SHAPE_CHANGED=1000
    NESTED_PARENTS=100; NESTED_ROUNDS=1; NESTED_TXNS=20; NESTED_RENAMES=5
    APPLY_ROWS=10000; APPLY_ROUNDS=1; APPLY_ROUND_SECONDS=1
fi
work=$(mktemp -d /tmp/store-bench.XXXXXX)
chmod 777 "$work"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# ms(sql): milliseconds one statement takes, best of $2 runs (default 1).
ms() {
    local best="" t
    for _ in $(seq 1 "${2:-1}"); do
        t=$(q "SELECT bench_ms(\$q\$$1\$q\$)")
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}
ratio() { if [ "$(echo "$2 == 0" | bc)" = 1 ]; then echo "-"; else echo "scale=2; $1 / $2" | bc; fi; }
row() { printf '%-58s %12s %12s %12s %10s %10s\n' "$@"; }
results=()
report() { results+=("$(row "$@")"); printf '%s\n' "$(row "$@")" >&2; }
shape_results=() # the shapes section's rows: their columns differ (see section_shapes)
shape_report() { shape_results+=("$(row "$@")"); printf '%s\n' "$(row "$@")" >&2; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS store_bench" -c "CREATE DATABASE store_bench"
q "CREATE EXTENSION store"
psql -X -q -v ON_ERROR_STOP=1 -f bench/baseline.sql
q "CREATE FUNCTION bench_ms(sql text) RETURNS numeric LANGUAGE plpgsql AS \$\$
   DECLARE t0 timestamptz := clock_timestamp();
   BEGIN EXECUTE sql; RETURN round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1); END \$\$"
# the 7-column table of the issue, three times
make_tables() {
    for t in bare_t store_t pl_t; do
        q "DROP TABLE IF EXISTS $t CASCADE"
        q "CREATE TABLE $t (id bigint PRIMARY KEY, name text, price numeric(12,2), qty int, tags text[], active bool, updated_at timestamptz)"
    done
    q "SELECT store_register('bench', 'store_t')"
    q "SELECT plstore_register('bench', 'pl_t')"
}
fill() { # fill table rows-from rows-to
    echo "INSERT INTO $1 SELECT g, 'item ' || g, g * 1.25, g % 100, ARRAY['tag' || g % 7, 'x'], g % 2 = 0, '2026-11-25 12:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series($2, $3) g"
}
unregister_all() {
    q "SELECT store_unregister(key) FROM store.keys" >/dev/null
    q "TRUNCATE store.history, plstore.history, plstore.entries"
}

# The pgbench tps of one W1 transaction script, $1, against table $2 (the rest: pgbench options).
w1_tps() {
    local op=$1 t=$2; shift 2
    case $op in
        insert) printf "INSERT INTO $t VALUES (nextval('ins_seq'), 'new', 1.5, 1, '{a}', true, now());\n" ;;
        update) printf "\\\\set id random(1, 100000)\nUPDATE $t SET qty = qty + 1, updated_at = now() WHERE id = :id;\n" ;;
        delete) printf "DELETE FROM $t WHERE id = (SELECT nextval('del_$t'));\n" ;;
    esac > "$work/w1.sql"
    "$bin/pgbench" -n -c 4 -j 2 "$@" -f "$work/w1.sql" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# W1 for op over variants "name:table:options" in W1_ROUNDS alternating rounds (machine noise
# drifts over minutes; alternating spreads it over every variant); prints "name median" lines.
w1_rounds() {
    local op=$1 spec name t opts duration; shift
    declare -A runs=()
    for _ in $(seq 1 "$W1_ROUNDS"); do
        for spec in "$@"; do
            IFS=: read -r name t opts <<<"$spec"
            # deletes run a fixed count (W1_ROUNDS x 4 x W1_DELETES <= 100000 rows): each finds its row
            duration=(-T "$W1_ROUND_SECONDS"); [ "$op" = delete ] && duration=(-t "$W1_DELETES")
            runs[$name]+="$(PGOPTIONS="$opts" w1_tps "$op" "$t" "${duration[@]}") "
        done
    done
    for spec in "$@"; do
        IFS=: read -r name t opts <<<"$spec"
        echo "$name $(echo "${runs[$name]}" | tr ' ' '\n' | grep . | median)"
    done
}
w1_table() { # w1_table tables...: fresh copies filled with 100000 rows, with their delete sequences
    make_tables
    for t in "$@"; do
        q "$(fill $t 1 100000)"
        q "DROP SEQUENCE IF EXISTS del_$t; CREATE SEQUENCE del_$t"
    done
    q "CREATE SEQUENCE IF NOT EXISTS ins_seq START 1000001"
}

section_w1() {
    echo "== W1: single-row transactions, pgbench, 4 clients, $W1_ROUNDS alternating rounds of ${W1_ROUND_SECONDS}s" >&2
    w1_table bare_t store_t pl_t
    local op quiet=()
    for op in insert update delete; do
        quiet=("quiet:store_t:-c store.notify=off"); [ "$op" = delete ] && quiet=()
        declare -A got=()
        while read -r name value; do got[$name]=$value; done < <(w1_rounds "$op" "bare:bare_t:" "store:store_t:" "pl:pl_t:" "${quiet[@]}")
        report "W1 $op transactions per second (higher is better)" "${got[bare]}" "${got[store]}" "${got[pl]}" \
            "$(ratio "${got[store]}" "${got[bare]}")" "$(ratio "${got[store]}" "${got[pl]}")"
        [ "$op" != delete ] && report "  ... $op, store with store.notify = off" "${got[bare]}" "${got[quiet]}" "-" \
            "$(ratio "${got[quiet]}" "${got[bare]}")" "-"
        unset got
    done
}

section_w2() {
    echo "== W2: bulk INSERT and UPDATE in one statement" >&2
    for n in $W2_SIZES; do
        make_tables
        declare -A ins=() upd=()
        for t in bare_t store_t pl_t; do ins[$t]=$(ms "$(fill $t 1 "$n")"); done
        for t in bare_t store_t pl_t; do upd[$t]=$(ms "UPDATE $t SET qty = qty + 1"); done
        report "W2 bulk INSERT of $n rows, ms" "${ins[bare_t]}" "${ins[store_t]}" "${ins[pl_t]}" \
            "$(ratio "${ins[store_t]}" "${ins[bare_t]}")" "$(ratio "${ins[store_t]}" "${ins[pl_t]}")"
        report "W2 bulk UPDATE of $n rows, ms" "${upd[bare_t]}" "${upd[store_t]}" "${upd[pl_t]}" \
            "$(ratio "${upd[store_t]}" "${upd[bare_t]}")" "$(ratio "${upd[store_t]}" "${upd[pl_t]}")"
        unset ins upd
        unregister_all
    done
}

section_r1() {
    echo "== R1: reading the whole key back" >&2
    make_tables
    for t in bare_t store_t pl_t; do q "$(fill $t 1 "$R1_ROWS")"; done
    q "VACUUM FULL ANALYZE" # earlier sections left store.entries large: the floor's scan must not pay for that
    agg=$(ms "COPY (SELECT json_agg(t) FROM bare_t t) TO '/dev/null'" 3)
    snap=$(ms "COPY (SELECT store_snapshot('bench')) TO '/dev/null'" 3)
    floor=$(ms "COPY (SELECT doc FROM store.entries WHERE key = 'bench') TO '/dev/null'" 3)
    pl=$(ms "COPY (SELECT plstore_snapshot('bench')) TO '/dev/null'" 3)
    report "R1 snapshot of $R1_ROWS rows, ms (bare: json_agg on the fly)" "$agg" "$snap" "$pl" \
        "$(ratio "$snap" "$agg")" "$(ratio "$snap" "$pl")"
    report "R1 ... against the floor: COPY of the stored documents, ms" "$floor" "$snap" "-" "$(ratio "$snap" "$floor")" "-"
    rows=$(ms "COPY (SELECT * FROM store_snapshot_rows('bench')) TO '/dev/null'" 3)
    report "R1 ... streamed as chunks by store_snapshot_rows, ms" "$floor" "$rows" "-" "$(ratio "$rows" "$floor")" "-"
    unregister_all
    for i in $(seq 1 "$R1_KEYS"); do
        q "CREATE TABLE k_$i (LIKE bare_t INCLUDING ALL)"
        q "$(fill k_$i 1 "$R1_KEY_ROWS")"
        q "SELECT store_register('k_$i', 'k_$i')" >/dev/null
    done
    union=$(for i in $(seq 1 "$R1_KEYS"); do printf "%s SELECT json_agg(t) FROM k_$i t" "$([ "$i" -gt 1 ] && echo ' UNION ALL')"; done)
    agg=$(ms "COPY ($union) TO '/dev/null'" 2)
    snap=$(ms "COPY (SELECT store_snapshot()) TO '/dev/null'" 2)
    report "R1 store_snapshot() of $R1_KEYS keys x $R1_KEY_ROWS rows, ms (bare: json_agg)" "$agg" "$snap" "-" "$(ratio "$snap" "$agg")" "-"
    for i in $(seq 1 "$R1_KEYS"); do q "DROP TABLE k_$i" ; done
    unregister_all
}

section_r2() {
    echo "== R2: point reads and deltas with $R2_HISTORY history rows" >&2
    make_tables
    for t in bare_t store_t pl_t; do q "$(fill $t 1 100000)"; done
    q "INSERT INTO store.history (origin, xid, cache_key, item, state)
       SELECT store._origin(), '3', 'bench', to_jsonb(g % 100000), 'U' FROM generate_series(1, $R2_HISTORY) g"
    q "VACUUM ANALYZE"
    printf "\\\\set id random(1, 100000)\nSELECT store_get('bench', :id::text);\n" > "$work/get.sql"
    printf "\\\\set id random(1, 100000)\nSELECT id, to_json(t) FROM bare_t t WHERE id = :id;\n" > "$work/bareget.sql"
    lat() { "$bin/pgbench" -n -c 1 -T "$1" -f "$2" 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'; }
    # three alternating rounds, medians (the machine's noise drifts over seconds)
    lat_median() { local f=$1 r out=""; for r in 1 2 3; do out+="$(lat 3 "$f") "; done; echo "$out" | tr ' ' '\n' | grep . | median; }
    local b="" s="" r
    for r in 1 2 3; do b+="$(lat 3 "$work/bareget.sql") "; s+="$(lat 3 "$work/get.sql") "; done
    get_bare=$(echo "$b" | tr ' ' '\n' | grep . | median); get_store=$(echo "$s" | tr ' ' '\n' | grep . | median)
    report "R2 store_get latency, ms (bare: to_json of the row)" "$get_bare" "$get_store" "-" "$(ratio "$get_store" "$get_bare")" "-"
    version=$(q "SELECT store_version()")
    q "UPDATE store_t SET qty = qty + 1 WHERE id <= 100"
    printf "SELECT count(*) FROM store_history('%s');\n" "$version" > "$work/history.sql"
    printf "SELECT length(store_changes('%s')::text);\n" "$version" > "$work/changes.sql"
    hist=$(lat_median "$work/history.sql"); chg=$(lat_median "$work/changes.sql")
    report "R2 store_history: 100 new changes, $R2_HISTORY rows, ms" "-" "$hist" "-" "-" "-"
    report "R2 store_changes: 100 new changes, $R2_HISTORY rows, ms" "-" "$chg" "-" "-" "-"
    unregister_all
}

section_reload() {
    local floor="" reload="" rebuilt="" t
    echo "== Reload" >&2
    make_tables
    q "SELECT store_unregister('bench')" >/dev/null
    q "$(fill store_t 1 "$RELOAD_ROWS")"
    q "VACUUM ANALYZE store_t" # the floor must not pay for the first read's hint bits
    q "CREATE TABLE floor_copy (doc json)"
    for _ in 1 2 3; do # best of 3, each into an empty table
        q "TRUNCATE floor_copy"
        t=$(ms "INSERT INTO floor_copy SELECT row_to_json(t) FROM store_t t")
        floor=$(printf '%s\n' $floor $t | sort -n | head -1)
    done
    q "SELECT store_register('bench', 'store_t')" >/dev/null
    q "VACUUM store.entries"
    reload=$(ms "SELECT store_reload('bench')" 3) # a repair reload: every stored document is current
    report "Reload of $RELOAD_ROWS rows, ms (floor: INSERT ... SELECT row_to_json)" "$floor" "$reload" "-" "$(ratio "$reload" "$floor")" "-"
    for _ in 1 2 3; do # every stored document wrong (a superuser's stray write): every one rewritten
        q "UPDATE store.entries SET doc = '{}' WHERE key = 'bench'"
        q "VACUUM store_t, store.entries"
        t=$(ms "SELECT store_reload('bench')")
        rebuilt=$(printf '%s\n' $rebuilt $t | sort -n | head -1)
    done
    report "  ... every stored document wrong, ms" "$floor" "$rebuilt" "-" "$(ratio "$rebuilt" "$floor")" "-"
    q "DROP TABLE floor_copy"
    unregister_all
}

section_notify() {
    echo "== N: commit-to-NOTIFY latency" >&2
    make_tables
    n_out=$(build/store_notify_latency "$NOTIFY_SAMPLES" store_t store)
    report "N notify latency p50 / p99, ms (single-row INSERT)" "-" "$n_out" "-" "-" "-"
    unregister_all
}

section_memory() {
    echo "== Memory: streaming a store of $BIG_ROWS rows" >&2
    make_tables
    q "DROP TABLE IF EXISTS big_t"
    q "CREATE TABLE big_t (LIKE bare_t INCLUDING ALL)"
    q "$(fill big_t 1 "$BIG_ROWS")"
    q "SELECT store_register('big', 'big_t')" >/dev/null
    size=$(q "SELECT pg_size_pretty(sum(pg_column_size(doc))) FROM store.entries WHERE key = 'big'")
    start=$(date +%s%N)
    peak=$(psql -X -q -At -c "\\o /dev/null" -c "COPY (SELECT * FROM store_snapshot_rows('big')) TO STDOUT" -c "\\o" \
           -c "SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\\s+(\\d+ kB)'))[1]")
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    # one json value cannot exceed 1 GB: past that, store_snapshot() refuses and names the stream
    single=$(psql -X -q -At -v ON_ERROR_STOP=1 -c "\\o /dev/null" -c "SELECT store_snapshot('big')" -c "\\o" \
           -c "SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\\s+(\\d+ kB)'))[1]" \
           2>/dev/null | tail -n 1) || single="refused: > 1 GB"
    report "Memory: peak backend RSS streaming $size of documents" "-" "$peak" "-" "-" "-"
    report "  ... in $elapsed ms; store_snapshot() as one value instead:" "-" "$single" "-" "-" "-"
    q "DROP TABLE big_t"
    section_memory_feed
}

# peak_memory(sql): runs sql in a session of its own (output discarded) and prints
# "<peak private memory> / <VmHWM> kB, <ms> ms" of its backend. Private memory (RssAnon: what the
# backend allocated, without the shared buffers it touched) is sampled every 10 ms from /proc.
peak_memory() {
    local app="bench_memory_$$" pid="" peak=0 key value rest start hwm
    start=$(date +%s%N)
    PGAPPNAME=$app psql -X -q -At -v ON_ERROR_STOP=1 -c "\\o /dev/null" -c "$1" -c "\\o" \
        -c "SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\\s+(\\d+) kB'))[1]" \
        > "$work/hwm" &
    local client=$!
    while kill -0 "$client" 2>/dev/null; do
        [ -z "$pid" ] && pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
        if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
            while read -r key value rest; do
                [ "$key" = RssAnon: ] && [ "$value" -gt "$peak" ] && peak=$value
            done < "/proc/$pid/status"
        fi
        sleep 0.01
    done
    wait "$client"
    hwm=$(cat "$work/hwm")
    echo "$peak / $hwm kB, $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

section_memory_feed() {
    echo "== Memory: reading a history of $FEED_HISTORY rows from version '0'" >&2
    make_tables
    unregister_all
    q "DROP TABLE IF EXISTS feed_t"
    q "CREATE TABLE feed_t (LIKE bare_t INCLUDING ALL)"
    q "$(fill feed_t 1 100000)"
    q "SELECT store_register('feed', 'feed_t')" >/dev/null
    q "TRUNCATE store.history" # (from '0', the registration would bring the key back whole)
    # history rows in transactions of 100 (each of its own transaction id), on 100000 items
    q "CREATE OR REPLACE PROCEDURE bench_history(total int) LANGUAGE plpgsql AS \$\$
       BEGIN
           FOR i IN 0 .. total / 100 - 1 LOOP
               INSERT INTO store.history (cache_key, item, state)
               SELECT 'feed', to_jsonb((i * 100 + g) % 100000 + 1), 'U' FROM generate_series(0, 99) g;
               COMMIT;
           END LOOP;
       END \$\$"
    PGOPTIONS="-c synchronous_commit=off" q "CALL bench_history($FEED_HISTORY)"
    q "VACUUM ANALYZE store.history"
    size=$(q "SELECT pg_size_pretty(pg_total_relation_size('store.history'))")
    report "Memory: store_history('0'), $FEED_HISTORY rows ($size): private/VmHWM" "-" \
        "$(peak_memory "SELECT * FROM store_history('0')")" "-" "-" "-"
    report "  ... store_changes('0'), one answer" "-" "$(peak_memory "SELECT store_changes('0')")" "-" "-" "-"
    # following from '0' to the end, calling again while the answer says "more" (both fields open
    # the answer: read from its head, not parsed, so that the loop measures store_changes)
    report "  ... store_changes from '0' to the end, every page" "-" "$(peak_memory "DO \$\$
        DECLARE v text := '0'; head text; pages int := 0;
        BEGIN
            LOOP
                head := left(store_changes(v)::text, 200); pages := pages + 1;
                v := substring(head from '^\\{\"version\":\"([^\"]*)\"');
                EXIT WHEN head NOT LIKE '%,\"more\":true,%' OR pages > 100000;
            END LOOP;
            RAISE NOTICE 'pages: %', pages;
        END \$\$")" "-" "-" "-"
    q "DROP PROCEDURE bench_history(int)"
    unregister_all
    q "DROP TABLE feed_t"
}

section_notifier() {
    echo "== The notifier: shared_preload_libraries = 'store' takes NOTIFY off the commit path" >&2
    q "DROP TABLE IF EXISTS big_t"
    unregister_all
    psql -X -q -c "ALTER SYSTEM SET shared_preload_libraries = 'store'"
    pg_ctlcluster "$PGVERSION" regress restart
    for _ in $(seq 1 50); do pg_isready -q && break; sleep 0.2; done
    w1_table bare_t store_t
    local op
    for op in insert update; do
        declare -A got=()
        while read -r name value; do got[$name]=$value; done < <(w1_rounds "$op" "bare:bare_t:" "store:store_t:")
        report "W1 $op tps with the notifier (preloaded)" "${got[bare]}" "${got[store]}" "-" \
            "$(ratio "${got[store]}" "${got[bare]}")" "-"
        unset got
    done
    n_out=$(build/store_notify_latency "$NOTIFY_SAMPLES" store_t store)
    report "N notify latency p50 / p99, ms, with the notifier" "-" "$n_out" "-" "-" "-"
    psql -X -q -c "ALTER SYSTEM RESET shared_preload_libraries"
}

# ---- The table shapes of 0.3.0: composite keys, partitioned tables, partial keys (filters) ----
# Every variant is the 7-column table plus grp int (a second key column, grp = id % 100), filled
# alike; "name table primary-key partitions registration" ('-': not registered, 'all': every row,
# otherwise the filter). active is true on every other row, so the filter keeps half of them.
SHAPES=(
    "bare bare_s id 0 -"
    "single single_s id 0 all"
    "bare_comp barec_s grp,id 0 -"
    "composite comp_s grp,id 0 all"
    "bare_part barep_s id 4 -"
    "partitioned part_s id 4 all"
    "filtered filt_s id 0 active"
)
SHAPE_COLUMNS="grp int, id bigint, name text, price numeric(12,2), qty int, tags text[], active bool, updated_at timestamptz"

# shape_table(table, primary-key, partitions, registration): the table afresh, hash-partitioned on
# id when partitions > 0, registered at its root under its own name as key.
shape_table() {
    local t=$1 pk=$2 parts=$3 reg=$4 i
    q "DROP TABLE IF EXISTS $t CASCADE"
    if [ "$parts" -gt 0 ]; then
        q "CREATE TABLE $t ($SHAPE_COLUMNS, PRIMARY KEY ($pk)) PARTITION BY HASH (id)"
        for i in $(seq 0 $((parts - 1))); do
            q "CREATE TABLE ${t}_$i PARTITION OF $t FOR VALUES WITH (MODULUS $parts, REMAINDER $i)"
        done
    else
        q "CREATE TABLE $t ($SHAPE_COLUMNS, PRIMARY KEY ($pk))"
    fi
    case $reg in
        -) ;;
        all) q "SELECT store_register('$t', '$t')" >/dev/null ;;
        *) q "SELECT store_register('$t', '$t', filter => '$reg')" >/dev/null ;;
    esac
}
# shape_fill(table, from, to, [grp]): the INSERT of rows from..to (the fill of the 7-column table,
# plus grp: the expression over g given, g % 100 by default).
shape_fill() {
    echo "INSERT INTO $1 SELECT ${4:-g % 100}, g, 'item ' || g, g * 1.25, g % 100, ARRAY['tag' || g % 7, 'x'], g % 2 = 0, '2026-11-25 12:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series($2, $3) g"
}
# shape_cycle(table): one round's batches on an empty table, "insert update delete" in ms: INSERT of
# SHAPE_ROWS rows, UPDATE of all of them, DELETE of all of them; then the table and the store's
# tables are emptied of dead rows (history truncated) so that every round starts alike.
shape_cycle() {
    local t=$1 ins upd del
    ins=$(ms "$(shape_fill "$t" 1 "$SHAPE_ROWS")")
    upd=$(ms "UPDATE $t SET qty = qty + 1, updated_at = updated_at + interval '1 second'")
    del=$(ms "DELETE FROM $t")
    q "TRUNCATE store.history"
    q "VACUUM $t, store.entries, store.history"
    echo "$ins $upd $del"
}
# med(values...): the median of its arguments.
med() { printf '%s\n' "$@" | median; }

section_shapes_write() {
    echo "== S: bulk INSERT/UPDATE/DELETE of $SHAPE_ROWS rows by table shape, $SHAPE_ROUNDS alternating rounds" >&2
    unregister_all
    local spec name t pk parts reg round i op n=${#SHAPES[@]} ins upd del
    for spec in "${SHAPES[@]}"; do read -r _ t pk parts reg <<<"$spec"; shape_table "$t" "$pk" "$parts" "$reg"; done
    q "VACUUM ANALYZE"
    declare -A runs=()
    for round in $(seq 1 "$SHAPE_ROUNDS"); do
        for i in $(seq 0 $((n - 1))); do # each round starts one variant further: no variant always first
            read -r name t pk parts reg <<<"${SHAPES[$(((i + round) % n))]}"
            read -r ins upd del < <(shape_cycle "$t")
            runs[$name.insert]+=" $ins"; runs[$name.update]+=" $upd"; runs[$name.delete]+=" $del"
        done
    done
    declare -A m=()
    for spec in "${SHAPES[@]}"; do
        read -r name _ <<<"$spec"
        for op in insert update delete; do m[$name.$op]=$(med ${runs[$name.$op]}); done
    done
    # shape_row(label, bare variant, shape variant, reference variant or -, op)
    shape_row() {
        local ref="-" vs="-"
        [ "$4" != - ] && ref=${m[$4.$5]} && vs=$(ratio "${m[$3.$5]}" "$ref")
        shape_report "S $1: bulk $5 of $SHAPE_ROWS rows, ms" "${m[$2.$5]}" "${m[$3.$5]}" "$ref" \
            "$(ratio "${m[$3.$5]}" "${m[$2.$5]}")" "$vs"
    }
    for op in insert update delete; do
        shape_row "single key (id)" bare single - $op
        shape_row "composite key (grp, id)" bare_comp composite single $op
        shape_row "partitioned, 4 hash partitions" bare_part partitioned single $op
        shape_row "filter active (half the rows)" bare filtered single $op
    done
    for spec in "${SHAPES[@]}"; do read -r _ t _ <<<"$spec"; q "DROP TABLE $t CASCADE"; done
    unregister_all
}

# shape_read(key): "snapshot rows changes history" in ms for one key: store_snapshot as one value
# and streamed, then store_changes and store_history since a version after which SHAPE_CHANGED of
# its rows (and nothing else) changed; the dead rows are vacuumed for the next round.
shape_read() {
    local snap rows version
    snap=$(ms "COPY (SELECT store_snapshot('$1')) TO '/dev/null'")
    rows=$(ms "COPY (SELECT * FROM store_snapshot_rows('$1')) TO '/dev/null'")
    version=$(q "SELECT store_version()")
    q "UPDATE $1 SET qty = qty + 1 WHERE id <= $SHAPE_CHANGED"
    echo "$snap $rows" \
         "$(ms "COPY (SELECT store_changes('$version')) TO '/dev/null'")" \
         "$(ms "COPY (SELECT * FROM store_history('$version')) TO '/dev/null'")"
    q "VACUUM $1, store.entries"
}

# Composite ids are read in three layouts: single_s (ids [id]: the documents' index order is the
# order they were written in), comp_s ([grp,id] with grp = id % 100: index order jumps across the
# store's pages, as for keys whose first column interleaves writes, e.g. per tenant) and ordered_s
# ([grp,id] written in id order): ordered_s against single_s is the cost of composite ids
# themselves, comp_s against ordered_s the cost of reading documents out of their written order.
section_shapes_read() {
    echo "== S: reading $SHAPE_READ_ROWS rows by id shape, $SHAPE_ROUNDS alternating rounds" >&2
    unregister_all
    local name round snap rows chg hist i names=(single comp ordered)
    shape_table single_s id 0 all; shape_table comp_s grp,id 0 all; shape_table ordered_s grp,id 0 all
    q "$(shape_fill single_s 1 "$SHAPE_READ_ROWS")"; q "$(shape_fill comp_s 1 "$SHAPE_READ_ROWS")"
    q "$(shape_fill ordered_s 1 "$SHAPE_READ_ROWS" "g * 100 / $SHAPE_READ_ROWS")"
    q "VACUUM FULL ANALYZE"
    declare -A runs=()
    for round in $(seq 1 "$SHAPE_ROUNDS"); do
        for i in 0 1 2; do # each round starts one variant further
            name=${names[$(((i + round) % 3))]}
            read -r snap rows chg hist < <(shape_read "${name}_s")
            runs[$name.snap]+=" $snap"; runs[$name.rows]+=" $rows"; runs[$name.chg]+=" $chg"; runs[$name.hist]+=" $hist"
        done
    done
    # read_row(label, variant, measure): the variant against single_s
    read_row() {
        local s c
        s=$(med ${runs[single.$3]}); c=$(med ${runs[$2.$3]})
        shape_report "S $1, ms" "-" "$c" "$s" "-" "$(ratio "$c" "$s")"
    }
    for name in ordered comp; do
        [ $name = ordered ] && read_row "store_snapshot(key), $SHAPE_READ_ROWS ids [grp,id] in written order" $name snap
        [ $name = comp ] && read_row "store_snapshot(key), $SHAPE_READ_ROWS ids [grp,id], grp = id % 100" $name snap
        read_row "  ... streamed by store_snapshot_rows" $name rows
        read_row "  ... store_changes: $SHAPE_CHANGED changed rows" $name chg
        read_row "  ... store_history: $SHAPE_CHANGED changed rows" $name hist
    done
    q "DROP TABLE single_s, comp_s, ordered_s"
    unregister_all
}

section_shapes() {
    section_shapes_write
    section_shapes_read
}

# ---- Nested documents (issue 11): one parent with 100 children each, every parent in one region ----
# Two copies of region <- parent <- child: bare_* unregistered, store_* registered as the nested key
# 'nested' (the parent with its region's name and its 100 children). Timings are the backend's CPU
# time (from /proc: other work on the machine disturbs it far less than wall time), per
# transaction, commit included (the nested flush runs at commit).
NESTED_SHAPE='id,name,region:store_region(name),children:store_child(id,name,qty,price)'

# nested_cpu(sql, n): "cpu wall" ms per transaction of sql, run n times, each its own transaction.
nested_cpu() { q "CALL bench_cpu_commit(\$q\$$1\$q\$, ${2:-1})" | tr '|' ' '; }

# nested_tables: both copies afresh, NESTED_PARENTS parents of 100 children, all in region 1;
# the store copy registered after the fill.
nested_tables() {
    local p
    unregister_all
    for p in bare store; do
        q "DROP TABLE IF EXISTS ${p}_child, ${p}_parent, ${p}_region CASCADE"
        q "CREATE TABLE ${p}_region (id int PRIMARY KEY, name text)"
        q "CREATE TABLE ${p}_parent (id bigint PRIMARY KEY, name text, region_id int REFERENCES ${p}_region)"
        q "CREATE INDEX ON ${p}_parent (region_id)"
        q "CREATE TABLE ${p}_child (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES ${p}_parent,
                                   name text, qty int, price numeric(12,2))"
        q "CREATE INDEX ON ${p}_child (parent_id)"
        q "INSERT INTO ${p}_region VALUES (1, 'north'), (2, 'south')"
        q "INSERT INTO ${p}_parent SELECT g, 'parent ' || g, 1 FROM generate_series(1, $NESTED_PARENTS) g"
        q "INSERT INTO ${p}_child SELECT g, (g - 1) / 100 + 1, 'child ' || g, g % 10, g * 1.25
           FROM generate_series(1, $NESTED_PARENTS * 100) g"
    done
    q "SELECT store_register('nested', 'store_parent', shape => '$NESTED_SHAPE')" >/dev/null
    q "VACUUM ANALYZE"
}

# nested_settle: the dead rows of a round removed, the history emptied: every round starts alike.
nested_settle() {
    q "TRUNCATE store.history"
    q "VACUUM bare_child, bare_parent, bare_region, store_child, store_parent, store_region, store.entries, store.history"
}

section_nested() {
    local children=$((NESTED_PARENTS * 100)) round p first second cpu wall
    echo "== Nested: $NESTED_PARENTS parents x 100 children, $NESTED_ROUNDS alternating rounds, CPU ms" >&2
    # the backend's time on CPU so far, ns (/proc/<pid>/schedstat: finer than the ticks of stat,
    # which it falls back to on kernels without schedstat)
    q "CREATE OR REPLACE FUNCTION bench_cpu_ns() RETURNS bigint LANGUAGE plpgsql AS \$\$
       DECLARE s text;
       BEGIN
           RETURN split_part(pg_read_file('/proc/' || pg_backend_pid() || '/schedstat'), ' ', 1)::bigint;
       EXCEPTION WHEN OTHERS THEN
           s := pg_read_file('/proc/' || pg_backend_pid() || '/stat');
           RETURN (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) * (1000000000 / $(getconf CLK_TCK));
       END \$\$"
    q "CREATE OR REPLACE PROCEDURE bench_cpu_commit(sql text, n int, INOUT cpu numeric DEFAULT NULL,
                                                    INOUT wall numeric DEFAULT NULL) LANGUAGE plpgsql AS \$\$
       DECLARE t0 bigint; w0 timestamptz;
       BEGIN
           COMMIT;
           t0 := bench_cpu_ns(); w0 := clock_timestamp();
           FOR i IN 1 .. n LOOP EXECUTE sql; COMMIT; END LOOP;
           cpu := round((bench_cpu_ns() - t0) / 1e6 / n, 3);
           wall := round(extract(epoch FROM clock_timestamp() - w0)::numeric * 1000 / n, 3);
       END \$\$"
    nested_tables
    declare -A runs=()
    for round in $(seq 1 "$NESTED_ROUNDS"); do
        first=bare; second=store; [ $((round % 2)) = 0 ] && first=store && second=bare
        for p in $first $second; do
            read -r cpu wall < <(nested_cpu "UPDATE ${p}_child SET qty = qty + 1 WHERE id = 1" "$NESTED_TXNS")
            runs[$p.one]+=" $cpu"
            read -r cpu wall < <(nested_cpu "UPDATE ${p}_child SET qty = qty + 1")
            runs[$p.all]+=" $cpu"; runs[$p.all_wall]+=" $wall"
            read -r cpu wall < <(nested_cpu "UPDATE ${p}_region SET name = CASE name WHEN 'north' THEN 'east' ELSE 'north' END WHERE id = 1" "$NESTED_RENAMES")
            runs[$p.rename]+=" $cpu"
            nested_settle
        done
    done
    # nested_row(label, measure)
    nested_row() {
        local b s; b=$(med ${runs[bare.$2]}); s=$(med ${runs[store.$2]})
        report "$1" "$b" "$s" "-" "$(ratio "$s" "$b")" "-"
    }
    nested_row "Nested: child UPDATE re-rendering a parent of 100 children, CPU ms" one
    nested_row "Nested: one UPDATE of $children children, $NESTED_PARENTS parents, CPU ms" all
    nested_row "  ... the same, wall ms" all_wall
    nested_row "Nested: renaming a to-one target of $NESTED_PARENTS documents, CPU ms" rename
    unregister_all
    q "DROP TABLE bare_child, bare_parent, bare_region, store_child, store_parent, store_region"
}

# ---- store_apply (issue 14): a change set of 100 updates against the same 100 UPDATEs ----
# Every transaction picks a block of 100 existing ids and a new value (pgbench variables, which
# pgbench's default simple query mode substitutes inside the JSON literal too), so every row and
# document changes. apply_scripts writes: apply.sql (SELECT store_apply of 100 "update" entities),
# txn_<t>.sql (BEGIN, the 100 UPDATEs of table t and COMMIT sent as one request: \; joins them)
# and steps.sql (the same on store_t as 102 statements, one round trip each).
apply_scripts() {
    local i
    {
        echo "\\set b random(0, $((APPLY_ROWS / 100 - 1)))"
        echo "\\set v random(1, 1000000)"
        for i in $(seq 1 100); do echo "\\set i$i :b * 100 + $i"; done
    } > "$work/apply_vars.sql"
    {
        cat "$work/apply_vars.sql"
        printf "SELECT store_apply('{\"changes\": [{\"op\": \"update\", \"entityName\": \"bench\", \"entities\": ["
        for i in $(seq 1 100); do
            [ "$i" -gt 1 ] && printf ", "
            printf '{"id": :i%d, "changes": {"qty": :v, "name": "item :v"}}' "$i"
        done
        printf "]}]}');\n"
    } > "$work/apply.sql"
    for t in bare_t store_t; do
        {
            cat "$work/apply_vars.sql"
            echo "BEGIN\\;"
            for i in $(seq 1 100); do echo "UPDATE $t SET qty = :v, name = 'item :v' WHERE id = :i$i\\;"; done
            echo "COMMIT;"
        } > "$work/txn_$t.sql"
    done
    {
        cat "$work/apply_vars.sql"
        echo "BEGIN;"
        for i in $(seq 1 100); do echo "UPDATE store_t SET qty = :v, name = 'item :v' WHERE id = :i$i;"; done
        echo "COMMIT;"
    } > "$work/steps.sql"
}

section_apply() {
    local round v latency
    local variants=(apply txn_store_t steps txn_bare_t)
    echo "== Apply: store_apply of 100 updates against the same UPDATEs in one transaction, pgbench 1 client, $APPLY_ROUNDS alternating rounds of ${APPLY_ROUND_SECONDS}s" >&2
    make_tables
    for t in bare_t store_t; do q "$(fill $t 1 "$APPLY_ROWS")"; done
    q "VACUUM ANALYZE bare_t, store_t"
    apply_scripts
    # the change set applies (a pgbench run that fails would only print fewer transactions)
    q "SELECT store_apply('{\"changes\": [{\"op\": \"update\", \"entityName\": \"bench\", \"entities\": [{\"id\": 1, \"changes\": {\"qty\": 7, \"name\": \"item 7\"}}]}]}')->>'applied'" | grep -qx true
    declare -A runs=()
    for round in $(seq 1 "$APPLY_ROUNDS"); do
        # the variants in a rotating order: each runs first once in a while
        for v in "${variants[@]:$(( (round - 1) % 4 ))}" "${variants[@]:0:$(( (round - 1) % 4 ))}"; do
            latency=$("$bin/pgbench" -n -c 1 -T "$APPLY_ROUND_SECONDS" -f "$work/$v.sql" 2>/dev/null |
                sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
            [ -n "$latency" ] || { echo "apply: pgbench failed on $v.sql" >&2; return 1; }
            runs[$v]+=" $latency"
        done
    done
    local apply txn steps bare
    apply=$(printf '%s\n' ${runs[apply]} | median); txn=$(printf '%s\n' ${runs[txn_store_t]} | median)
    steps=$(printf '%s\n' ${runs[steps]} | median); bare=$(printf '%s\n' ${runs[txn_bare_t]} | median)
    # bare = the UPDATEs (registered table), store = store_apply: the issue's target is <= 1.5x
    report "Apply: 100 updates, store_apply vs 1-request UPDATEs, ms" "$txn" "$apply" "-" "$(ratio "$apply" "$txn")" "-"
    report "  ... vs the UPDATEs as 102 statements" "$steps" "$apply" "-" "$(ratio "$apply" "$steps")" "-"
    report "  ... the 1-request UPDATEs, unregistered vs registered" "$bare" "$txn" "-" "$(ratio "$txn" "$bare")" "-"
    unset runs
    unregister_all
}

source bench/gateway.sh # section_gateway: store-http against pgbench and nginx
for section in ${BENCH_SECTIONS:-w1 w2 r1 r2 reload notify memory shapes nested apply gateway notifier}; do
    "section_$section"
done

echo
row "workload" "bare" "store" "plpgsql" "store/bare" "store/pl"
printf '%s\n' "${results[@]}"
if [ ${#shape_results[@]} -gt 0 ]; then # shapes: bare = the same shape unregistered, ref = the single-key store
    echo
    row "table shape" "bare" "shape" "single key" "shape/bare" "shape/single"
    printf '%s\n' "${shape_results[@]}"
fi
rm -rf "$work"
