# What store-http's shell tests share (sourced after setting PORT and DB): the binary, the scratch
# directory and its cleanup, the check counter, SQL in the test database, response headers and
# HS256 tokens.
#   STORE_HTTP_BIN: the binary (default: gateway/build/store-http, else `pg_config --bindir`/store-http)
BIN=${STORE_HTTP_BIN:-}
if [ -z "$BIN" ]; then
    if [ -x gateway/build/store-http ]; then BIN=gateway/build/store-http; else BIN="$(pg_config --bindir)/store-http"; fi
fi
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

# One response header's value (case-insensitive name) from the last request's $WORK/head.
header() { { grep -i "^$1:" "$WORK/head" || true; } | head -1 | cut -d' ' -f2- | tr -d '\r'; }

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

# Compares two JSON texts as values.
same_json() { [ "$(jq -S . <<<"$1" 2>&1)" = "$(jq -S . <<<"$2" 2>&1)" ] && echo same || echo different; }

# Under pg_virtualenv connections use passwords (PGPASSWORD): the authenticator role gets the same one.
authenticator_password() {
    if [ -n "${PGPASSWORD:-}" ]; then
        # (psql interpolates variables on stdin, not in -c)
        echo "ALTER ROLE $1 PASSWORD :'pw';" | psql -X -q -d postgres -v ON_ERROR_STOP=1 -v pw="$PGPASSWORD" >/dev/null
    fi
}

# A fresh test database $DB, the authenticator role $1 (LOGIN NOINHERIT, with PGPASSWORD's password
# under pg_virtualenv), the request roles in $2 granted to it, and roles in $3 that are not
# (cluster-wide roles are created when missing and left behind).
gateway_setup() {
    local auth=$1 granted=$2 others=${3:-} role sql="SET client_min_messages = warning;"
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    sql+=" DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$auth') THEN CREATE ROLE $auth LOGIN NOINHERIT; END IF;"
    for role in $granted $others; do
        sql+=" IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role NOLOGIN; END IF;"
    done
    sql+=" END \$\$; GRANT ${granted// /, } TO $auth;"
    echo "$sql" | psql -X -q -d postgres -v ON_ERROR_STOP=1 >/dev/null
    authenticator_password "$auth"
}
