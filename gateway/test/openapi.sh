#!/usr/bin/env bash
# store-http's GET /openapi.json end to end: starts the gateway on loopback against the PostgreSQL of
# the PG* environment variables (pg_virtualenv in CI, a private cluster in development), checks with
# curl that each caller gets the OpenAPI 3.1 document of the keys its role may read (schemas equal to
# store_describe() as that role), with the read headers, 304 and 405; then validates the document with
# an OpenAPI validator from npm and the caller's GET /store/ documents against its schemas
# (gateway/test/js: `npm ci` there when node_modules is missing).
#   STORE_HTTP_BIN: the binary (see lib.sh)
#   STORE_HTTP_PORT: the port to listen on (default 18090)
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${STORE_HTTP_PORT:-18090}
DB=store_openapi_test
JS=gateway/test/js
. gateway/test/lib.sh

# curl one URL into $WORK/$2 (body) and $WORK/head; prints the status.
get() {
    local url=$1 out=$2; shift 2
    curl -s -o "$WORK/$out" -D "$WORK/head" -w '%{http_code}' "$@" "$BASE$url"
}

echo "== setup (database $DB, roles store_openapi_*)"
gateway_setup store_openapi_auth "store_openapi_anon store_openapi_alice"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION store;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(8,2), ratio float8, tags text[],
                    meta jsonb, at timestamptz, local_at timestamp, day date, uid uuid, feeling mood, span interval);
INSERT INTO items VALUES
    (1, 'tea', 2.50, 'NaN', '{a,NULL}', '{"k": [1]}', '2026-01-02 03:04:05+00', '2026-01-02 03:04:05', '2026-01-02',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '1 day'),
    (2, 'coffee', NULL, 1.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT store_register('items', 'items');
CREATE TABLE order_lines (order_id int, line int, product text, PRIMARY KEY (order_id, line));
INSERT INTO order_lines VALUES (1, 1, 'tea'), (1, 2, NULL);
SELECT store_register('order_lines', 'order_lines');
CREATE TABLE secrets (id int PRIMARY KEY, v text);
INSERT INTO secrets VALUES (1, 's');
SELECT store_register('secrets', 'secrets');
CREATE TABLE language (language_id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE film (film_id int PRIMARY KEY, title text NOT NULL, language_id int REFERENCES language);
CREATE INDEX ON film (language_id);
CREATE TABLE inventory (inventory_id int PRIMARY KEY, film_id int NOT NULL REFERENCES film);
CREATE INDEX ON inventory (film_id);
INSERT INTO language VALUES (1, 'English');
INSERT INTO film VALUES (1, 'Academy', 1), (2, 'Unknown', NULL);
INSERT INTO inventory VALUES (10, 1), (11, 1);
SELECT store_register('films', 'film', shape => 'film_id,title,language(name),copies:inventory(inventory_id)');
GRANT SELECT ON items, order_lines, film, language, inventory TO store_openapi_anon, store_openapi_alice;
GRANT SELECT ON secrets TO store_openapi_alice;
SQL
alice=$(hs256 '{"role":"store_openapi_alice","sub":"u1"}')
"$BIN" --db "dbname=$DB user=store_openapi_auth" --listen "127.0.0.1:$PORT" --anon-role store_openapi_anon \
    --jwt-secret "$SECRET" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done

echo "== GET /openapi.json"
check "anonymous -> 200" 200 "$(get /openapi.json anon.json)"
check "JSON" "application/json; charset=utf-8" "$(header Content-Type)"
check "X-Store-Version is the version" "$(sql 'SELECT store_version()')" "$(header X-Store-Version)"
etag=$(header ETag)
check "OpenAPI 3.1" 3.1.0 "$(jq -r .openapi "$WORK/anon.json")"
check "the anonymous role's keys (not secrets)" '["/store/films/","/store/items/","/store/order_lines/"]' \
    "$(jq -c '[.paths | keys[] | select(test("^/store/[a-z_]+/$")) | select(. != "/store/history/" and . != "/store/changes/")]' "$WORK/anon.json")"
check "the anonymous role's schemas are store_describe()'s as that role" same \
    "$(same_json "$(jq -c '.components.schemas | {films, items, order_lines}' "$WORK/anon.json")" \
        "$(sql "SET ROLE store_openapi_anon; SELECT json_object_agg(k, d -> k -> 'schema') FROM (SELECT store_describe() AS d) s, json_object_keys(d) k")")"
check "composite ids as arrays" '["array",2]' \
    "$(jq -c '.components.schemas["order_lines.id"] | [.type, (.prefixItems | length)]' "$WORK/anon.json")"
check "writes on a key" '["delete","get","parameters","patch","put"]' \
    "$(jq -c '.paths["/store/items/{id}/"] | keys' "$WORK/anon.json")"
check "bearer JWT" '{"type":"http","scheme":"bearer","bearerFormat":"JWT"}' \
    "$(jq -c '.components.securitySchemes.bearer | {type, scheme, bearerFormat}' "$WORK/anon.json")"
check "alice -> 200" 200 "$(get /openapi.json alice.json -H "Authorization: Bearer $alice")"
check "alice also has secrets" '{"type":"object","properties":{"id":{"type":"integer","format":"int32"},"v":{"type":["string","null"]}},"required":["id","v"]}' \
    "$(jq -c '.components.schemas.secrets' "$WORK/alice.json")"
check "alice's path to secrets" true "$(jq '.paths | has("/store/secrets/{id}/")' "$WORK/alice.json")"
check "If-None-Match -> 304" 304 "$(get /openapi.json none -H "If-None-Match: $etag")"
check "POST -> 405" 405 "$(get /openapi.json err.json -X POST)"
check "405 Allow" GET "$(header Allow)"
check "a bad token -> 401" 401 "$(get /openapi.json err.json -H "Authorization: Bearer x.y.z")"

echo "== the document and the documents validate (npm: $(jq -r '.dependencies | keys | join(", ")' $JS/package.json))"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "gateway/test/openapi.sh needs node and npm (scripts/install-deps installs them)"; exit 1
fi
if [ ! -d "$JS/node_modules" ]; then (cd "$JS" && npm ci --no-audit --no-fund --silent); fi
for who in anon alice; do
    if [ "$who" = alice ]; then auth=(-H "Authorization: Bearer $alice"); else auth=(); fi
    check "$who: GET /store/ -> 200" 200 "$(get /store/ "$who-snapshot.json" "${auth[@]}")"
    out=$(node "$JS/validate.mjs" "$WORK/$who.json" "$WORK/$who-snapshot.json" 2>&1) || true
    check "$who: OpenAPI document and documents valid" valid "$(tail -n 1 <<<"$out")"
    [ "$(tail -n 1 <<<"$out")" = valid ] && echo "$who: $(head -n 1 <<<"$out")" || echo "$out" | head -40
done
# The validator must be able to fail: a document that breaks the 3.1 schema, and a document that breaks its key's schema.
jq '.paths["/store/items/"].get.responses = "none"' "$WORK/anon.json" >"$WORK/broken.json"
check "a broken OpenAPI document is refused" invalid "$(node "$JS/validate.mjs" "$WORK/broken.json" 2>&1 | tail -n 1 || true)"
jq '.items[0].name = null' "$WORK/anon-snapshot.json" >"$WORK/broken-snapshot.json"
check "a document against its schema is refused" invalid \
    "$(node "$JS/validate.mjs" "$WORK/anon.json" "$WORK/broken-snapshot.json" 2>&1 | tail -n 1 || true)"

kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=
check "SIGTERM exits 0" 0 "$rc"
psql -X -q -d postgres -c "DROP DATABASE $DB"
echo "store-http /openapi.json: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
