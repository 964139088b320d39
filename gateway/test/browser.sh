#!/usr/bin/env bash
# store-http in a real browser: Debian's headless Chromium (driven by npm's puppeteer-core, no bundled
# browser) loads gateway/test/browser/page.html from the gateway's origin; the page reads GET /store/,
# follows /store/events and on each event reads /store/changes/; this test changes the store in SQL and
# waits until the page shows each change, and restarts the gateway to see the page reconnect and catch
# up (gateway/test/js/browser.mjs). Runs against the PostgreSQL of the PG* environment variables
# (pg_virtualenv in CI, a private cluster in development); `npm ci` in gateway/test/js when
# node_modules is missing.
#   STORE_HTTP_BIN: the binary (default: gateway/build/store-http, else `pg_config --bindir`/store-http)
#   STORE_HTTP_PORT: the port to listen on (default 18100)
#   CHROMIUM: the browser (default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${STORE_HTTP_BIN:-}
if [ -z "$BIN" ]; then
    if [ -x gateway/build/store-http ]; then BIN=gateway/build/store-http; else BIN="$(pg_config --bindir)/store-http"; fi
fi
PORT=${STORE_HTTP_PORT:-18100}
DB=store_browser_test
JS=gateway/test/js
WORK=$(mktemp -d)
export BROWSER_TEST_PID_FILE=$WORK/gateway.pid

# Stops a gateway the node script left running (it writes its pid) and removes the scratch directory.
cleanup() {
    local pid
    pid=$(cat "$BROWSER_TEST_PID_FILE" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "gateway/test/browser.sh needs $tool (scripts/install-deps installs it)"; exit 1; }
done
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "gateway/test/browser.sh needs Debian's chromium at ${CHROMIUM:-/usr/bin/chromium} (scripts/install-deps installs it)"; exit 1
fi
if [ ! -d "$JS/node_modules/puppeteer-core" ]; then (cd "$JS" && npm ci --no-audit --no-fund --silent); fi

echo "== setup (database $DB, roles store_browser_*)"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -d postgres -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
SET client_min_messages = warning;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_browser_auth') THEN CREATE ROLE store_browser_auth LOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_browser_anon') THEN CREATE ROLE store_browser_anon NOLOGIN; END IF;
END $$;
GRANT store_browser_anon TO store_browser_auth;
SQL
# Under pg_virtualenv connections use passwords (PGPASSWORD): the authenticator gets the same one.
if [ -n "${PGPASSWORD:-}" ]; then
    psql -X -q -d postgres -v ON_ERROR_STOP=1 -v pw="$PGPASSWORD" <<'SQL' >/dev/null
ALTER ROLE store_browser_auth PASSWORD :'pw';
SQL
fi
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION store;
CREATE TABLE items (id int PRIMARY KEY, name text, qty int);
INSERT INTO items VALUES (1, 'tea', 2), (2, 'coffee', 0), (3, 'caf' || chr(233), 1);
SELECT store_register('items', 'items');
GRANT SELECT ON items TO store_browser_anon;
SQL

echo "== the page in headless Chromium ($("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n 1), puppeteer-core $(jq -r '.dependencies["puppeteer-core"]' $JS/package.json))"
rc=0
node "$JS/browser.mjs" "$DB" "$PORT" "$BIN" --db "dbname=$DB user=store_browser_auth" --anon-role store_browser_anon || rc=$?
psql -X -q -d postgres -c "DROP DATABASE $DB" || true
if [ "$rc" -ne 0 ]; then echo "store-http browser test: FAILED"; exit 1; fi
echo "store-http browser test: passed"
