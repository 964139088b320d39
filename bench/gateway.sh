# The gateway section of bench/bench.sh (sourced by it; BENCH_SECTIONS=gateway runs it alone): store-http
# against what it would replace, with wrk on loopback, in alternating rounds (medians):
#   GET /store/<key>/<id>/ at 32 connections  vs  pgbench running the same store_get, 32 clients, prepared;
#   GET /store/ of an unchanged store         vs  nginx serving the same bytes from a file (as root when
#                                                 bench/run runs: a throwaway config on a loopback port).
# Needs wrk (and nginx for the second row); skipped with a message where one is missing.
if [ "$mode" = full ]; then
    GW_ROWS=10000; GW_SECONDS=10; GW_ROUNDS=3
else
    GW_ROWS=1000; GW_SECONDS=1; GW_ROUNDS=1
fi
GW_PORT=${GW_PORT:-18431}
GW_NGINX_PORT=${GW_NGINX_PORT:-18432}

# wrk's requests per second of one run (wrk options, the URL last); "-" when any request failed.
gw_wrk() {
    local out errors
    out=$(wrk -t 2 --timeout 10s "$@" 2>&1)
    errors=$(printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' || true)
    if [ -n "$errors" ]; then echo "gateway bench: wrk $*: $errors" >&2; echo "-"; return; fi
    printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *\([0-9]*\).*/\1/p'
}

# Starts store-http as an authenticator role granted a role that may read the bench table.
gw_start() {
    q "DO \$\$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_bench_auth') THEN CREATE ROLE store_bench_auth LOGIN NOINHERIT; END IF;
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_bench_anon') THEN CREATE ROLE store_bench_anon NOLOGIN; END IF;
       END \$\$"
    q "GRANT store_bench_anon TO store_bench_auth"
    q "GRANT SELECT ON store_t TO store_bench_anon"
    # pg_virtualenv connects with a password (PGPASSWORD): the authenticator gets the same one
    [ -n "${PGPASSWORD:-}" ] && psql -X -q -v ON_ERROR_STOP=1 -v pw="$PGPASSWORD" -c "ALTER ROLE store_bench_auth PASSWORD :'pw'"
    "$bin/store-http" --db "dbname=$PGDATABASE user=store_bench_auth" --listen "127.0.0.1:$GW_PORT" \
        --anon-role store_bench_anon >"$work/store-http.log" 2>&1 &
    GW_PID=$!
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/store/bench/1/")" = 200 ] && return 0
        sleep 0.1
    done
    echo "gateway bench: store-http did not start:" >&2; cat "$work/store-http.log" >&2; return 1
}

# Starts nginx with a throwaway config serving $work/www/snapshot.json at /store/; prints nothing.
gw_nginx_start() {
    local p=$work/nginx
    mkdir -p "$p/tmp"
    cat >"$p/nginx.conf" <<EOF
worker_processes auto;
pid $p/nginx.pid;
error_log $p/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $p/tmp; proxy_temp_path $p/tmp; fastcgi_temp_path $p/tmp;
    uwsgi_temp_path $p/tmp; scgi_temp_path $p/tmp;
    sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$GW_NGINX_PORT;
        location / { root $work/www; default_type application/json; try_files /snapshot.json =404; }
    }
}
EOF
    nginx -p "$p/" -c "$p/nginx.conf" -e "$p/error.log" 2>>"$p/error.log" || { cat "$p/error.log" >&2; return 1; }
    for _ in $(seq 50); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_NGINX_PORT/store/")" = 200 ] && return 0
        sleep 0.1
    done
    echo "gateway bench: nginx did not answer:" >&2; cat "$p/error.log" >&2; return 1
}
gw_nginx_stop() { nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" -s quit 2>/dev/null || true; }

section_gateway() {
    echo "== Gateway: store-http with wrk, $GW_ROUNDS alternating rounds of ${GW_SECONDS}s, $GW_ROWS rows" >&2
    if ! command -v wrk >/dev/null || [ ! -x "$bin/store-http" ]; then
        echo "gateway bench: skipped (needs wrk and $bin/store-http; scripts/install-deps installs wrk)" >&2
        return 0
    fi
    make_tables
    q "$(fill store_t 1 "$GW_ROWS")"
    q "VACUUM ANALYZE store_t"
    gw_start
    local base=http://127.0.0.1:$GW_PORT
    printf 'local rows = %s\nrequest = function() return wrk.format("GET", "/store/bench/" .. math.random(1, rows) .. "/") end\n' \
        "$GW_ROWS" >"$work/ids.lua"
    printf '\\set id random(1, %s)\nSELECT store_get('"'"'bench'"'"', :id::text);\n' "$GW_ROWS" >"$work/get.sql"
    # the bytes of an unchanged store, for nginx
    mkdir -p "$work/www"
    curl -s -o "$work/www/snapshot.json" "$base/store/"
    chmod 644 "$work/www/snapshot.json"
    local nginx_ok=no
    if ! command -v nginx >/dev/null; then
        echo "gateway bench: nginx is not installed (scripts/install-deps installs nginx-light): GET /store/ without nginx" >&2
    elif gw_nginx_start; then
        nginx_ok=yes
    fi
    local pg=() gw=() ng=() gs=()
    for _ in $(seq 1 "$GW_ROUNDS"); do
        pg+=("$("$bin/pgbench" -n -M prepared -c 32 -j 2 -T "$GW_SECONDS" -f "$work/get.sql" 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p')")
        gw+=("$(gw_wrk -c 32 -d "${GW_SECONDS}s" -s "$work/ids.lua" "$base/store/bench/1/")")
        [ "$nginx_ok" = yes ] && ng+=("$(gw_wrk -c 8 -d "${GW_SECONDS}s" "http://127.0.0.1:$GW_NGINX_PORT/store/")")
        gs+=("$(gw_wrk -c 8 -d "${GW_SECONDS}s" "$base/store/")")
    done
    [ "$nginx_ok" = yes ] && gw_nginx_stop
    kill "$GW_PID"; wait "$GW_PID" || true
    local p g n s
    p=$(printf '%s\n' "${pg[@]}" | median); g=$(printf '%s\n' "${gw[@]}" | median); s=$(printf '%s\n' "${gs[@]}" | median)
    report "Gateway GET /store/<key>/<id>/, 32 conns, req/s (bare: pgbench)" "$p" "$g" "-" "$(ratio "$g" "$p")" "-"
    if [ "$nginx_ok" = yes ]; then
        n=$(printf '%s\n' "${ng[@]}" | median)
        report "Gateway GET /store/ ($(($(wc -c <"$work/www/snapshot.json") / 1024)) kB), 8 conns, req/s (bare: nginx)" "$n" "$s" "-" "$(ratio "$s" "$n")" "-"
    else
        report "Gateway GET /store/ ($(($(wc -c <"$work/www/snapshot.json") / 1024)) kB), 8 conns, req/s (no nginx)" "-" "$s" "-" "-" "-"
    fi
    unregister_all
}
