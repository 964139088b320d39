#!/usr/bin/env bash
# store-http end to end: starts the gateway on loopback against the PostgreSQL of the PG* environment
# variables (pg_virtualenv in CI, a private cluster in development), and checks every route and status
# with curl, comparing bodies with what SQL returns.
#   STORE_HTTP_BIN: the binary (see lib.sh)
#   STORE_HTTP_PORT: the port to listen on (default 18080; the next one is used for a second instance)
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${STORE_HTTP_PORT:-18080}
DB=store_http_test
. gateway/test/lib.sh

# curl one URL: writes the body to $WORK/body and the headers to $WORK/head; prints the status.
get() {
    local url=$1; shift
    : >"$WORK/body"
    : >"$WORK/head"
    curl -s --max-time 30 -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' "$@" "$BASE$url"
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

# History rows without their version (see nov).
rows() { jq -c 'map(del(.version))'; }

echo "== setup (database $DB, roles store_http_*)"
gateway_setup store_http_auth "store_http_anon store_http_alice" "store_http_stranger"
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
CREATE TABLE todos (id serial PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false);
SELECT store_register('todos', 'todos');
GRANT SELECT ON todos TO store_http_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON todos, items, order_lines TO store_http_alice;
GRANT USAGE ON SEQUENCE todos_id_seq TO store_http_alice;
CREATE TABLE tags (id text PRIMARY KEY, label text);
SELECT store_register('tags', 'tags');
GRANT SELECT, INSERT ON tags TO store_http_alice;
-- A version counts every finished transaction: keep autovacuum from taking transaction ids between
-- a request and its If-None-Match follow-up here (the ETag checks expect an unchanged version).
DO $$ DECLARE t regclass; BEGIN
  FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND n.nspname IN ('public', 'store') LOOP
    EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', t);
  END LOOP;
END $$;
ANALYZE;
SQL
# What each role sees, read in SQL as that role.
as_anon() { sql "SET ROLE store_http_anon; $1"; }
as_alice() { sql "SET ROLE store_http_alice; $1"; }

start_server --anon-role store_http_anon --jwt-secret "$SECRET"

echo "== GET /store/ (streamed, the same bytes as store_snapshot_rows)"
check "GET /store/ status" 200 "$(get /store/)"
check "GET /store/ body" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "GET /store/ that fits the cache is read whole, then sent with its length" "$(wc -c <"$WORK/body" | tr -d ' ') miss" "$(header Content-Length) $(header X-Store-Cache)"
version=$(body_version)
check "X-Store-Version" "$version" "$(header X-Store-Version)"
etag=$(header ETag)
tag=$(as_anon "SELECT store_snapshot_tag()")
check "GET /store/'s ETag is weak and carries the snapshot's tag" "W/\"$tag/" "${etag:0:$((${#tag} + 4))}"
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
# (the current version: any transaction in the cluster may have moved it since $version, not the tag)
check "304 carries X-Store-Version" "${version%%:*}" "$(header X-Store-Version | cut -d: -f1)"
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

echo "== GET /store/ from the cache (documents under store_snapshot_tag, the version fresh)"
get /store/ >/dev/null
get /store/ >/dev/null
check "an unchanged store is served from the cache" hit "$(header X-Store-Cache)"
check "the cached answer is the snapshot" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "the cached answer has a Content-Length" "$(wc -c <"$WORK/body" | tr -d ' ')" "$(header Content-Length)"
etag1=$(header ETag)
sql "CREATE TABLE IF NOT EXISTS unrelated (x int); INSERT INTO unrelated VALUES (1)"
get /store/ >/dev/null
check "an unrelated transaction keeps the cache" hit "$(header X-Store-Cache)"
check "an unrelated transaction keeps GET /store/'s ETag" "$etag1" "$(header ETag)"
check "the cached answer carries the current version" "$(as_anon "SELECT store_version()")" "$(body_version)"
check "X-Store-Version repeats it" "$(body_version)" "$(header X-Store-Version)"
check "If-None-Match from before an unrelated transaction -> 304" 304 "$(get /store/ -H "If-None-Match: $etag1")"
check "gzip from the cache" "200 hit gzip" "$(get /store/ --compressed) $(header X-Store-Cache) $(header Content-Encoding)"
check "gzip from the cache decodes to the snapshot" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
get /store/ >/dev/null
get_length=$(wc -c <"$WORK/body" | tr -d ' ')
check "HEAD /store/ from the cache" "200 hit" "$(get /store/ --head) $(header X-Store-Cache)"
check "HEAD /store/ gives the length of GET's body" "$get_length" "$(header Content-Length)"
sql "UPDATE items SET qty = 4 WHERE id = 1"
check "after a store write: a miss" "200 miss" "$(get /store/) $(header X-Store-Cache)"
check "after a store write: the write is in the answer" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "then a hit again" hit "$(get /store/ >/dev/null; header X-Store-Cache)"
sql "REVOKE SELECT ON items FROM store_http_anon"
get /store/ >/dev/null
check "after REVOKE the cached answer is not used" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "after REVOKE the key is gone" no "$(jq 'has("items")' "$WORK/body" | sed 's/false/no/')"
sql "GRANT SELECT ON items TO store_http_anon"
get /store/ -H "Authorization: Bearer $alice" >/dev/null
get /store/ -H "Authorization: Bearer $alice" >/dev/null
check "a caller under row-level security is never served from the cache" "" "$(header X-Store-Cache)"
check "its answer is its own snapshot" "$(as_alice "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"

echo "== HEAD, and errors after the version is known"
get /store/items/1/ >/dev/null
get_length=$(wc -c <"$WORK/body" | tr -d ' ')
check "HEAD of a document" 200 "$(get /store/items/1/ --head)"
check "HEAD gives GET's Content-Length" "$get_length" "$(header Content-Length)"
check "HEAD's answer has no body (the next request on the connection works)" "200 200" \
    "$(curl -s -o /dev/null -w '%{http_code} ' --head "$BASE/store/items/1/" --next -o /dev/null -w '%{http_code}' "$BASE/store/items/1/")"
check "HEAD of a missing document" 404 "$(get /store/items/999/ --head)"
check "HEAD of /store/events is not allowed" 405 "$(get /store/events --head)"
check "404 of a missing document carries X-Store-Version" yes "$(get /store/items/999/ >/dev/null; [ -n "$(header X-Store-Version)" ] && echo yes || echo no)"
check "If-None-Match: * on a missing document -> 404, not 304" 404 "$(get /store/items/999/ -H 'If-None-Match: *')"
check "If-None-Match on a key the caller may not read -> 401, not 304" 401 "$(get /store/secrets/ -H 'If-None-Match: *')"
sql "CREATE TABLE audit_log (at timestamptz DEFAULT now()); GRANT INSERT ON audit_log TO store_http_alice;
     CREATE FUNCTION log_read() RETURNS boolean LANGUAGE sql AS 'INSERT INTO audit_log DEFAULT VALUES RETURNING true';
     CREATE TABLE logged (id int PRIMARY KEY, v text); INSERT INTO logged VALUES (1, 'a');
     SELECT store_register('logged', 'logged'); ALTER TABLE logged ENABLE ROW LEVEL SECURITY;
     CREATE POLICY p ON logged FOR SELECT USING (log_read()); GRANT SELECT ON logged TO store_http_alice" >/dev/null
check "reads are READ ONLY: a row-level security policy that writes fails the read (25006)" "405 25006" \
    "$(get /store/logged/1/ -H "Authorization: Bearer $alice") $(jq -r .code "$WORK/body")"
check "... and wrote nothing" 0 "$(sql "SELECT count(*) FROM audit_log")"
sql "SELECT store_unregister('logged'); DROP TABLE logged, audit_log; DROP FUNCTION log_read()" >/dev/null

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
check "its 401 challenges (RFC 6750)" Bearer "$(header WWW-Authenticate)"
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
check "reserved name -> 404" 404 "$(get /store/version/)"
check "DELETE /store/ -> 405" 405 "$(get /store/ -X DELETE)"
check "405 Allow" "GET, POST" "$(header Allow)"
check "POST on a document -> 405" "405 GET, PUT, PATCH, DELETE" "$(get /store/items/1/ -X POST -d '{}') $(header Allow)"
check "POST on the history -> 405" "405 GET" "$(get '/store/history/?after=0' -X POST -d '{}') $(header Allow)"
check "bad percent-encoding -> 400" 400 "$(get /store/%zz/)"
check "an id that is not UTF-8 -> 400 (found by the fuzzer: it stopped the server)" 400 "$(get /store/items/%FF/ -X PUT -H 'Content-Type: application/json' -d '{}')"
check "the server is still up" 200 "$(get /store/items/1/)"
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
# role "none" would be SET ROLE NONE: the authenticator's own rights (it may read secrets)
check "role none -> 401" 401 "$(get /store/secrets/ -H "Authorization: Bearer $(hs256 '{"role":"none"}')")"
check "a role claim that is not a string -> 401 (it ran as the anonymous role)" 401 "$(get /store/ -H "Authorization: Bearer $(hs256 '{"role":["store_http_alice"]}')")"
check "a fractional exp is a NumericDate" 200 "$(get /store/secrets/ -H "Authorization: Bearer $(hs256 '{"role":"store_http_alice","exp":4102444800.5}')")"
check "a NUL in the path -> 400" 400 "$(get /store/items%00junk/1/)"
check "role not granted to the authenticator -> 403 (42501)" "403 42501" "$(get /store/ -H "Authorization: Bearer $(hs256 '{"role":"store_http_stranger"}')") $(jq -r .code "$WORK/body")"
check "a hostile role name is only a value" 400 "$(get /store/ -H "Authorization: Bearer $(hs256 '{"role":"x\"; DROP TABLE items; --"}')")"
check "items still there" 4 "$(sql "SELECT count(*) FROM items")"
u1=$(hs256 '{"role":"store_http_alice","sub":"u1"}')
u2=$(hs256 '{"role":"store_http_alice","sub":"u2"}')
check "request.jwt.claims reach row-level security" '200 [1]' "$(get /store/notes/ -H "Authorization: Bearer $u1") $(jq -c '[.notes[].id]' "$WORK/body")"
etag_u1=$(header ETag)
check "another subject sees its rows" '200 [2]' "$(get /store/notes/ -H "Authorization: Bearer $u2") $(jq -c '[.notes[].id]' "$WORK/body")"
check "one subject's ETag is no 304 for another" 200 "$(get /store/notes/ -H "Authorization: Bearer $u2" -H "If-None-Match: $etag_u1")"

echo "== pool connections that died while idle"
pids=()
for _ in 1 2 3; do curl -s -o /dev/null "$BASE/store/items/1/" & pids+=($!); done
wait "${pids[@]}"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'store_http_auth' AND application_name = 'store-http'" >/dev/null
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'store_http_auth' AND application_name = 'store-http'")" = 0 ] && break
    sleep 0.1
done
check "terminated idle pool connections are replaced, the request succeeds" 200 "$(get /store/items/1/)"
check "and so does a write" 201 "$(get /store/todos/ -X POST -H "Authorization: Bearer $alice" -H 'Content-Type: application/json' -d '{"title":"after"}')"
sql "DELETE FROM todos"

# GET /openapi.json: gateway/test/openapi.sh

echo "== writes through store_apply"
A=(-H "Authorization: Bearer $alice" -H 'Content-Type: application/json')
check "POST creates -> 201" 201 "$(get /store/todos/ -X POST "${A[@]}" -d '{"title":"buy tea"}')"
id=$(jq -r .id "$WORK/body")
check "Location" "/store/todos/$id/" "$(header Location)"
check "the created document" same "$(same_json "$(as_alice "SELECT store_get('todos', '$id')")" "$(cat "$WORK/body")")"
wv=$(header X-Store-Version)
check "X-Store-Version sees the write" 0 "$(as_anon "SELECT count(*) FROM store_history('$wv') WHERE cache_key = 'todos'")"
check "POST with an id" "201 /store/items/30/" "$(get /store/items/ -X POST "${A[@]}" -d '{"id":30,"name":"honey","qty":1}') $(header Location)"
check "anonymous POST -> 401 (42501)" "401 42501" "$(get /store/todos/ -X POST -H 'Content-Type: application/json' -d '{"title":"x"}') $(jq -r .code "$WORK/body")"
check "nothing committed" 1 "$(sql "SELECT count(*) FROM todos")"
check "PUT replaces -> 200" "200 true" "$(get "/store/todos/$id/" -X PUT "${A[@]}" -d '{"title":"buy green tea","done":true}') $(jq .done "$WORK/body")"
check "PUT body" '"buy green tea"' "$(jq .title "$WORK/body")"
check "PATCH updates -> 200" "200 false" "$(get "/store/todos/$id/" -X PATCH "${A[@]}" -d '{"done":false}') $(jq .done "$WORK/body")"
check "PATCH keeps other fields" '"buy green tea"' "$(jq .title "$WORK/body")"
check "PATCH a composite id" "200 \"oat milk\"" "$(get '/store/order_lines/%5B1%2C2%5D/' -X PATCH "${A[@]}" -d '{"product":"oat milk"}') $(jq .product "$WORK/body")"
check "PATCH a missing row -> 404" 404 "$(get /store/todos/999/ -X PATCH "${A[@]}" -d '{"done":true}')"
check "a malformed body -> 400" "400 GW400" "$(get /store/todos/ -X POST "${A[@]}" -d '[1') $(jq -r .code "$WORK/body")"
check "an unknown field -> 400 (42703)" "400 42703" "$(get /store/todos/ -X POST "${A[@]}" -d '{"nope":1}') $(jq -r .code "$WORK/body")"
check "a constraint violation -> its status (23502 -> 400)" "400 23502" "$(get /store/todos/ -X POST "${A[@]}" -d '{"done":true}') $(jq -r .code "$WORK/body")"
check "a duplicate key -> 409 (23505)" "409 23505" "$(get /store/items/ -X POST "${A[@]}" -d '{"id":30,"name":"again"}') $(jq -r .code "$WORK/body")"
check "an unknown key -> 404 (42704)" "404 42704" "$(get /store/nokey/ -X POST "${A[@]}" -d '{"a":1}') $(jq -r .code "$WORK/body")"
check "DELETE -> 204" 204 "$(get "/store/todos/$id/" -X DELETE "${A[@]}")"
check "204 has no body" 0 "$(wc -c <"$WORK/body")"
check "deleted" 0 "$(sql "SELECT count(*) FROM todos")"
check "DELETE again -> 404" 404 "$(get "/store/todos/$id/" -X DELETE "${A[@]}")"
check "a body that is not JSON -> 415 (curl -d sends a form's type)" "415 GW415" "$(get /store/todos/ -X POST -H "Authorization: Bearer $alice" -d '{"title":"x"}') $(jq -r .code "$WORK/body")"
check "415 message" 'Content-Type "application/x-www-form-urlencoded" is not accepted: the body must be application/json' "$(jq -r .message "$WORK/body")"
check "text/plain -> 415" 415 "$(get /store/ -X POST -H "Authorization: Bearer $alice" -H 'Content-Type: text/plain' -d '{"changes":[]}')"
check "a compressed body -> 415" "415 GW415 identity" "$(get /store/todos/ -X POST "${A[@]}" -H 'Content-Encoding: gzip' -d '{"title":"x"}') $(jq -r .code "$WORK/body") $(header Accept-Encoding)"
check "nothing written by the refused writes" 0 "$(sql "SELECT count(*) FROM todos WHERE title = 'x'")"
check "no Content-Type is taken as JSON" 201 "$(get /store/todos/ -X POST -H "Authorization: Bearer $alice" -H 'Content-Type:' -d '{"title":"no type"}')"
check "application/*+json with parameters" 200 "$(get "/store/todos/$(jq -r .id "$WORK/body")/" -X PATCH -H "Authorization: Bearer $alice" -H 'Content-Type: application/merge-patch+json; charset=utf-8' -d '{"done":true}')"
sql "DELETE FROM todos WHERE title = 'no type'"
check "an id with '/', '?', '%', a space and non-ASCII" 201 "$(get /store/tags/ -X POST "${A[@]}" -d '{"id":"a/b?c%d e\u00e9","label":"odd"}')"
check "Location is percent-encoded" "/store/tags/a%2Fb%3Fc%25d%20e%C3%A9/" "$(header Location)"
check "and leads to the document" '"odd"' "$(get "$(header Location)" -H "Authorization: Bearer $alice" >/dev/null; jq .label "$WORK/body")"
sql "CREATE FUNCTION skip_spam() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
       RETURN CASE WHEN NEW.label = 'spam' THEN NULL ELSE NEW END; END \$\$;
     CREATE TRIGGER tags_skip_spam BEFORE INSERT ON tags FOR EACH ROW EXECUTE FUNCTION skip_spam()"
check "a POST whose row a BEFORE trigger skips -> 204, no Location" "204 ." "$(get /store/tags/ -X POST "${A[@]}" -d '{"id":"s1","label":"spam"}') .$(header Location)"
check "and nothing was written" 0 "$(sql "SELECT count(*) FROM tags WHERE id = 's1'")"
sql "DROP TRIGGER tags_skip_spam ON tags; DROP FUNCTION skip_spam()"
cs='{"changes":[{"op":"update","entityName":"items","entities":[{"id":30,"changes":{"qty":2},"$expect":{"qty":5}}]}]}'
check "a ChangeSet with a failed expectation -> 409" "409 false" "$(get /store/ -X POST "${A[@]}" -d "$cs") $(jq .applied "$WORK/body")"
check "409 lists the conflicts" 30 "$(jq '.conflicts[0].id' "$WORK/body")"
check "nothing written" 1 "$(sql "SELECT qty FROM items WHERE id = 30")"
cs='{"changes":[{"op":"add","entityName":"todos","entities":[{"id":{"$tmp":"t"},"title":"a"}]},{"op":"update","entityName":"items","entities":[{"id":30,"changes":{"qty":2},"$expect":{"qty":1}}]}]}'
check "a ChangeSet -> 200" "200 true" "$(get /store/ -X POST "${A[@]}" -d "$cs") $(jq .applied "$WORK/body")"
check "both written" "1 2" "$(sql "SELECT count(*) FROM todos") $(sql "SELECT qty FROM items WHERE id = 30")"
check "its answer is store_apply's" '["t"]' "$(jq -c '.ids | keys' "$WORK/body")"

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
check "pool exhausted -> 503 GW503" "503 GW503" "$(get /store/items/) $(jq -r .code "$WORK/body")"
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
check "database down -> 503 GW503 (it was GW504)" "503 GW503" "$(get /store/) $(jq -r .code "$WORK/body")"
check "503 Retry-After" 5 "$(header Retry-After)"
check "told apart by the hint" "the database is unreachable; retry later" "$(jq -r .hint "$WORK/body")"
stop_server

echo "== live push: GET /store/events"
# Waits (up to 20 s) until file $2 has a line matching $1; prints that line (the last such).
wait_line() {
    for _ in $(seq 200); do
        if grep -q -- "$1" "$2" 2>/dev/null; then grep -- "$1" "$2" | tail -1 | tr -d '\r'; return 0; fi
        sleep 0.1
    done
    echo "TIMEOUT waiting for $1"
}
# Starts an event stream in the background into file $1 (further curl arguments follow); sets STREAM_PID.
stream() {
    local f=$1; shift
    curl -s -N -D "$f.head" --max-time 60 "$@" "$BASE/store/events" >"$f" &
    STREAM_PID=$!
}
# The id of the last event in file $1 that carried data.
last_data_id() { { grep -B1 '^data:' "$1" || true; } | { grep '^id:' || true; } | tail -1 | cut -c5- | tr -d '\r'; }
# True (prints yes) when version $1 sees item $2 of items, for the anonymous role.
sees_item() {
    local n
    n=$(as_anon "SELECT count(*) FROM store_history('$1') WHERE cache_key = 'items' AND item_id = '$2'")
    [ "$n" = 0 ] && echo yes || echo no
}
start_server --anon-role store_http_anon --jwt-secret "$SECRET" --sse-keepalive 300 --max-subscribers 2
stream "$WORK/s1"
s1=$STREAM_PID
first=$(wait_line '^id: ' "$WORK/s1" | cut -c5-)
check "the stream starts with the current version as its id" "$(as_anon "SELECT store_version()" | cut -d: -f1)" "${first%%:*}"
check "event stream headers" "text/event-stream|no-store|no" "$(grep -i '^content-type:' "$WORK/s1.head" | cut -d' ' -f2 | tr -d '\r')|$(grep -i '^cache-control:' "$WORK/s1.head" | cut -d' ' -f2 | tr -d '\r')|$(grep -i '^x-accel-buffering:' "$WORK/s1.head" | cut -d' ' -f2 | tr -d '\r')"
check "retry hint" "retry: 2000" "$(head -1 "$WORK/s1" | tr -d '\r')"
sql "INSERT INTO items VALUES (20, 'sugar', 1)"
data=$(wait_line '"keys":\["items"\]' "$WORK/s1")
check "an event after a commit" 'data: {"version":"' "${data:0:18}"
v1=$(last_data_id "$WORK/s1")
check "its id is its version" "$v1" "$(jq -r .version <<<"${data#data: }")"
check "the event's version sees the change" yes "$(sees_item "$v1" 20)"
check "changes after the previous id hold the change" '[20]' "$(as_anon "SELECT store_changes('$first')" | jq -c '[.changes.items.upserted[].id]')"
check "keep-alive comments" ": keep-alive" "$(wait_line '^: keep-alive' "$WORK/s1")"
kill "$s1"; wait "$s1" 2>/dev/null || true
sql "UPDATE items SET qty = 9 WHERE id = 20"
stream "$WORK/s2" -H "Last-Event-ID: $v1"
s2=$STREAM_PID
data=$(wait_line '^data:' "$WORK/s2")
check "reconnect with Last-Event-ID: an event at once" '["items"]' "$(jq -c .keys <<<"${data#data: }")"
v2=$(last_data_id "$WORK/s2")
check "it sees the change made while away" yes "$(sees_item "$v2" 20)"
stream "$WORK/s3" -G --data-urlencode "after=$v1"
s3=$STREAM_PID
check "?after= works as Last-Event-ID" '["items"]' "$(wait_line '^data:' "$WORK/s3" | cut -c7- | jq -c .keys)"
check "more subscribers than allowed -> 503" 503 "$(get /store/events --max-time 5)"
kill "$s2" "$s3"; wait "$s2" "$s3" 2>/dev/null || true
for _ in $(seq 50); do [ "$(get /store/events --max-time 0.5)" != 503 ] && break; sleep 0.1; done
check "a dropped subscriber frees its place" 200 "$(get /store/events --max-time 0.5 || true)"
stream "$WORK/s4" -H "Last-Event-ID: $v2"
s4=$STREAM_PID
wait_line '^id: ' "$WORK/s4" >/dev/null
sleep 0.5
check "no changes after the resume point: only an id (a version that sees them)" yes "$(sees_item "$(grep '^id: ' "$WORK/s4" | head -1 | cut -c5- | tr -d '\r')" 20)"
check "and no event" 0 "$(grep -c '^data:' "$WORK/s4" || true)"
check "a malformed resume point -> 400" 400 "$(get /store/events -H 'Last-Event-ID: nope' --max-time 5)"
check "a role the authenticator may not take -> 403" 403 "$(get /store/events --max-time 5 -H "Authorization: Bearer $(hs256 '{"role":"store_http_stranger"}')")"
kill "$s4"; wait "$s4" 2>/dev/null || true
# A token that stops being accepted in 2 s: its exp 28 s ago, within the 30 s leeway (a stream ends when
# its token would be refused, so a client inside the leeway is not cut and reconnected in a loop).
soon() { hs256 "{\"role\":\"store_http_alice\",\"exp\":$(( $(date +%s) - 28 ))}"; }
rc=0; curl -s -N --max-time 15 -o "$WORK/expiring" "$BASE/store/events" -H "Authorization: Bearer $(soon)" || rc=$?
check "an event stream ends cleanly when its token expires (curl exit 0, not its 15 s limit: 28)" 0 "$rc"
check "after its first id" 1 "$(grep -c '^id: ' "$WORK/expiring")"

echo "== live push: the LISTEN connection is lost"
stream "$WORK/s5"
s5=$STREAM_PID
wait_line '^id: ' "$WORK/s5" >/dev/null
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'store-http listener'" >/dev/null
sql "INSERT INTO items VALUES (21, 'salt', 1)"
for _ in $(seq 200); do
    v5=$(last_data_id "$WORK/s5")
    [ -n "$v5" ] && [ "$(sees_item "$v5" 21)" = yes ] && break
    sleep 0.1
done
check "after the listener reconnects, subscribers get a version that sees the missed commit" yes "$(sees_item "${v5:-0}" 21)"
check "a new listener" 1 "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'store-http listener'")"
sql "INSERT INTO items VALUES (22, 'pepper', 1)"
for _ in $(seq 200); do
    v6=$(last_data_id "$WORK/s5")
    [ "$(sees_item "${v6:-0}" 22)" = yes ] && break
    sleep 0.1
done
check "and notifications flow again" yes "$(sees_item "${v6:-0}" 22)"
stop_server
rc=0; wait "$s5" || rc=$?
check "SIGTERM ends event streams cleanly (curl exit 0)" 0 "$rc"

echo "== live push: GET /store/ws (WebSocket)"
start_server --anon-role store_http_anon --jwt-secret "$SECRET" --sse-keepalive 300
wsv=$(as_anon "SELECT store_version()")
sql "INSERT INTO items VALUES (23, 'mint', 1)"
python3 gateway/test/ws_client.py "$BASE/store/ws?after=$(jq -rn --arg v "$wsv" '$v|@uri')" >"$WORK/ws1" &
ws1=$!
first=$(wait_line '^{' "$WORK/ws1")
check "a WebSocket resuming from a version gets the changes since at once" '["items"]' "$(jq -c .keys <<<"$first")"
check "its version sees them" yes "$(sees_item "$(jq -r .version <<<"$first")" 23)"
sql "INSERT INTO items VALUES (24, 'basil', 1)"
for _ in $(seq 200); do
    wv=$(grep '^{' "$WORK/ws1" | tail -1 | jq -r .version)
    [ "$(sees_item "$wv" 24)" = yes ] && break
    sleep 0.1
done
check "then an event per commit" yes "$(sees_item "$wv" 24)"
check "pings" ping "$(wait_line '^ping' "$WORK/ws1")"
check "a WebSocket without a resume point starts with the current version" '[]' "$(python3 gateway/test/ws_client.py "$BASE/store/ws" >"$WORK/ws2" & p=$!; wait_line '^{' "$WORK/ws2" | jq -c .keys; kill $p)"
check "a token in the URL (browsers set no headers on WebSockets)" "status 403" "$(timeout 20 python3 gateway/test/ws_client.py "$BASE/store/ws?access_token=$(hs256 '{"role":"store_http_stranger"}')")"
check "a malformed resume point" "status 400" "$(timeout 20 python3 gateway/test/ws_client.py "$BASE/store/ws?after=nope")"
check "no upgrade -> 400" 400 "$(get /store/ws --max-time 5)"
check "a WebSocket is closed 1008 (policy violation) when its token expires" "close 1008" "$(timeout 20 python3 gateway/test/ws_client.py "$BASE/store/ws?access_token=$(soon)" | tail -1)"
kill -TERM "$SERVER_PID"
wait "$ws1" || true
check "SIGTERM closes WebSockets with 1001 (going away)" "close 1001" "$(tail -1 "$WORK/ws1")"
rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=
check "and exits 0" 0 "$rc"

echo "== WebSocket upgrades from other origins (--cors-origin): browsers apply no CORS to them"
start_server --anon-role store_http_anon --cors-origin https://app.example
check "an Origin not allowed -> 403 (cross-site WebSocket hijacking)" "status 403" "$(timeout 20 python3 gateway/test/ws_client.py "$BASE/store/ws" "Origin: https://evil.example")"
check "an allowed Origin" '[]' "$(python3 gateway/test/ws_client.py "$BASE/store/ws" "Origin: https://app.example" >"$WORK/ws3" & p=$!; wait_line '^{' "$WORK/ws3" | jq -c .keys; kill $p)"
check "no Origin (not a browser)" '[]' "$(python3 gateway/test/ws_client.py "$BASE/store/ws" >"$WORK/ws4" & p=$!; wait_line '^{' "$WORK/ws4" | jq -c .keys; kill $p)"
stop_server

echo "== limits: header and idle timeouts, maximum connections"
start_server --anon-role store_http_anon --header-timeout 300 --idle-timeout 300 --body-timeout 1500
# Opens a raw connection on fd 3, optionally sends $1, and prints what it reads until the server closes it
# (rc 124 from timeout when it does not close within 10 s).
raw() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    [ -n "${1:-}" ] && printf '%b' "$1" >&3
    local rc=0
    timeout 10 cat <&3 >"$WORK/raw" || rc=$?
    exec 3>&-
    echo "$rc $(wc -c <"$WORK/raw")"
}
# The body of the last raw answer (after the blank line).
raw_body() { sed '1,/^\r\?$/d' "$WORK/raw"; }
check "a request whose headers never end is closed" 0 "$(raw 'GET /store/ HTTP/1.1\r\nHost: x\r\n' | cut -d' ' -f1)"
check "with 408 first (it was closed without a word)" "HTTP/1.1 408 Request Timeout|GW408|close" "$(head -1 "$WORK/raw" | tr -d '\r')|$(raw_body | jq -r .code)|$(grep -i '^connection:' "$WORK/raw" | cut -d' ' -f2 | tr -d '\r')"
check "a malformed request gets 400, then the connection closes" "0 HTTP/1.1 400 Bad Request GW400" "$(raw 'NOT A REQUEST\r\n\r\n' | cut -d' ' -f1) $(head -1 "$WORK/raw" | tr -d '\r') $(raw_body | jq -r .code)"
check "and says what is wrong" "malformed request: bad version" "$(raw_body | jq -r .message)"
# A body sent slowly: half of it, a pause beyond --header-timeout (it bounded the body too), the rest.
slow_body() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'POST /store/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{"changes"' >&3
    sleep "$1"
    [ -n "$2" ] && printf '%s' "$2" >&3
    timeout 10 cat <&3 >"$WORK/raw" || true
    exec 3>&-
    head -1 "$WORK/raw" | cut -d' ' -f2
}
check "the body has its own deadline (--body-timeout), longer than the headers'" 200 "$(slow_body 0.8 ':[]}')"
check "a body that stops coming -> 408 after --body-timeout" "408 the request body did not arrive in time (--body-timeout)" "$(slow_body 0 '') $(raw_body | jq -r .message)"
check "an idle connection is closed" "0 0" "$(raw)"
check "a keep-alive connection is closed when idle after a request" 0 "$(raw 'GET /store/items/1/ HTTP/1.1\r\nHost: x\r\n\r\n' | cut -d' ' -f1)"
check "it got its answer first" "HTTP/1.1 200 OK" "$(head -1 "$WORK/raw" | tr -d '\r')"
stop_server
start_server --anon-role store_http_anon --max-connections 1 --cache-size 256kB
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
check "beyond --max-connections a connection waits" 000 "$(get /store/items/1/ --max-time 1 || true)"
exec 4>&-
for _ in $(seq 50); do [ "$(get /store/items/1/ --max-time 1 || true)" = 200 ] && break; sleep 0.1; done
check "and is served once another closes" 200 "$(get /store/items/1/ --max-time 5)"
check "a snapshot larger than --cache-size is streamed (chunked)" "200 chunked miss" "$(get /store/) $(header Transfer-Encoding) $(header X-Store-Cache)"
check "... whole: the same text as store_snapshot()" "$(as_anon "SELECT store_snapshot()" | nov)" "$(nov <"$WORK/body")"
check "... with gzip" "$(as_anon "SELECT store_snapshot()" | nov)" "$(get /store/ --compressed >/dev/null; nov <"$WORK/body")"
check "... and never from the cache" "200 miss" "$(get /store/ >/dev/null; get /store/) $(header X-Store-Cache)"
check "HEAD of a streamed /store/: no body (the next request on the connection works)" "200 200" \
    "$(curl -s -o /dev/null -w '%{http_code} ' --head "$BASE/store/" --next -o /dev/null -w '%{http_code}' "$BASE/store/items/1/")"
check "... and no body bytes at all on the wire" "HTTP/1.1 200 OK|0" \
    "$(raw 'HEAD /store/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >/dev/null; head -1 "$WORK/raw" | tr -d '\r')|$(sed '1,/^\r$/d' "$WORK/raw" | wc -c)"
stop_server

echo "== TCP keepalives on the database connections (the LISTEN one would not notice a dead peer otherwise)"
tcp_host=${PGHOST:-127.0.0.1}; [ "${tcp_host:0:1}" = / ] && tcp_host=127.0.0.1
tcp_db="host=$tcp_host port=${PGPORT:-5432} dbname=$DB user=store_http_auth"
# The gateway's established connections to PostgreSQL, and how many of them have SO_KEEPALIVE on.
db_sockets() {
    ss -tnpoH state established "( dport = :${PGPORT:-5432} )" | grep "pid=$SERVER_PID," >"$WORK/ss" || true
    echo "$(wc -l <"$WORK/ss") $(grep -c 'timer:(keepalive' "$WORK/ss" || true)"
}
# Waits until the listener and one pool connection are up; prints db_sockets.
two_db_sockets() {
    get /store/items/1/ >/dev/null
    for _ in $(seq 100); do [ "$(db_sockets | cut -d' ' -f1)" = 2 ] && break; sleep 0.1; done
    db_sockets
}
if command -v ss >/dev/null; then
    start_server --anon-role store_http_anon --db "$tcp_db"
    check "the listener and pool connections have TCP keepalives" "2 2" "$(two_db_sockets)"
    # ss prints the time to the next probe: at most 30 s here (the kernel's default is 2 hours: "119min")
    check "probes start after 30 s idle" "30 30" "$(grep -oE 'timer:\(keepalive,[^,]*' "$WORK/ss" | sed 's/.*,//' |
        awk '{ n = $0 ~ /^[0-9.]+ms$/ ? 0 : $0 ~ /^[0-9.]+sec$/ ? int($0) : 999; printf "%s ", (n <= 30 ? 30 : n) }' | sed 's/ $//')"
    stop_server
    start_server --anon-role store_http_anon --db "$tcp_db keepalives=0"
    check "a conninfo's own keepalives setting wins" "2 0" "$(two_db_sockets)"
    stop_server
else
    echo "(ss not found: keepalive checks skipped)"
fi

echo "== a write whose database connection is lost after its COMMIT answered: applied once, answered"
mkdir "$WORK/proxy"
python3 gateway/test/cut_proxy.py "$WORK/proxy" "${PGPORT:-5432}" "${PGHOST:-/var/run/postgresql}" "$WORK/cut" >"$WORK/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 50); do [ -S "$WORK/proxy/.s.PGSQL.${PGPORT:-5432}" ] && break; sleep 0.1; done
"$BIN" --db "host=$WORK/proxy port=${PGPORT:-5432} dbname=$DB user=store_http_auth" --listen "127.0.0.1:$PORT" \
    --anon-role store_http_anon --jwt-secret "$SECRET" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done
check "a write through the proxy" 201 "$(get /store/todos/ -X POST "${A[@]}" -d '{"title":"warm"}')"
touch "$WORK/cut"
check "the write that lost its connection after COMMIT is answered as done" 201 "$(get /store/todos/ -X POST "${A[@]}" -d '{"title":"once"}')"
check "... the connection was cut there" no "$([ -e "$WORK/cut" ] && echo yes || echo no)"
check "... and applied once (it was redone on a new connection before)" 1 "$(sql "SELECT count(*) FROM todos WHERE title = 'once'")"
echo drop >"$WORK/cut"
check "a write whose connection is lost before any answer is an error (it may have committed)" 503 "$(get /store/todos/ -X POST "${A[@]}" -d '{"title":"maybe"}')"
check "... and not redone on a new connection" 1 "$(sql "SELECT count(*) FROM todos WHERE title = 'maybe'")"
stop_server
kill "$proxy" 2>/dev/null || true
wait "$proxy" 2>/dev/null || true

echo "== SIGTERM: in-flight requests finish, new ones are refused"
start_server --anon-role store_http_anon
lockfifo2="$WORK/lock2"; mkfifo "$lockfifo2"
psql -X -q -d "$DB" <"$lockfifo2" >/dev/null 2>&1 &
lockpid=$!
exec 9>"$lockfifo2"
echo "BEGIN; LOCK TABLE store.entries IN ACCESS EXCLUSIVE MODE; SELECT 1;" >&9
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'store.entries'::regclass AND granted AND mode = 'AccessExclusiveLock'")" = 1 ] && break
    sleep 0.1
done
curl -s -D "$WORK/inflight.head" -o "$WORK/inflight" "$BASE/store/items/" &
inflight=$!
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'store_http_auth' AND wait_event_type = 'Lock'")" = 1 ] && break
    sleep 0.1
done
kill -TERM "$SERVER_PID"
for _ in $(seq 50); do [ "$(get /store/ --max-time 1 || true)" = 000 ] && break; sleep 0.1; done
check "after SIGTERM new connections are refused" 000 "$(get /store/ --max-time 1 || true)"
echo "COMMIT;" >&9
exec 9>&-
wait "$lockpid" || true
wait "$inflight" || true
check "the in-flight request finishes" "HTTP/1.1 200 OK" "$(head -1 "$WORK/inflight.head" | tr -d '\r')"
check "with Connection: close" close "$(grep -i '^connection:' "$WORK/inflight.head" | cut -d' ' -f2 | tr -d '\r')"
check "its body" "$(as_anon "SELECT store_snapshot('items')->'items'")" "$(jq -c .items "$WORK/inflight")"
rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=
check "and the server exits 0" 0 "$rc"

echo "== SIGTERM with a reader of GET /store/ that never reads: cut at the deadline, exit 0"
sql "CREATE TABLE sigterm_big (id int PRIMARY KEY, pad text);
     INSERT INTO sigterm_big SELECT g, repeat('x', 1000) FROM generate_series(1, 20000) AS g;
     SELECT store_register('sigterm_big', 'sigterm_big'); GRANT SELECT ON sigterm_big TO store_http_anon" >/dev/null
start_server --anon-role store_http_anon
python3 - "$PORT" >"$WORK/mute.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /store/ HTTP/1.1\r\nHost: x\r\n\r\n")
print(s.recv(64).split(b"\r\n")[0].decode(), flush=True)
time.sleep(30)  # reads nothing more: the 20 MB answer stalls
PY
mute=$!
for _ in $(seq 100); do grep -q 200 "$WORK/mute.log" && break; sleep 0.1; done
check "the mute reader got its answer started" "HTTP/1.1 200 OK" "$(head -1 "$WORK/mute.log")"
kill -TERM "$SERVER_PID"
rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=
check "the server exits 0 at the deadline (it aborted there before)" 0 "$rc"
check "its socket closed, the request ends and the server stops cleanly (not _Exit)" "1 connection(s) cut|store-http: stopped" "$(grep -o '[0-9]* connection(s) cut' "$WORK/server.log")|$(tail -1 "$WORK/server.log")"
kill "$mute" 2>/dev/null || true

echo "== SIGTERM with a WebSocket client that never answers the close frame: bounded, exit 0"
start_server --anon-role store_http_anon
python3 - "$PORT" >"$WORK/mutews.log" 2>&1 <<'PY' &
import base64, os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /store/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
print(s.recv(64).split(b"\r\n")[0].decode(), flush=True)
time.sleep(30)  # answers nothing: no pong, no close frame
PY
mutews=$!
for _ in $(seq 100); do grep -q 101 "$WORK/mutews.log" && break; sleep 0.1; done
check "the mute WebSocket client is connected" "HTTP/1.1 101 Switching Protocols" "$(head -1 "$WORK/mutews.log")"
t0=$(date +%s)
kill -TERM "$SERVER_PID"
rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=
check "the server exits 0" 0 "$rc"
check "before the 10 s deadline: the close handshake is bounded (5 s)" yes "$([ $(( $(date +%s) - t0 )) -lt 9 ] && echo yes || echo no)"
check "and stops cleanly" "store-http: stopped" "$(tail -1 "$WORK/server.log")"
kill "$mutews" 2>/dev/null || true
sql "SELECT store_unregister('sigterm_big'); DROP TABLE sigterm_big" >/dev/null

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
