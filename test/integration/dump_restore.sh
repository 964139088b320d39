#!/usr/bin/env bash
# pg_dump / pg_restore into a new database keeps registrations, triggers, documents, history and
# the compaction horizon; the restored store verifies, keeps capturing writes, and refuses the
# old database's versions (a new store identity). Runs inside pg_virtualenv.
set -euo pipefail
test_name=dump/restore
. "$(dirname "$0")/lib.sh"

fresh_database store_dumped store_restored
q store_dumped "CREATE EXTENSION store"
q store_dumped "CREATE TABLE items (id int PRIMARY KEY, name text, secret text)"
q store_dumped "INSERT INTO items SELECT g, 'item ' || g, 'x' FROM generate_series(1, 50) g"
q store_dumped "SELECT store_register('items', 'items', ARRAY['id', 'name'])"
q store_dumped "UPDATE items SET name = 'changed' WHERE id <= 5"
q store_dumped "SELECT store_compact('0')" >/dev/null
q store_dumped "DELETE FROM items WHERE id > 45"
old_version=$(q store_dumped "SELECT store_version()")

dump=$(mktemp)
pg_dump -Fc -d store_dumped -f "$dump"
pg_restore -d store_restored "$dump"
rm -f "$dump"

fingerprint() {
    q "$1" "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
              SELECT 'k' || key || columns::text || id_type::text || shape FROM store.keys
              UNION ALL SELECT 'e' || key || id::text || doc::text FROM store.entries
              UNION ALL SELECT 'h' || coalesce(cache_key, '') || coalesce(item::text, '') || state || added_on::text
                FROM store.history) AS t(x)"
}
[ "$(fingerprint store_dumped)" = "$(fingerprint store_restored)" ] || fail "registrations, documents or history differ"
[ "$(q store_restored "SELECT count(*) FROM store_verify()")" = "0" ] || fail "the restored store does not verify"
[ "$(q store_restored "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'store\_items%'")" = "2" ] ||
    fail "the store triggers were not restored"
[ "$(q store_restored "SELECT store_changes('0')::jsonb ->> 'reload'")" = "true" ] ||
    fail "the compaction horizon was lost: version '0' should be told to reload"
restored_version=$(q store_restored "SELECT store_version()")
q store_restored "INSERT INTO items VALUES (100, 'after restore', 'x')"
[ "$(q store_restored "SELECT string_agg(item_id || state, ' ') FROM store_history('$restored_version')")" = "100C" ] ||
    fail "restored history rows are delivered again as new changes"
[ "$(q store_restored "SELECT store_get('items', '100') ->> 'name'")" = "after restore" ] ||
    fail "the restored store does not capture writes"
state=$(psql -X -q -At -d store_restored -c "SELECT count(*) FROM store_history('$old_version')" 2>&1 || true)
case "$state" in *"belongs to another store"*) ;; *) fail "an old version was not refused: $state" ;; esac
psql -X -q -c "DROP DATABASE store_dumped" -c "DROP DATABASE store_restored"
echo "dump/restore test: registrations, triggers, documents and history survive; old versions are refused: ok"
