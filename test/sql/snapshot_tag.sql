-- store_snapshot_tag(): "<content mark>/<digest of the keys the caller may read>". Equal tags
-- must mean equal store_snapshot() documents; the tag stays while no transaction writes to the
-- store (store_version() moves with every transaction of the cluster); NULL when row-level
-- security filters a key for the caller; refused in a transaction that changed the store.
-- Tags hold transaction ids: they are compared here, never printed.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

-- moved(): whether the caller's tag and documents (store_snapshot() without its version) changed
-- since the previous call (of any role), both read in one snapshot; each call keeps them in seen.
-- Whenever tag_changed is false, docs_changed must be too.
CREATE TABLE seen (n serial PRIMARY KEY, tag text, docs text);
GRANT INSERT, SELECT ON seen TO PUBLIC;
GRANT USAGE ON SEQUENCE seen_n_seq TO PUBLIC;
CREATE FUNCTION moved(OUT tag_changed bool, OUT docs_changed bool) LANGUAGE sql AS $$
    WITH cur AS (SELECT store_snapshot_tag() AS tag, (store_snapshot()::jsonb - 'version')::text AS docs),
         kept AS (INSERT INTO seen (tag, docs) SELECT tag, docs FROM cur)
    SELECT cur.tag IS DISTINCT FROM last.tag, cur.docs IS DISTINCT FROM last.docs
      FROM cur LEFT JOIN LATERAL (SELECT s.tag, s.docs FROM seen AS s ORDER BY s.n DESC LIMIT 1) AS last ON true
$$;
-- mark(tag), digest(tag): the two halves of a tag.
CREATE FUNCTION mark(tag text) RETURNS text LANGUAGE sql AS $$ SELECT split_part(tag, '/', 1) $$;
CREATE FUNCTION digest(tag text) RETURNS text LANGUAGE sql AS $$ SELECT split_part(tag, '/', 2) $$;

CREATE TABLE items (id int PRIMARY KEY, name text, note text);
CREATE TABLE vault (id int PRIMARY KEY, secret text);
CREATE TABLE unrelated (id int PRIMARY KEY);
INSERT INTO items VALUES (1, 'a', 'x'), (2, 'b', 'y');
INSERT INTO vault VALUES (1, 's1'), (2, 's2');

-- The empty store: its id (the version's), no writer, no compaction, no key.
SELECT store_snapshot_tag() ~ '^[0-9a-f]{8}:0:0:/[0-9a-f]{32}$' AS empty_store,
       split_part(store_snapshot_tag(), ':', 1) = split_part(store_version(), ':', 1) AS same_store_id,
       digest(store_snapshot_tag()) = md5('') AS no_key;
SELECT store_register('items', 'items');
SELECT store_register('vault', 'vault');
SELECT * FROM moved();
SELECT store_snapshot_tag() ~ '^[0-9a-f]{8}:[1-9][0-9]*:0:[0-9,]*/[0-9a-f]{32}$' AS well_formed,
       digest(store_snapshot_tag()) = md5('"items""vault"') AS digest_of_key_names;

-- Stable across transactions that do not write to the store, while the version moves.
SELECT store_snapshot_tag() AS tag, store_version() AS version \gset
INSERT INTO unrelated VALUES (1);
SELECT store_snapshot_tag() = :'tag' AS same_tag, store_version() <> :'version' AS version_moved;
BEGIN;
INSERT INTO unrelated VALUES (2);
SELECT store_snapshot_tag() = :'tag' AS same_tag_in_a_transaction_writing_elsewhere;
COMMIT;
-- ... and across a rolled-back store write, and an UPDATE that leaves every document as it was
-- (it logs nothing).
BEGIN;
INSERT INTO items VALUES (9, 'rolled back', NULL);
ROLLBACK;
UPDATE items SET name = name;
SELECT store_snapshot_tag() = :'tag' AS same_tag, store_version() <> :'version' AS version_moved;
SELECT * FROM moved();

-- Every store write moves it.
INSERT INTO items VALUES (3, 'c', 'z');
SELECT * FROM moved();
UPDATE items SET note = 'w' WHERE id = 3;
SELECT * FROM moved();
DELETE FROM items WHERE id = 3;
SELECT * FROM moved();
TRUNCATE vault;
SELECT * FROM moved();
INSERT INTO vault VALUES (1, 's1'), (2, 's2');
SELECT * FROM moved();
SELECT store_register('names', 'items', ARRAY['id', 'name']);
SELECT * FROM moved();
ALTER TABLE items ADD COLUMN extra int;
SELECT * FROM moved();
SELECT store_reload('names');
SELECT * FROM moved();
SELECT store_reload();
SELECT * FROM moved();
SELECT store_unregister('names');
SELECT * FROM moved();
-- Compaction keeps the documents but moves the tag (the history it read the newest writer from
-- is gone); a compaction that removes nothing does not.
SELECT store_compact('0') > 0 AS removed;
SELECT * FROM moved();
SELECT store_compact('0') AS removed;
SELECT * FROM moved();
INSERT INTO items VALUES (4, 'd', NULL);
SELECT * FROM moved();

-- A nested key: a write to an embedded table changes its documents (at commit) and the tag.
CREATE TABLE owners (id int PRIMARY KEY, name text);
CREATE TABLE pets (id int PRIMARY KEY, owner_id int REFERENCES owners);
CREATE INDEX ON pets (owner_id);
INSERT INTO owners VALUES (1, 'Ann');
INSERT INTO pets VALUES (1, 1);
SELECT store_register('pets', 'pets', shape => 'id,owner:owners(name)');
SELECT * FROM moved();
UPDATE owners SET name = 'Bob';
SELECT * FROM moved();
SELECT store_unregister('pets');
SELECT * FROM moved();

-- A key whose triggers were stopped anyway (its event triggers disabled by a superuser) is
-- served to nobody: it leaves the snapshot, and the tag moves although nothing was logged.
ALTER EVENT TRIGGER store_triggers DISABLE;
ALTER TABLE vault DISABLE TRIGGER store_vault;
SELECT store_snapshot() -> 'vault' AS vault_served, digest(store_snapshot_tag()) = md5('"items"') AS digest_without_vault;
SELECT * FROM moved();
ALTER TABLE vault ENABLE ALWAYS TRIGGER store_vault;
ALTER EVENT TRIGGER store_triggers ENABLE;
SELECT * FROM moved();

-- The same in any isolation level, search_path or time zone.
SELECT store_snapshot_tag() AS tag \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT store_snapshot_tag() = :'tag' AS same_in_repeatable_read;
INSERT INTO unrelated VALUES (3);
SELECT store_snapshot_tag() = :'tag' AS same_after_writing_elsewhere;
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT store_snapshot_tag() = :'tag' AS same_in_serializable;
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE;
SELECT store_snapshot_tag() = :'tag' AS same_in_serializable_read_only_deferrable;
COMMIT;
SET search_path = pg_temp;
SET TimeZone = 'Pacific/Chatham';
SET DateStyle = 'SQL, DMY';
SET extra_float_digits = -15;
SELECT public.store_snapshot_tag() OPERATOR(pg_catalog.=) :'tag' AS same_under_odd_settings;
RESET search_path;
RESET TimeZone;
RESET DateStyle;
RESET extra_float_digits;

-- Refused in a transaction that changed the store, with store_snapshot's error; a store write
-- rolled back to a savepoint no longer counts (as for store_snapshot): the tag is the same.
BEGIN;
INSERT INTO items VALUES (5, 'e', NULL);
SELECT err($$SELECT store_snapshot_tag()$$), err($$SELECT store_snapshot()$$) AS snapshot_err;
ROLLBACK;
BEGIN;
SAVEPOINT s;
DELETE FROM items WHERE id = 4;
ROLLBACK TO SAVEPOINT s;
SELECT store_snapshot_tag() = :'tag' AS same_after_rolled_back_savepoint, err($$SELECT store_snapshot()$$) AS snapshot_err;
ROLLBACK;

-- Roles. Two readers of the same keys get equal tags; one that may read fewer keys gets the
-- same content mark with another digest; a role without any privilege (only what PUBLIC has)
-- gets a tag too, of no key.
CREATE ROLE tag_reader_a;
CREATE ROLE tag_reader_b;
CREATE ROLE tag_items_reader;
CREATE ROLE tag_nobody;
GRANT SELECT ON items, vault TO tag_reader_a, tag_reader_b;
GRANT SELECT ON items TO tag_items_reader;
SELECT store_snapshot_tag() AS owner_tag \gset
SET ROLE tag_reader_a;
SELECT store_snapshot_tag() AS a_tag \gset
RESET ROLE;
SET ROLE tag_reader_b;
SELECT store_snapshot_tag() = :'a_tag' AS same_keys_same_tag, store_snapshot_tag() = :'owner_tag' AS same_as_owner;
RESET ROLE;
SET ROLE tag_items_reader;
SELECT mark(store_snapshot_tag()) = mark(:'a_tag') AS same_mark, digest(store_snapshot_tag()) <> digest(:'a_tag') AS other_digest,
       digest(store_snapshot_tag()) = md5('"items"') AS digest_of_items;
RESET ROLE;
SET ROLE tag_nobody;
SELECT mark(store_snapshot_tag()) = mark(:'a_tag') AS same_mark, digest(store_snapshot_tag()) = md5('') AS no_key,
       store_snapshot()::jsonb - 'version' AS documents;
RESET ROLE;
-- A grant or revoke moves the tag of the role concerned only.
REVOKE SELECT ON vault FROM tag_reader_b;
SET ROLE tag_reader_b;
SELECT digest(store_snapshot_tag()) = md5('"items"') AS b_lost_vault;
RESET ROLE;
SET ROLE tag_reader_a;
SELECT store_snapshot_tag() = :'a_tag' AS a_unchanged;
RESET ROLE;
GRANT SELECT ON vault TO tag_reader_b;

-- Row-level security: NULL for a reader the policies filter a key for; the tag as before for the
-- store owner (a superuser, RLS does not apply), a BYPASSRLS reader, and a reader that may not
-- read the filtered key at all.
CREATE ROLE tag_bypass BYPASSRLS;
GRANT SELECT ON items, vault TO tag_bypass;
ALTER TABLE vault ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON vault FOR SELECT USING (id = 1);
SET ROLE tag_reader_a;
SELECT store_snapshot_tag() IS NULL AS filtered_is_null, json_array_length(store_snapshot() -> 'vault') AS vault_documents;
RESET ROLE;
SELECT store_snapshot_tag() = :'owner_tag' AS owner_unchanged;
SET ROLE tag_bypass;
SELECT store_snapshot_tag() = :'owner_tag' AS bypassrls_like_owner;
RESET ROLE;
SET ROLE tag_items_reader;
SELECT digest(store_snapshot_tag()) = md5('"items"') AS without_the_filtered_key;
RESET ROLE;
-- A policy that lets every row through still filters (policies may read anything): NULL.
DROP POLICY only_one ON vault;
CREATE POLICY everything ON vault FOR SELECT USING (true);
SET ROLE tag_reader_a;
SELECT store_snapshot_tag() IS NULL AS policy_is_null;
RESET ROLE;
ALTER TABLE vault DISABLE ROW LEVEL SECURITY;
SET ROLE tag_reader_a;
SELECT store_snapshot_tag() = :'a_tag' AS back_after_rls_off;
RESET ROLE;
-- A table owner (no superuser) reading its own table: RLS does not apply, unless forced.
CREATE ROLE tag_owner;
CREATE TABLE owned (id int PRIMARY KEY, v text);
ALTER TABLE owned OWNER TO tag_owner;
INSERT INTO owned VALUES (1, 'o');
SELECT store_register('owned', 'owned');
ALTER TABLE owned ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON owned USING (id = 1);
SET ROLE tag_owner;
SELECT store_snapshot_tag() IS NOT NULL AS owner_not_filtered, digest(store_snapshot_tag()) = md5('"owned"') AS digest_of_owned;
RESET ROLE;
ALTER TABLE owned FORCE ROW LEVEL SECURITY;
SET ROLE tag_owner;
SELECT store_snapshot_tag() IS NULL AS forced_is_null;
RESET ROLE;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE items, vault, unrelated, pets, owners, owned, seen;
DROP ROLE tag_reader_a, tag_reader_b, tag_items_reader, tag_nobody, tag_bypass, tag_owner;
DROP FUNCTION err(text), moved(), mark(text), digest(text);
