#!/usr/bin/env bash
# store-http end to end: starts the gateway on loopback against the PostgreSQL of the PG* environment
# variables (pg_virtualenv in CI, a private cluster in development), and checks every route and status
# with curl, comparing bodies with what SQL returns.
#   STORE_HTTP_BIN: the binary (default: gateway/build/store-http, else `pg_config --bindir`/store-http)
#   STORE_HTTP_PORT: the port to listen on (default 18080; the next one is used for a second instance)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${STORE_HTTP_BIN:-}
if [ -z "$BIN" ]; then
    if [ -x gateway/build/store-http ]; then BIN=gateway/build/store-http; else BIN="$(pg_config --bindir)/store-http"; fi
fi
PORT=${STORE_HTTP_PORT:-18080}
DB=store_http_test
BASE="http://127.0.0.1:$PORT"
SECRET=store-http-test-secret-0123456789abcdef
WORK=$(mktemp -d)
SERVER_PID=
failures=0
checks=0

# Runs SQL in the test database as the superuser of the environment, unaligned, tuples only.
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -tA -c "$1"; }

# Stops the gateway (if running) and removes the scratch directory.
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID"; wait "$SERVER_PID" || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Records one check: name, expected, actual.
check() {
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        failures=$((failures + 1))
        echo "FAIL: $1"
        echo "  expected: $(printf '%s' "$2" | head -c 600)"
        echo "  actual:   $(printf '%s' "$3" | head -c 600)"
    fi
}

# curl one URL: writes the body to $WORK/body and the headers to $WORK/head; prints the status.
get() {
    local url=$1; shift
    : >"$WORK/body"
    : >"$WORK/head"
    curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' "$@" "$BASE$url"
}

# One response header's value (case-insensitive name) from the last get.
header() { grep -i "^$1:" "$WORK/head" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# base64url without padding, of stdin.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# An HS256 token for a JSON payload, signed with a secret (default: the gateway's).
hs256() {
    local head body sig
    head=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
    body=$(printf '%s' "$1" | b64url)
    sig=$(printf '%s.%s' "$head" "$body" | openssl dgst -sha256 -hmac "${2:-$SECRET}" -binary | b64url)
    printf '%s.%s.%s' "$head" "$body" "$sig"
}

# Starts the gateway with extra options and waits until it answers.
start_server() {
    "$BIN" --db "dbname=$DB user=store_http_auth" --listen "127.0.0.1:$PORT" "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "$BASE/" && return 0
        sleep 0.1
    done
    echo "store-http did not start:"; cat "$WORK/server.log"; exit 1
}

# Stops the gateway with SIGTERM and checks that it exits 0.
stop_server() {
    kill -TERM "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    check "SIGTERM exits 0" 0 "$rc"
}

# A snapshot or delta text without its version (autovacuum may take a transaction id between the
# gateway's read and the test's, so versions are compared with the headers instead): byte-exact otherwise.
nov() { sed -E 's/"version":"[^"]*"//g'; }
# The version inside a body.
body_version() { jq -r .version "$WORK/body"; }

# Compares two JSON texts as values.
same_json() { [ "$(jq -S . <<<"$1")" = "$(jq -S . <<<"$2")" ] && echo same || echo different; }
# History rows without their version (see nov).
rows() { jq -c 'map(del(.version))'; }

echo "== setup (database $DB, roles store_http_*)"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -d postgres -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
SET client_min_messages = warning;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_http_auth') THEN CREATE ROLE store_http_auth LOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_http_anon') THEN CREATE ROLE store_http_anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_http_alice') THEN CREATE ROLE store_http_alice NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_http_stranger') THEN CREATE ROLE store_http_stranger NOLOGIN; END IF;
END $$;
GRANT store_http_anon, store_http_alice TO store_http_auth;
SQL
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION store;
CREATE TABLE items (id int PRIMARY KEY, name text, qty int);
INSERT INTO items VALUES (1, 'tea', 2), (2, 'coffee', 0), (3, 'caf' || chr(233), 1);
SELECT store_register('items', 'items');
CREATE TABLE secrets (id int PRIMARY KEY, v text);
INSERT INTO secrets VALUES (1, 's');
SELECT store_register('secrets', 'secrets');
CREATE TABLE order_lines (order_id int, line int, product text, PRIMARY KEY (order_id, line));
INSERT INTO order_lines VALUES (1, 1, 'tea'), (1, 2, 'milk');
SELECT store_register('order_lines', 'order_lines');
CREATE TABLE big (id int PRIMARY KEY, pad text);
INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g;
SELECT store_register('big', 'big');
GRANT SELECT ON items, order_lines, big TO store_http_anon, store_http_alice;
GRANT SELECT ON secrets TO store_http_alice;
CREATE TABLE notes (id int PRIMARY KEY, owner text, body text);
INSERT INTO notes VALUES (1, 'u1', 'a'), (2, 'u2', 'b');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON notes FOR SELECT
    USING (owner = pg_catalog.current_setting('request.jwt.claims', true)::json ->> 'sub');
GRANT SELECT ON notes TO store_http_alice;
SELECT store_register('notes', 'notes');
SQL
# What each role sees, read in SQL as that role.
as_anon() { sql "SET ROLE store_http_anon; $1"; }
as_alice() { sql "SET ROLE store_http_alice; $1"; }

start_server --anon-role store_http_anon --jwt-secret "$SECRET"

echo "== GET /store/ (streamed, the same bytes as store_snapshot_rows)"
check "GET /store/ status" 200 "$(get /store/)"
check "GET /store/ body" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "GET /store/ is chunked" chunked "$(header Transfer-Encoding)"
version=$(body_version)
check "X-Store-Version" "$version" "$(header X-Store-Version)"
etag=$(header ETag)
check "ETag is weak and carries the version" "W/\"$version/" "${etag:0:$((${#version} + 4))}"
check "Vary" "Accept-Encoding, Authorization" "$(header Vary)"
check "Content-Type" "application/json; charset=utf-8" "$(header Content-Type)"
check "GET /store/ with gzip" 200 "$(get /store/ --compressed)"
check "gzip Content-Encoding" gzip "$(header Content-Encoding)"
check "gzip body decodes to the snapshot" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "GET /store/ body is larger than one chunk" yes "$([ "$(wc -c <"$WORK/body")" -gt 200000 ] && echo yes || echo no)"

echo "== ETag / If-None-Match"
check "If-None-Match current -> 304" 304 "$(get /store/ -H "If-None-Match: $etag")"
check "304 has no body" 0 "$(wc -c <"$WORK/body")"
check "304 repeats the ETag" "$etag" "$(header ETag)"
check "304 carries X-Store-Version" "$version" "$(header X-Store-Version)"
check "If-None-Match in a list -> 304" 304 "$(get /store/ -H "If-None-Match: \"other\", $etag")"
check "If-None-Match * -> 304" 304 "$(get /store/items/ -H "If-None-Match: *")"
check "If-None-Match other -> 200" 200 "$(get /store/ -H 'If-None-Match: W/"x"')"
alice=$(hs256 '{"role":"store_http_alice"}')
get /store/ -H "Authorization: Bearer $alice" >/dev/null
check "ETag differs per role" different "$([ "$(header ETag)" = "$etag" ] && echo same || echo different)"
check "alice's snapshot includes secrets" "$(as_alice "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "anon's ETag does not give alice a 304" 200 "$(get /store/ -H "Authorization: Bearer $alice" -H "If-None-Match: $etag")"
sql "UPDATE items SET qty = 3 WHERE id = 1"
check "after a write the old ETag -> 200" 200 "$(get /store/ -H "If-None-Match: $etag")"
check "new ETag" different "$([ "$(header ETag)" = "$etag" ] && echo same || echo different)"
check "new X-Store-Version" "$(body_version)" "$(header X-Store-Version)"

echo "== GET /store/<key>/ and /store/<key>/<id>/"
check "key status" 200 "$(get /store/items/)"
check "key body" "$(as_anon "SELECT store_snapshot('items')" | nov)" "$(nov <"$WORK/body")"
check "key X-Store-Version" "$(body_version)" "$(header X-Store-Version)"
check "get status" 200 "$(get /store/items/1/)"
check "get body" "$(as_anon "SELECT store_get('items', '1')")" "$(cat "$WORK/body")"
check "get without trailing slash" 200 "$(get /store/items/3)"
check "get non-ASCII body" "$(as_anon "SELECT store_get('items', '3')")" "$(cat "$WORK/body")"
check "get 304" 304 "$(get /store/items/1/ -H "If-None-Match: $(header ETag)")"
check "missing id -> 404" 404 "$(get /store/items/99/)"
check "404 body" GW404 "$(jq -r .code "$WORK/body")"
check "composite id, URL-encoded" 200 "$(get '/store/order_lines/%5B1%2C2%5D/')"
check "composite body" "$(as_anon "SELECT store_get('order_lines', '[1,2]')")" "$(cat "$WORK/body")"
check "unknown key -> 404 (42704)" "404 42704" "$(get /store/nokey/) $(jq -r .code "$WORK/body")"
check "error body fields" '["code","details","hint","message"]' "$(jq -c 'keys' "$WORK/body")"
check "bad id -> 400 (22P02)" "400 22P02" "$(get /store/items/abc/) $(jq -r .code "$WORK/body")"
check "anon reading secrets -> 401 (42501)" "401 42501" "$(get /store/secrets/) $(jq -r .code "$WORK/body")"
check "alice reading secrets -> 200" 200 "$(get /store/secrets/ -H "Authorization: Bearer $alice")"
check "secrets body" "$(as_alice "SELECT store_snapshot('secrets')" | nov)" "$(nov <"$WORK/body")"
check "gzip of a large key" "200 gzip" "$(get /store/big/ --compressed) $(header Content-Encoding)"
check "gzip key body" "$(as_anon "SELECT store_snapshot('big')" | nov)" "$(nov <"$WORK/body")"
check "small answers are not compressed" "" "$(get /store/items/1/ --compressed >/dev/null; header Content-Encoding)"

echo "== history and changes"
check "history status" 200 "$(get '/store/history/?after=0')"
check "history body" "$(as_anon "SELECT coalesce(json_agg(h), '[]') FROM store_history('0') h" | rows)" "$(rows <"$WORK/body")"
hv=$(jq -r '.[0].version' "$WORK/body")
check "history X-Store-Version = the rows' version" "$hv" "$(header X-Store-Version)"
check "every row has that version" "[\"$hv\"]" "$(jq -c 'map(.version) | unique' "$WORK/body")"
get '/store/history/?since=0' >/dev/null
check "since= is after=" "$(as_anon "SELECT coalesce(json_agg(h), '[]') FROM store_history('0') h" | rows)" "$(rows <"$WORK/body")"
enc=$(jq -rn --arg v "$hv" '$v|@uri')
check "history after the current version" "200 []" "$(get "/store/history/?after=$enc") $(cat "$WORK/body")"
check "empty history keeps the client's version" "$hv" "$(header X-Store-Version)"
sql "INSERT INTO items VALUES (4, 'milk', 5)"
get "/store/history/?after=$enc" >/dev/null
check "history after: the new row" '[["items","4","C"]]' "$(jq -c '[.[] | [.cache_key, .item_id, .state]]' "$WORK/body")"
check "history without after -> 400" 400 "$(get /store/history/)"
check "history with a malformed version -> 400 (22P02)" "400 22P02" "$(get '/store/history/?after=nope') $(jq -r .code "$WORK/body")"
check "changes status" 200 "$(get "/store/changes/?after=$enc")"
check "changes body" "$(as_anon "SELECT store_changes('$hv')" | nov)" "$(nov <"$WORK/body")"
check "changes X-Store-Version" "$(jq -r .version "$WORK/body")" "$(header X-Store-Version)"
check "changes paged" 200 "$(get '/store/changes/?after=0&max_changes=1')"
check "changes paged body" "$(as_anon "SELECT store_changes('0', 1)" | nov)" "$(nov <"$WORK/body")"
check "changes max_changes=0 -> 400 (22023)" "400 22023" "$(get '/store/changes/?after=0&max_changes=0') $(jq -r .code "$WORK/body")"

echo "== routes, methods, limits"
check "unknown route -> 404" 404 "$(get /nope)"
check "reserved name -> 404" 404 "$(get /store/events/)"
check "DELETE -> 405" 405 "$(get /store/items/1/ -X DELETE)"
check "405 Allow" GET "$(header Allow)"
check "bad percent-encoding -> 400" 400 "$(get /store/%zz/)"
check "header too large -> 431" 431 "$(get /store/ -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)")"
head -c 1100000 /dev/zero | tr '\0' a >"$WORK/big-body"
check "body too large -> 413" 413 "$(get /store/ -X POST --data-binary @"$WORK/big-body")"

echo "== JWT"
check "valid token as alice" 200 "$(get /store/secrets/1/ -H "Authorization: Bearer $alice")"
check "wrong signature -> 401" 401 "$(get /store/ -H "Authorization: Bearer $(hs256 '{"role":"store_http_alice"}' other-secret-other-secret-other-secret)")"
check "401 WWW-Authenticate" 'Bearer error="invalid_token"' "$(header WWW-Authenticate | cut -d, -f1)"
none="$(printf '{"alg":"none","typ":"JWT"}' | b64url).$(printf '{"role":"store_http_alice"}' | b64url)."
check "alg none -> 401" 401 "$(get /store/ -H "Authorization: Bearer $none")"
h512="$(printf '{"alg":"HS512","typ":"JWT"}' | b64url).$(printf '{"role":"store_http_alice"}' | b64url)"
h512="$h512.$(printf '%s' "$h512" | openssl dgst -sha512 -hmac "$SECRET" -binary | b64url)"
check "other algorithm -> 401" 401 "$(get /store/ -H "Authorization: Bearer $h512")"
check "expired -> 401" 401 "$(get /store/ -H "Authorization: Bearer $(hs256 '{"role":"store_http_alice","exp":1000000000}')")"
check "expired message" "token expired" "$(jq -r .message "$WORK/body")"
check "malformed -> 401" 401 "$(get /store/ -H "Authorization: Bearer not.a.token")"
check "not Bearer -> 401" 401 "$(get /store/ -H "Authorization: Basic dXNlcjpwYXNz")"
check "role not granted to the authenticator -> 403 (42501)" "403 42501" "$(get /store/ -H "Authorization: Bearer $(hs256 '{"role":"store_http_stranger"}')") $(jq -r .code "$WORK/body")"
check "a hostile role name is only a value" 400 "$(get /store/ -H "Authorization: Bearer $(hs256 '{"role":"x\"; DROP TABLE items; --"}')")"
check "items still there" 4 "$(sql "SELECT count(*) FROM items")"
u1=$(hs256 '{"role":"store_http_alice","sub":"u1"}')
u2=$(hs256 '{"role":"store_http_alice","sub":"u2"}')
check "request.jwt.claims reach row-level security" '200 [1]' "$(get /store/notes/ -H "Authorization: Bearer $u1") $(jq -c '[.notes[].id]' "$WORK/body")"
etag_u1=$(header ETag)
check "another subject sees its rows" '200 [2]' "$(get /store/notes/ -H "Authorization: Bearer $u2") $(jq -c '[.notes[].id]' "$WORK/body")"
check "one subject's ETag is no 304 for another" 200 "$(get /store/notes/ -H "Authorization: Bearer $u2" -H "If-None-Match: $etag_u1")"

echo "== 503: pool exhausted, database down"
stop_server
start_server --anon-role store_http_anon --pool-size 1 --pool-timeout 300
lockfifo="$WORK/lock"; mkfifo "$lockfifo"
psql -X -q -d "$DB" <"$lockfifo" >/dev/null 2>&1 &
lockpid=$!
exec 9>"$lockfifo"
echo "BEGIN; LOCK TABLE store.entries IN ACCESS EXCLUSIVE MODE; SELECT 1;" >&9
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'store.entries'::regclass AND granted AND mode = 'AccessExclusiveLock'")" = 1 ] && break
    sleep 0.1
done
curl -s -o "$WORK/slow" "$BASE/store/items/" &
slowpid=$!
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'store_http_auth' AND wait_event_type = 'Lock'")" = 1 ] && break
    sleep 0.1
done
check "pool exhausted -> 503" 503 "$(get /store/items/)"
check "503 Retry-After" 1 "$(header Retry-After)"
echo "COMMIT;" >&9
exec 9>&-
wait "$lockpid" || true
wait "$slowpid" || true
check "the waiting request completes" "$(as_anon "SELECT store_snapshot('items')->'items'")" "$(jq -c .items "$WORK/slow")"
stop_server
"$BIN" --db "host=127.0.0.1 port=1 dbname=$DB user=store_http_auth connect_timeout=2" --listen "127.0.0.1:$PORT" --anon-role store_http_anon >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done
check "database down -> 503" 503 "$(get /store/)"
check "503 Retry-After" 5 "$(header Retry-After)"
stop_server

echo "== without an anonymous role"
start_server --jwt-secret "$SECRET"
check "no token -> 401" 401 "$(get /store/)"
check "401 WWW-Authenticate" Bearer "$(header WWW-Authenticate)"
check "token -> 200" 200 "$(get /store/items/ -H "Authorization: Bearer $alice")"
stop_server

check "--help exits 0 and lists --db" 0 "$("$BIN" --help | grep -c -- '--db CONNINFO' >/dev/null; echo $?)"
check "missing --db exits 2" 2 "$("$BIN" >/dev/null 2>&1; echo $?)"

psql -X -q -d postgres -c "DROP DATABASE $DB"
echo "store-http: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
