#!/usr/bin/env bash
# ALTER EXTENSION store UPDATE from the first released version: a store created at the first
# version (sql/store--<first>.sql), with a registered table and history, must first keep working
# with the new library before the update (writes, snapshot, verify: the library supports every
# released SQL version), then be updated along the sql/store--A--B.sql chain to the default
# version; its objects must then equal a fresh install's (which runs the same chain: released
# scripts never change), its documents be rebuilt in the new form with one F row, and it must
# keep following its table. Runs inside pg_virtualenv.
set -euo pipefail
test_name=upgrade
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

first=$(ls sql/store--*.sql | sed -n 's#^sql/store--\([^-]*\)\.sql$#\1#p' | sort -V | head -n 1)
default=$(sed -n "s/^default_version = '\(.*\)'/\1/p" store.control)
fresh_database store_fresh store_upgraded
q store_fresh "CREATE EXTENSION store"
q store_upgraded "CREATE EXTENSION store VERSION '$first'"
q store_upgraded "CREATE TABLE items (id int PRIMARY KEY, name text)"
q store_upgraded "INSERT INTO items VALUES (1, 'before the update')"
q store_upgraded "SELECT store_register('items', 'items')"
before=$(q store_upgraded "SELECT store_version()")
# the new library on the old SQL objects
q store_upgraded "INSERT INTO items VALUES (2, 'written before the update')"
q store_upgraded "UPDATE items SET name = 'changed before the update' WHERE id = 1"
[ "$(q store_upgraded "SELECT json_array_length(store_snapshot('items') -> 'items')")" = "2" ] ||
    fail "the new library does not read the store of version $first"
[ "$(q store_upgraded "SELECT count(*) FROM store_verify()")" = "0" ] ||
    fail "the new library does not write the store of version $first as that version does"
q store_upgraded "SET client_min_messages = warning; ALTER EXTENSION store UPDATE"
[ "$(q store_upgraded "SELECT extversion FROM pg_extension WHERE extname = 'store'")" = "$default" ] ||
    fail "the update did not reach version $default"

# Every object of the extension, with its definition and privileges.
objects="
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
    SELECT 'member ' || pg_describe_object(d.classid, d.objid, 0)
      FROM pg_depend AS d WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'store') AND d.deptype = 'e'
    UNION ALL
    SELECT 'function ' || pg_get_functiondef(p.oid) || coalesce(p.proacl::text, '')
      FROM pg_proc AS p JOIN pg_depend AS d ON d.objid = p.oid AND d.deptype = 'e'
     WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'store')
    UNION ALL
    SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
      FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef AS ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
     WHERE c.relnamespace = 'store'::regnamespace AND c.relkind IN ('r', 'S')
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid
     WHERE c.relnamespace = 'store'::regnamespace
    UNION ALL
    SELECT 'acl ' || c.relname || ' ' || coalesce(c.relacl::text, '') FROM pg_class AS c
     WHERE c.relnamespace = 'store'::regnamespace
    UNION ALL
    SELECT 'event trigger ' || e.evtname || ' ' || e.evtevent || ' ' || coalesce(e.evttags::text, '') || ' ' || e.evtfoid::regproc
           || ' ' || e.evtenabled::text
      FROM pg_event_trigger AS e
    UNION ALL
    SELECT 'comment ' || pg_describe_object(c.classoid, c.objoid, c.objsubid) || ' ' || c.description
      FROM pg_description AS c JOIN pg_depend AS d ON d.classid = c.classoid AND d.objid = c.objoid AND d.deptype = 'e'
     WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'store')
    UNION ALL
    SELECT 'initial privileges ' || pg_describe_object(i.classoid, i.objoid, i.objsubid) || ' ' || i.initprivs::text
      FROM pg_init_privs AS i JOIN pg_depend AS d ON d.classid = i.classoid AND d.objid = i.objoid AND d.deptype = 'e'
     WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'store')
) AS t(x)"
fresh_objects=$(q store_fresh "$objects")
upgraded_objects=$(q store_upgraded "$objects")
[ -n "$fresh_objects" ] || fail "no objects listed for the fresh install"
[ "$fresh_objects" = "$upgraded_objects" ] || {
    diff <(echo "$fresh_objects") <(echo "$upgraded_objects") || true
    fail "the updated extension differs from a fresh install of $default"
}
q store_upgraded "UPDATE items SET name = 'after the update' WHERE id = 1"
history=$(q store_upgraded "SELECT string_agg(coalesce(item_id, '-') || state, ' ') FROM store_history('$before')")
# every update so far rewrites the documents in that version's form: one F per step of the chain
expected="2C 1U$(for _ in sql/store--*--*.sql; do printf ' -F'; done) 1U"
[ "$history" = "$expected" ] || fail "the history across the update is '$history', not '$expected'"
[ "$(q store_upgraded "SELECT store_get('items', '1')::text")" = "$(q store_upgraded "SELECT to_json(i)::text FROM items AS i WHERE id = 1")" ] ||
    fail "the updated store's documents are not what the new version renders"
[ "$(q store_upgraded "SELECT count(*) FROM store_verify()")" = "0" ] || fail "the updated store does not verify"
# store_register gained an argument in 0.3.0 (filter): the update keeps the EXECUTE grants the
# extension owner gave on the old signature.
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS store_granted" \
     -c "DROP ROLE IF EXISTS store_upgrade_admin" -c "CREATE ROLE store_upgrade_admin" -c "CREATE DATABASE store_granted"
q store_granted "CREATE EXTENSION store VERSION '$first'"
q store_granted "GRANT EXECUTE ON FUNCTION store_register(text, regclass, text[]) TO store_upgrade_admin WITH GRANT OPTION"
q store_granted "SET client_min_messages = warning; ALTER EXTENSION store UPDATE"
[ "$(q store_granted "SELECT has_function_privilege('store_upgrade_admin', 'store_register(text, regclass, text[], text, text)', 'EXECUTE WITH GRANT OPTION')")" = "t" ] ||
    fail "the update lost the grant on store_register"
[ "$(q store_granted "SELECT has_function_privilege('public', 'store_register(text, regclass, text[], text, text)', 'EXECUTE')")" = "f" ] ||
    fail "the update made store_register executable by PUBLIC"
psql -X -q -c "DROP DATABASE store_granted" -c "DROP ROLE store_upgrade_admin"
psql -X -q -c "DROP DATABASE store_fresh" -c "DROP DATABASE store_upgraded"
echo "upgrade test: $first -> $default equals a fresh install and keeps working: ok"
