-- Read privileges: the read functions return only keys whose table (or every stored column of it)
-- the caller may SELECT; asking for another key is a permission error; no grant on the store's
-- own tables or internals is needed or given. Registering needs ownership of the table.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE FUNCTION keys_of(j json) RETURNS text[] LANGUAGE sql AS
    $$ SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM json_object_keys(j) AS k $$;

CREATE TABLE items (id int PRIMARY KEY, name text);
CREATE TABLE users (id int PRIMARY KEY, login text, password_hash text);
INSERT INTO items VALUES (1, 'one');
INSERT INTO users VALUES (7, 'ann', 'secret');
SELECT store_register('items', 'items');
SELECT store_register('logins', 'users', ARRAY['id', 'login']);
SELECT store_register('users', 'users');

CREATE ROLE store_nobody;
CREATE ROLE store_item_reader;
CREATE ROLE store_login_reader;
GRANT SELECT ON items TO store_item_reader;
GRANT SELECT (id, login) ON users TO store_login_reader;
SELECT store_version() AS v \gset
UPDATE items SET name = 'ONE';
UPDATE users SET login = 'Ann';

-- A role without privileges sees an empty store, and is refused every key by name.
SET ROLE store_nobody;
SELECT keys_of(store_snapshot());
SELECT err($$SELECT store_snapshot('items')$$);
SELECT err($$SELECT * FROM store_snapshot_rows('items')$$);
SELECT regexp_replace(string_agg(c, ''), '"version":"[^"]*"', '"version":"V"') AS streamed
  FROM store_snapshot_rows() AS r(c);
SELECT err($$SELECT store_get('items', '1')$$);
SELECT count(*) AS history_rows FROM store_history(:'v');
SELECT store_changes(:'v')::jsonb - 'version' AS changes;
SELECT store_version() IS NOT NULL AS may_take_a_version;
-- ... and cannot reach the store's tables or the internals that take a reader argument.
SELECT err($$SELECT count(*) FROM store.entries$$);
SELECT err($$SELECT store._snapshot_text(NULL, 10)$$);
SELECT err($$SELECT store._get_text('items', '1', 10)$$);
SELECT err(format('SELECT * FROM store._history_rows(%L, 10)', :'v'));
RESET ROLE;

-- A role with SELECT on items sees exactly that key.
SET ROLE store_item_reader;
SELECT keys_of(store_snapshot());
SELECT store_snapshot('items')::jsonb - 'version' AS items_only;
SELECT store_get('items', '1');
SELECT err($$SELECT store_get('users', '7')$$);
SELECT cache_key, item_id, state FROM store_history(:'v');
SELECT store_changes(:'v')::jsonb - 'version' AS changes;
RESET ROLE;

-- Column privileges: a key whose stored columns are all granted is readable; one that stores
-- more (here the password hash) is not.
SET ROLE store_login_reader;
SELECT keys_of(store_snapshot());
SELECT store_get('logins', '7');
SELECT err($$SELECT store_snapshot('users')$$);
SELECT cache_key, item_id, state FROM store_history(:'v');
RESET ROLE;

-- A key removed later shows up for everyone only as "removed", without documents.
SELECT store_version() AS v2 \gset
SELECT store_unregister('users');
SET ROLE store_nobody;
SELECT cache_key, item_id, state FROM store_history(:'v2');
SELECT store_changes(:'v2')::jsonb - 'version' AS changes;
RESET ROLE;

-- Registering needs ownership of the table, even with EXECUTE on store_register (no grant on
-- the store's schema is needed: see admin_grants.sql).
GRANT EXECUTE ON FUNCTION store_register(text, regclass, text[], text, text) TO store_nobody;
SET ROLE store_nobody;
SELECT err($$SELECT store_register('mine', 'items')$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION store_register(text, regclass, text[], text, text) FROM store_nobody;

-- Row-level security: through the store, a reader sees exactly the rows the table shows it, and
-- the history never names a row it cannot see (a changed key comes back whole instead).
CREATE TABLE notes (id int PRIMARY KEY, author text, body text);
INSERT INTO notes VALUES (1, 'store_rls_ann', 'a1'), (2, 'someone else', 'b1'), (3, 'store_rls_ann', 'a2');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON notes FOR SELECT USING (author = current_user);
CREATE ROLE store_rls_ann;
GRANT SELECT ON notes TO store_rls_ann;
SELECT store_register('notes', 'notes');
SELECT store_version() AS v3 \gset
UPDATE notes SET body = 'b2' WHERE id = 2;
UPDATE notes SET body = 'a3' WHERE id = 3;
SET ROLE store_rls_ann;
SELECT store_snapshot('notes')::jsonb - 'version' AS own_notes_only;
SELECT (store_snapshot()::jsonb -> 'notes') = (store_snapshot('notes')::jsonb -> 'notes') AS same_in_whole_snapshot;
SELECT store_get('notes', '2') AS hidden_note, store_get('notes', '3') ->> 'body' AS own_note;
SELECT string_agg(c, '') = store_snapshot()::text AS streamed_the_same FROM store_snapshot_rows() AS r(c);
SELECT cache_key, item_id, state FROM store_history(:'v3');
SELECT store_changes(:'v3')::jsonb - 'version' AS changes;
RESET ROLE;
-- The table's owner is not subject to its policies, so it sees every row.
SELECT json_array_length(store_snapshot('notes') -> 'notes') AS owner_sees;
SELECT cache_key, item_id, state FROM store_history(:'v3');

-- A primary key of a domain type: reading an id never runs the domain's CHECK (user code) as the
-- store's owner.
CREATE TABLE spied (who text);
GRANT INSERT ON spied TO PUBLIC;
CREATE FUNCTION spy(int) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO public.spied VALUES (current_user); RETURN true; END $$;
CREATE DOMAIN watched_int AS int CHECK (spy(VALUE));
CREATE TABLE watched (id watched_int PRIMARY KEY, note text);
INSERT INTO watched VALUES (1, 'w');
GRANT SELECT ON watched TO store_nobody;
SELECT store_register('watched', 'watched');
TRUNCATE spied;
SET ROLE store_nobody;
SELECT store_get('watched', '1') ->> 'note' AS note;
RESET ROLE;
SELECT count(*) AS checks_run_as_someone_else FROM spied WHERE who <> 'store_nobody';
SELECT store_unregister('watched');
DROP TABLE watched, spied;
DROP DOMAIN watched_int;
DROP FUNCTION spy(int);

DROP OWNED BY store_nobody, store_item_reader, store_login_reader, store_rls_ann;
DROP ROLE store_nobody, store_item_reader, store_login_reader, store_rls_ann;
SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE items, users, notes;

-- Security: code of a table's owner (casts of its types, RLS policies) never runs as the store's
-- owner or as a reader who did not name the table; missing columns and schemas fail closed.
CREATE EXTENSION store;
CREATE TABLE ran_as (who text, what text);
GRANT INSERT ON ran_as TO PUBLIC;
CREATE ROLE store_mallory;
CREATE ROLE store_victim;
GRANT CREATE ON SCHEMA public TO store_mallory;
SET ROLE store_mallory;
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TYPE shade AS ENUM ('dark', 'light');
CREATE FUNCTION mood_json(mood) RETURNS json LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO public.ran_as VALUES (current_user, 'cast'); RETURN to_json($1::text); END $$;
CREATE CAST (mood AS json) WITH FUNCTION mood_json(mood);
CREATE TABLE moods (id int PRIMARY KEY, m mood, note text);
INSERT INTO moods VALUES (1, 'happy', 'x');
GRANT SELECT ON moods TO store_victim;
RESET ROLE;
SELECT store_register('moods', 'moods');
-- the rebuild of register, reload and DDL computes documents as the table's owner
SELECT store_reload('moods');
SET ROLE store_mallory;
ALTER TABLE moods ADD COLUMN later mood DEFAULT 'sad';
ALTER TABLE moods ADD COLUMN tint shade DEFAULT 'dark';
RESET ROLE;
-- ... and so does the trigger, whoever writes (here a superuser); readers render nothing
UPDATE moods SET note = 'y';
SET ROLE store_victim;
SELECT store_get('moods', '1') ->> 'note' AS note;
RESET ROLE;
SELECT DISTINCT who, what FROM ran_as ORDER BY who;
-- dropping a type drops its column without ALTER TABLE: the documents follow, no stale column
SELECT store_get('moods', '1')::jsonb ? 'tint' AS has_tint;
SET ROLE store_mallory;
DROP TYPE shade CASCADE;
RESET ROLE;
SELECT store_get('moods', '1');

-- Row-level security of another owner's table does not run for a reader's whole-store read.
TRUNCATE ran_as;
SET ROLE store_mallory;
CREATE FUNCTION spy_policy() RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO public.ran_as VALUES (current_user, 'policy'); RETURN true; END $$;
CREATE TABLE trap (id int PRIMARY KEY);
INSERT INTO trap VALUES (1);
ALTER TABLE trap ENABLE ROW LEVEL SECURITY;
CREATE POLICY spy ON trap USING (spy_policy());
GRANT SELECT ON trap TO store_victim;
RESET ROLE;
SELECT store_register('trap', 'trap');
SET ROLE store_victim;
SELECT keys_of(store_snapshot()) AS bulk_read_keys;
RESET ROLE;
SELECT count(*) AS policy_runs_in_bulk_reads FROM ran_as;
SET ROLE store_victim;
SELECT store_snapshot('trap')::jsonb -> 'trap' AS named_read;
RESET ROLE;
SELECT DISTINCT who, what FROM ran_as;

-- A schema the reader may not use hides the key.
CREATE SCHEMA hidden;
CREATE TABLE hidden.t (id int PRIMARY KEY);
GRANT SELECT ON hidden.t TO store_victim;
SELECT store_register('hidden_t', 'hidden.t');
SET ROLE store_victim;
SELECT err($$SELECT store_snapshot('hidden_t')$$);
RESET ROLE;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP SCHEMA hidden CASCADE;
RESET client_min_messages;
DROP TABLE ran_as;
SET client_min_messages = warning;
DROP OWNED BY store_mallory, store_victim CASCADE;
RESET client_min_messages;
DROP ROLE store_mallory, store_victim;
DROP FUNCTION err(text), keys_of(json);
