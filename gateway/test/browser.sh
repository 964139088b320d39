#!/usr/bin/env bash
# store-http in a real browser: Debian's headless Chromium (driven by npm's puppeteer-core, no bundled
# browser) loads gateway/test/browser/page.html; the page reads GET /store/, follows /store/events and
# on each event reads /store/changes/; this test changes the store in SQL and waits until the page
# shows each change, and restarts the gateway to see the page reconnect and catch up
# (gateway/test/js/browser.mjs). The page runs twice: on the gateway's origin, and on another origin
# through CORS (--cors-origin), whose headers and preflight curl checks first. Runs against the
# PostgreSQL of the PG* environment variables (pg_virtualenv in CI, a private cluster in development);
# `npm ci` in gateway/test/js when node_modules is missing.
#   STORE_HTTP_BIN: the binary (see lib.sh)
#   STORE_HTTP_PORT: the port to listen on (default 18100; the next one is the cross-origin page's)
#   CHROMIUM: the browser (default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${STORE_HTTP_PORT:-18100}
DB=store_browser_test
JS=gateway/test/js
# shellcheck source=gateway/test/lib.sh
. gateway/test/lib.sh
export BROWSER_TEST_PID_FILE=$WORK/gateway.pid
OTHER="http://127.0.0.1:$((PORT + 1))"

# Also stops a gateway the node script left running (it writes its pid), then lib.sh's cleanup.
browser_cleanup() {
    local pid
    pid=$(cat "$BROWSER_TEST_PID_FILE" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" || true; fi
    cleanup
}
trap browser_cleanup EXIT

# curl one URL of the gateway into $WORK/head (headers); prints the status.
get() {
    local url=$1; shift
    curl -s --max-time 30 -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' "$@" "$BASE$url"
}

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "gateway/test/browser.sh needs $tool (scripts/install-deps installs it)"; exit 1; }
done
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "gateway/test/browser.sh needs Debian's chromium at ${CHROMIUM:-/usr/bin/chromium} (scripts/install-deps installs it)"; exit 1
fi
if [ ! -d "$JS/node_modules/puppeteer-core" ]; then (cd "$JS" && npm ci --no-audit --no-fund --silent); fi

echo "== setup (database $DB, roles store_browser_*)"
gateway_setup store_browser_auth "store_browser_anon"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION store;
CREATE TABLE items (id int PRIMARY KEY, name text, qty int);
INSERT INTO items VALUES (1, 'tea', 2), (2, 'coffee', 0), (3, 'caf' || chr(233), 1);
SELECT store_register('items', 'items');
GRANT SELECT ON items TO store_browser_anon;
SQL

echo "== CORS headers and preflight (curl, --cors-origin $OTHER)"
"$BIN" --db "dbname=$DB user=store_browser_auth" --anon-role store_browser_anon --listen "127.0.0.1:$PORT" \
    --cors-origin "$OTHER" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done
check "GET from the allowed origin -> 200" 200 "$(get /store/items/ -H "Origin: $OTHER")"
check "its Access-Control-Allow-Origin" "$OTHER" "$(header Access-Control-Allow-Origin)"
check "the headers a page may read" "ETag, X-Store-Version, Location" "$(header Access-Control-Expose-Headers)"
check "Vary names Origin too" "Accept-Encoding, Authorization, Origin" "$(header Vary)"
check "another origin -> 200" 200 "$(get /store/items/ -H "Origin: http://evil.example")"
check "another origin: no Access-Control-Allow-Origin" "" "$(header Access-Control-Allow-Origin)"
check "no Origin: no Access-Control-Allow-Origin" "" "$(get /store/items/ >/dev/null; header Access-Control-Allow-Origin)"
check "no Origin: Vary still names Origin" "Accept-Encoding, Authorization, Origin" "$(header Vary)"
check "an error answer carries it" "404 $OTHER" "$(get /store/nope/ -H "Origin: $OTHER") $(header Access-Control-Allow-Origin)"
check "preflight of a PATCH -> 204" 204 "$(get /store/items/1/ -X OPTIONS -H "Origin: $OTHER" \
    -H 'Access-Control-Request-Method: PATCH' -H 'Access-Control-Request-Headers: authorization, content-type')"
check "preflight: origin" "$OTHER" "$(header Access-Control-Allow-Origin)"
check "preflight: methods" "GET, POST, PUT, PATCH, DELETE" "$(header Access-Control-Allow-Methods)"
check "preflight: headers" "Authorization, Content-Type, If-None-Match, Last-Event-ID" "$(header Access-Control-Allow-Headers)"
check "preflight from another origin: no Access-Control-Allow-Origin" "204 " "$(get /store/items/1/ -X OPTIONS \
    -H "Origin: http://evil.example" -H 'Access-Control-Request-Method: PATCH') $(header Access-Control-Allow-Origin)"
check "the event stream carries it" "$OTHER" "$(curl -s --max-time 1 -D - -o /dev/null -H "Origin: $OTHER" \
    "$BASE/store/events" | tr -d '\r' | sed -n 's/^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: //p')"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=
echo "CORS: $checks checks, $failures failed"

echo "== the page in headless Chromium ($("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n 1), puppeteer-core $(jq -r '.dependencies["puppeteer-core"]' $JS/package.json))"
rc=0
node "$JS/browser.mjs" "$DB" "$PORT" "$BIN" --db "dbname=$DB user=store_browser_auth" --anon-role store_browser_anon \
    --cors-origin "$OTHER" || rc=$?
psql -X -q -d postgres -c "DROP DATABASE $DB" || true
if [ "$rc" -ne 0 ] || [ "$failures" -ne 0 ]; then echo "store-http browser test: FAILED"; exit 1; fi
echo "store-http browser test: passed"
