-- store_get keeps its lookups' plans per backend (issue 14): what a reader may read is still
-- decided on every call. Each case reads a key many times in one session (past the plan cache's
-- five custom plans, so the kept plans are generic and reused), then takes a right away (or
-- changes what row-level security shows) and reads again: the very next call must see it.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
-- reads(key, id, n): n reads of one document as the current role; the distinct results.
CREATE FUNCTION reads(key text, id text, n int) RETURNS text LANGUAGE sql AS
    $$ SELECT string_agg(DISTINCT coalesce(store_get(key, id)::text, 'NULL'), ' | ') FROM generate_series(1, n) $$;

CREATE ROLE store_kept_reader;
CREATE ROLE store_kept_group;
CREATE SCHEMA kept;
GRANT USAGE ON SCHEMA kept TO store_kept_reader, store_kept_group;
CREATE TABLE kept.items (id int PRIMARY KEY, name text, secret text);
INSERT INTO kept.items VALUES (1, 'a', 's1'), (2, 'b', 's2');
SELECT store_register('items', 'kept.items');
SELECT store_register('names', 'kept.items', ARRAY['id', 'name']);

-- A table-level SELECT, revoked.
GRANT SELECT ON kept.items TO store_kept_reader;
SET ROLE store_kept_reader;
SELECT reads('items', '1', 20);
RESET ROLE;
REVOKE SELECT ON kept.items FROM store_kept_reader;
SET ROLE store_kept_reader;
SELECT err($$SELECT store_get('items', '1')$$);
RESET ROLE;

-- Column-level SELECT on the chosen columns, one of them revoked (the key that shows all
-- columns was never readable with these rights).
GRANT SELECT (id, name) ON kept.items TO store_kept_reader;
SET ROLE store_kept_reader;
SELECT reads('names', '2', 20);
SELECT err($$SELECT store_get('items', '2')$$);
RESET ROLE;
REVOKE SELECT (name) ON kept.items FROM store_kept_reader;
SET ROLE store_kept_reader;
SELECT err($$SELECT store_get('names', '2')$$);
RESET ROLE;
REVOKE SELECT (id) ON kept.items FROM store_kept_reader;

-- A right held through a role's membership, the membership revoked.
GRANT SELECT ON kept.items TO store_kept_group;
GRANT store_kept_group TO store_kept_reader;
SET ROLE store_kept_reader;
SELECT reads('items', '1', 20);
RESET ROLE;
REVOKE store_kept_group FROM store_kept_reader;
SET ROLE store_kept_reader;
SELECT err($$SELECT store_get('items', '1')$$);
RESET ROLE;

-- USAGE on the table's schema, revoked.
GRANT SELECT ON kept.items TO store_kept_reader;
SET ROLE store_kept_reader;
SELECT reads('items', '1', 20);
RESET ROLE;
REVOKE USAGE ON SCHEMA kept FROM store_kept_reader;
SET ROLE store_kept_reader;
SELECT err($$SELECT store_get('items', '1')$$);
RESET ROLE;
GRANT USAGE ON SCHEMA kept TO store_kept_reader;

-- Row-level security turned on after many unfiltered reads: the next read is filtered; turned
-- off, it is not.
SET ROLE store_kept_reader;
SELECT reads('items', '2', 20);
RESET ROLE;
ALTER TABLE kept.items ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON kept.items FOR SELECT TO store_kept_reader USING (id = 1);
SET ROLE store_kept_reader;
SELECT store_get('items', '2') AS hidden, store_get('items', '1') AS shown;
SELECT reads('items', '2', 20);
RESET ROLE;
ALTER TABLE kept.items DISABLE ROW LEVEL SECURITY;
SET ROLE store_kept_reader;
SELECT store_get('items', '2') AS shown_again;
RESET ROLE;

-- The same through a prepared statement the reader executes again and again.
SET ROLE store_kept_reader;
PREPARE get_one AS SELECT store_get('items', '1');
EXECUTE get_one; EXECUTE get_one; EXECUTE get_one; EXECUTE get_one; EXECUTE get_one; EXECUTE get_one;
EXECUTE get_one;
RESET ROLE;
REVOKE SELECT ON kept.items FROM store_kept_reader;
SET ROLE store_kept_reader;
SELECT err($$EXECUTE get_one$$);
DEALLOCATE get_one;
RESET ROLE;

-- A key unregistered, then registered again for another table, after many reads.
SELECT reads('items', '1', 20);
SELECT store_unregister('items');
SELECT err($$SELECT store_get('items', '1')$$);
CREATE TABLE kept.others (id int PRIMARY KEY, label text);
INSERT INTO kept.others VALUES (1, 'other');
SELECT store_register('items', 'kept.others');
SELECT store_get('items', '1');

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP SCHEMA kept CASCADE;
RESET client_min_messages;
DROP ROLE store_kept_reader, store_kept_group;
DROP FUNCTION err(text), reads(text, text, int);
