# Shared by the shell tests, which source it: . "$(dirname "$0")/lib.sh"
# Before sourcing, a test sets test_name (for its messages) and, if it mostly works in one
# database, db. They run inside pg_virtualenv (cluster "regress" of $PGVERSION); against another
# server (the PG* environment), set STORE_TEST_RESTART (a command restarting it) and STORE_TEST_LOG
# (its server log file).

# psql quietly, unaligned, stopping at the first error.
psql_() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# q SQL runs SQL in $db; q DATABASE SQL runs it in DATABASE. Prints the result.
q() {
    if [ $# -eq 1 ]; then set -- "$db" "$1"; fi
    psql_ -d "$1" -c "$2"
}

# Reports the failure and stops the test.
fail() {
    echo "$test_name test: FAIL: $*" >&2
    exit 1
}

# fresh_database NAME...: empty databases of these names (dropped first if they exist).
fresh_database() {
    local commands=(-c "SET client_min_messages = warning") name
    for name in "$@"; do commands+=(-c "DROP DATABASE IF EXISTS $name"); done
    for name in "$@"; do commands+=(-c "CREATE DATABASE $name"); done
    psql -X -q -v ON_ERROR_STOP=1 "${commands[@]}"
}

# Waits until the server accepts connections (after a restart or a crash restart); false after 30 s.
wait_for_server() {
    for _ in $(seq 1 150); do psql_ -d postgres -c "SELECT 1" >/dev/null 2>&1 && return; sleep 0.2; done
    echo "$test_name test: the server did not come back" >&2
    return 1
}

# Restarts the server under test and waits for it.
restart() {
    if [ -n "${STORE_TEST_RESTART:-}" ]; then
        eval "$STORE_TEST_RESTART" >/dev/null
    else
        pg_ctlcluster "$PGVERSION" regress restart
    fi
    wait_for_server
}

# The server log of the cluster under test.
server_log() {
    if [ -n "${STORE_TEST_LOG:-}" ]; then
        echo "$STORE_TEST_LOG"
    else
        pg_lsclusters -h | awk -v v="$PGVERSION" '$1 == v && $2 == "regress" { print $NF }'
    fi
}

# The directory of the server's programs (pgbench, ...): pg_virtualenv's version, else pg_config's.
pg_bindir() {
    if [ -n "${PGVERSION:-}" ]; then echo "/usr/lib/postgresql/$PGVERSION/bin"; else pg_config --bindir; fi
}
