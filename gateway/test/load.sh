#!/usr/bin/env bash
# store-http under load: starts the gateway on loopback against the PostgreSQL of the PG* environment
# variables (pg_virtualenv in CI, a private cluster in development), registers a table of a few thousand
# rows and runs wrk (several connections, a few seconds each) against GET /store/<key>/<id>/ (random
# ids), GET /store/<key>/ and GET /store/. Fails unless every run made requests and wrk counted no
# error: no non-2xx/3xx response, no connect/read/write error, no timeout. Times are printed, never asserted.
#   STORE_HTTP_BIN: the binary (see lib.sh)
#   STORE_HTTP_PORT: the port to listen on (default 18095)
#   LOAD_SECONDS: seconds per route (default 3); LOAD_CONNECTIONS: wrk connections (default 16)
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${STORE_HTTP_PORT:-18095}
SECONDS_PER_ROUTE=${LOAD_SECONDS:-3}
CONNECTIONS=${LOAD_CONNECTIONS:-16}
ROWS=3000
DB=store_http_load
. gateway/test/lib.sh

if ! command -v wrk >/dev/null; then
    echo "load.sh: wrk is not installed (scripts/install-deps installs Debian's wrk)" >&2
    exit 1
fi


echo "== setup (database $DB, $ROWS rows in key 'items', roles store_http_auth/store_http_anon)"
gateway_setup store_http_auth "store_http_anon"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -v rows="$ROWS" <<'SQL' >/dev/null
CREATE EXTENSION store;
CREATE TABLE items (id int PRIMARY KEY, name text, qty int, tags text[], updated_at timestamptz);
INSERT INTO items SELECT g, 'item ' || g, g % 100, ARRAY['tag' || g % 7], '2026-12-01 12:00:00+00'::timestamptz + g * interval '1 second'
FROM generate_series(1, :rows) g;
SELECT store_register('items', 'items');
GRANT SELECT ON items TO store_http_anon;
SQL

"$BIN" --db "dbname=$DB user=store_http_auth" --listen "127.0.0.1:$PORT" --anon-role store_http_anon >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "$BASE/" && break
    sleep 0.1
done
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/store/items/1/")" != 200 ]; then
    echo "store-http did not answer GET /store/items/1/ with 200:"; cat "$WORK/server.log"; exit 1
fi

# wrk's summary as one parseable line (every script ends with it).
cat >"$WORK/done.lua" <<'LUA'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("LOAD requests=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
        summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
# Random ids of the table (each thread seeds its own generator).
{
    cat <<LUA
local rows = $ROWS
init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tostring({}):len()) end
request = function() return wrk.format("GET", "/store/items/" .. math.random(1, rows) .. "/") end
LUA
    cat "$WORK/done.lua"
} >"$WORK/ids.lua"

# load(name, path, script): one wrk run; a failure unless it made requests and counted no error.
load() {
    local out line
    out=$(wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_ROUTE}s" --timeout 10s -s "$3" "$BASE$2" 2>&1) || true
    printf '%s\n' "$out" | sed 's/^/  /'
    line=$(printf '%s\n' "$out" | grep '^LOAD ' || true)
    if [ -z "$line" ]; then
        echo "FAIL: $1: wrk gave no summary"; failures=$((failures + 1)); return
    fi
    local requests connect read write status timeout
    eval "$(printf '%s' "${line#LOAD }" | tr ' ' '\n' | sed 's/^/local /')"
    if [ "$requests" -eq 0 ]; then echo "FAIL: $1: no requests"; failures=$((failures + 1)); fi
    if [ "$((connect + read + write + status + timeout))" -ne 0 ]; then
        echo "FAIL: $1: errors (connect $connect, read $read, write $write, non-2xx/3xx $status, timeout $timeout)"
        failures=$((failures + 1))
    fi
}

echo "== wrk: GET /store/items/<random id>/, $CONNECTIONS connections, ${SECONDS_PER_ROUTE}s"
load "GET /store/items/<id>/" /store/items/1/ "$WORK/ids.lua"
echo "== wrk: GET /store/items/"
load "GET /store/items/" /store/items/ "$WORK/done.lua"
echo "== wrk: GET /store/"
load "GET /store/" /store/ "$WORK/done.lua"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL: store-http exited during the load:"; cat "$WORK/server.log"; failures=$((failures + 1))
fi
if [ "$failures" -ne 0 ]; then
    echo "load.sh: $failures failure(s)"; echo "-- server log:"; tail -20 "$WORK/server.log"; exit 1
fi
echo "load.sh: every route answered under load without errors"
