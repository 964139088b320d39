#!/usr/bin/env bash
# Memory check: runs the pg_regress suite against a PostgreSQL server started under valgrind
# (memcheck, every backend traced), then reports every valgrind error whose stack passes through
# the store's module. PostgreSQL's own code, which valgrind flags without PostgreSQL's private
# suppressions, is left out of the verdict. Run as root from the repository: bash test/valgrind/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(pg_config --bindir)
work=$(mktemp -d /tmp/store-valgrind.XXXXXX)
cp test/valgrind/postgres.supp "$work/" # PostgreSQL's own known false positives (the postgres user may not read the checkout)
chown -R postgres "$work"
port=${VALGRIND_PORT:-5497}
as_postgres() { su postgres -s /bin/bash -c "$*"; }

as_postgres "$bin/initdb -D $work/data -U postgres --no-sync" >/dev/null
as_postgres "valgrind --quiet --suppressions=$work/postgres.supp --trace-children=yes --track-origins=yes --num-callers=40 \
    --error-limit=no --log-file=$work/valgrind.%p.log \
    $bin/postgres -D $work/data -p $port -k $work -c listen_addresses= -c fsync=off -c jit=off \
    >$work/server.log 2>&1 &"
for _ in $(seq 1 120); do "$bin/pg_isready" -q -h "$work" -p "$port" && break; sleep 1; done
"$bin/pg_isready" -q -h "$work" -p "$port" || { cat "$work/server.log"; exit 1; }

status=0
make installcheck ISOLATION= PGHOST="$work" PGPORT="$port" PGUSER=postgres >"$work/regress.log" 2>&1 || status=$?
as_postgres "$bin/pg_ctl -D $work/data -m fast -w -t 600 stop" >/dev/null || true
sleep 2

# Every error report whose stack mentions the store's module or its C++ symbols.
ours=$(for f in "$work"/valgrind.*.log; do
           awk '/^==[0-9]+== [A-Z]/ { if (block ~ /store\.so|\.cpp:[0-9]+/) print block; block = "" }
                { block = block "\n" $0 }
                END { if (block ~ /store\.so|\.cpp:[0-9]+/) print block }' "$f"
       done)
errors=$(cat "$work"/valgrind.*.log | grep -c "^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|Mismatched\|overlap\|Syscall\)" || true)
echo "valgrind: pg_regress exit status $status; $errors error reports in all, $(printf '%s' "$ours" | grep -c "\.cpp:" || true) lines in store frames"
if [ "$status" -ne 0 ]; then cat test/regression.diffs 2>/dev/null || true; fi
if [ -n "$ours" ]; then echo "$ours"; exit 1; fi
[ "$status" -eq 0 ] || exit 1
rm -rf "$work"
echo "valgrind: the regression suite runs clean in the store's code"
