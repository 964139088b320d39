-- Partial keys: store_register(key, source, filter => '...') stores only the rows that match an
-- SQL boolean expression restricted like a publication row filter. Registration refuses every
-- other construct with its SQLSTATE; a row entering the filter logs C, one leaving it D, one that
-- never matches writes and notifies nothing; reload and verify honour the filter; DDL on filter
-- columns is followed or refused; the filter means the same under any session settings.
CREATE EXTENSION store;
CREATE FUNCTION err(cmd text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE cmd;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- errd(sql): as err, with the error's detail.
CREATE FUNCTION errd(cmd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE cmd;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END $$;
CREATE FUNCTION docs(key text) RETURNS text LANGUAGE sql AS $$
    SELECT (store_snapshot(key)::jsonb -> key)::text $$;

CREATE TABLE products (id int PRIMARY KEY, name text, active int, price numeric, added timestamptz,
                       code text COLLATE "C", secret text);
INSERT INTO products VALUES (1, 'one', 1, 10, '2026-01-01 00:00+00', 'a', 's1'),
                            (2, 'two', 0, 20, '2026-01-02 00:00+00', 'b', 's2'),
                            (3, 'three', NULL, 30, NULL, 'c', 's3');

-- Registration refuses what a publication row filter may not contain, each with its SQLSTATE.
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE typed (id int PRIMARY KEY, p positive, t text COLLATE "C");
CREATE FUNCTION my_true(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE FUNCTION my_eq(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = my_eq);
CREATE COLLATION my_collation (provider = libc, locale = 'C');
SELECT f AS filter, errd(format('SELECT store_register(%L, %L, filter => %L)', 'bad', 'products', f)) AS result
  FROM unnest(ARRAY[
    'nope = 1',                                  -- unknown column
    'products.nope = 1',
    'other.id = 1',                              -- another table
    'xmin::text = ''1''',                        -- system columns
    'ctid = ''(0,1)''',
    'products IS NOT NULL',                      -- the whole row
    'added > now()',                             -- not immutable
    'random() > 0.5',
    'added::date = ''2026-01-01''',              -- a stable cast (depends on TimeZone)
    'added > ''2026-01-01''::text::timestamptz', -- an I/O cast (stable)
    'price::text = ''10''',
    'my_true(id)',                               -- user-defined function, operator, collation:
    'id === 1',                                  -- names resolve in pg_catalog only, and
    'code COLLATE my_collation = ''a''',         -- qualified they are refused
    'public.my_true(id)',
    'id OPERATOR(public.===) 1',
    'code COLLATE public.my_collation = ''a''',
    'id IN (SELECT 1)',                          -- subqueries
    'EXISTS (SELECT FROM pg_class)',
    'count(*) > 0',                              -- aggregates, window and set-returning functions
    'row_number() OVER () = 1',
    'generate_series(1, id) > 1',
    'id',                                        -- not boolean
    'name',
    '$1 = 1',                                    -- parameters
    '',                                          -- not one expression
    'true, false',
    'true AS x',
    'true FROM pg_class',
    'true; DROP TABLE products',
    'true UNION SELECT false',
    'id = '                                      -- syntax
  ]) AS f;
SELECT f AS filter, errd(format('SELECT store_register(%L, %L, filter => %L)', 'bad', 'typed', f)) AS result
  FROM unnest(ARRAY[
    'p > 0',                                     -- a domain is a user-defined type
    't = ''x'' COLLATE public.my_collation'
  ]) AS f;
SELECT count(*) AS keys, (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'store_bad%') AS triggers FROM store.keys;

-- Accepted: built-in immutable operators and functions, CASE, COALESCE, IN lists, IS NULL, casts
-- between built-in types without I/O, and a built-in collation. The stored filter is canonical
-- SQL over the table's columns.
SELECT err($$SELECT store_register('fine', 'products', filter => 'active = 1 AND lower(name) LIKE ''o%'' AND price BETWEEN 1 AND 100')$$);
SELECT filter FROM store.keys WHERE key = 'fine';
SELECT store_unregister('fine');
SELECT err($$SELECT store_register('fine', 'products', filter => 'coalesce(active, 0) IN (0, 1) OR CASE WHEN price > 5 THEN true ELSE false END')$$);
SELECT filter FROM store.keys WHERE key = 'fine';
SELECT store_unregister('fine');
SELECT err($$SELECT store_register('fine', 'products', filter => 'code = ''a'' COLLATE "C" AND active IS NOT NULL AND active::bigint > 0')$$);
SELECT filter FROM store.keys WHERE key = 'fine';
SELECT store_unregister('fine');

-- The 2- and 3-argument calls keep working, positionally and by name; filter combines with columns.
CREATE TABLE plain (id int PRIMARY KEY, v text);
INSERT INTO plain VALUES (1, 'x');
SELECT store_register('plain2', 'plain');
SELECT store_register('plain3', 'plain', ARRAY['id']);
SELECT store_register('plain4', 'plain', columns => ARRAY['v', 'id']);
SELECT store_register('plain5', 'plain', ARRAY['v', 'id'], 'v = ''x''');
SELECT key, columns, filter FROM store.keys WHERE key LIKE 'plain%' ORDER BY key;
SELECT docs('plain5');

-- A filtered key with chosen columns: the filter may read columns the documents leave out.
SELECT store_register('active', 'products', ARRAY['id', 'name'], filter => 'active = 1');
SELECT key, columns, filter FROM store.keys WHERE key = 'active';
SELECT docs('active');
SELECT store_version() AS v \gset

-- Entering logs C, leaving D, staying U (when the document changed), never matching nothing.
INSERT INTO products VALUES (4, 'four', 1, 40, NULL, 'd', 's4');      -- C 4
INSERT INTO products VALUES (5, 'five', 0, 50, NULL, 'e', 's5');      -- nothing
UPDATE products SET active = 1 WHERE id = 2;                            -- C 2
UPDATE products SET active = 0 WHERE id = 1;                            -- D 1
UPDATE products SET name = 'FOUR' WHERE id = 4;                         -- U 4
UPDATE products SET secret = 'new' WHERE id = 4;                        -- nothing (same document)
UPDATE products SET name = 'FIVE' WHERE id = 5;                         -- nothing (never matches)
UPDATE products SET active = NULL WHERE id = 3;                         -- nothing (NULL: no match)
UPDATE products SET id = 20 WHERE id = 2;                               -- D 2, C 20
UPDATE products SET id = 40, active = 0 WHERE id = 4;                   -- D 4 (leaves as it moves)
UPDATE products SET id = 50, active = 1 WHERE id = 5;                   -- C 50 (enters as it moves)
DELETE FROM products WHERE id = 1;                                      -- nothing (did not match)
DELETE FROM products WHERE id = 50;                                     -- D 50
SELECT cache_key, item_id, state FROM store_history(:'v') WHERE cache_key = 'active';
SELECT docs('active');
SELECT * FROM store_verify('active');
SELECT masked FROM (SELECT regexp_replace(store_changes(:'v')::text, '"version":"[^"]*"', '"version":"V"') AS masked) AS c;

-- A row that never matches notifies nothing: a notification would print here.
LISTEN store;
SELECT store_version() AS v \gset
UPDATE products SET name = 'forty' WHERE id = 40;
INSERT INTO products VALUES (6, 'six', 2, 60, NULL, 'f', 's6');
DELETE FROM products WHERE id = 6;
UNLISTEN store;
SELECT count(*) AS history_rows FROM store_history(:'v') WHERE cache_key = 'active';

-- Reload and verify honour the filter: a reload stores only matching rows, and a stored document
-- of a row outside the filter is reported as extra.
SELECT store_reload('active');
SELECT docs('active');
SELECT * FROM store_verify('active');
INSERT INTO store.entries (key, id, doc) VALUES ('active', '40', '{"id":40,"name":"forty"}');
SELECT cache_key, item_id, problem FROM store_verify('active');
SELECT store_reload('active');
SELECT * FROM store_verify('active');

-- The same answer under any session settings: the filter's constants were read (and are printed)
-- in UTC and ISO, and the trigger, the reload and store_verify evaluate it alike.
SET TimeZone = 'Pacific/Kiritimati';
SET DateStyle = 'SQL, DMY';
SELECT store_register('recent', 'products', ARRAY['id'], filter => 'added >= ''2026-01-02 00:00''');
RESET TimeZone;
RESET DateStyle;
SELECT filter FROM store.keys WHERE key = 'recent';
SET TimeZone = 'America/Los_Angeles';
SET DateStyle = 'German';
INSERT INTO products VALUES (7, 'seven', 1, 70, '2026-01-01 23:59:59+00', 'g', 's7'),
                            (8, 'eight', 1, 80, '2026-01-02 00:00:00+00', 'h', 's8');
SELECT docs('recent');
SELECT * FROM store_verify('recent');
SELECT store_reload('recent');
SELECT docs('recent');
RESET TimeZone;
RESET DateStyle;

-- The filter runs as the table's owner: a writer without SELECT on its columns writes as usual.
CREATE ROLE filter_writer;
GRANT INSERT ON products TO filter_writer;
SET ROLE filter_writer;
INSERT INTO products VALUES (9, 'nine', 1, 90, NULL, 'i', 's9'), (10, 'ten', 0, 100, NULL, 'j', 's10');
RESET ROLE;
SELECT docs('active');

-- A column added with a default after rows were written: old rows read the default.
CREATE TABLE flagged (id int PRIMARY KEY, v text);
INSERT INTO flagged VALUES (1, 'a');
ALTER TABLE flagged ADD COLUMN shown bool NOT NULL DEFAULT true;
SELECT store_register('flagged', 'flagged', filter => 'shown');
SELECT store_version() AS v \gset
UPDATE flagged SET v = 'b' WHERE id = 1;
SELECT cache_key, item_id, state FROM store_history(:'v');
SELECT * FROM store_verify('flagged');

-- DDL on filter columns. A rename is followed (the stored text names the new column).
SELECT store_register('coded', 'products', ARRAY['id'], filter => 'code < ''f''');
SELECT store_version() AS v \gset
ALTER TABLE products RENAME COLUMN active TO status;
SELECT key, filter FROM store.keys WHERE key = 'active';
SELECT count(*) AS history_rows FROM store_history(:'v');
UPDATE products SET status = 1 WHERE id = 10;
SELECT docs('active');
-- Dropping a filter column is refused, like dropping a chosen column.
SELECT err($$ALTER TABLE products DROP COLUMN status$$);
SELECT err($$ALTER TABLE products DROP COLUMN added$$);
-- A retype reads the filter again for the new type and rebuilds the key (U).
SELECT store_version() AS v \gset
ALTER TABLE products ALTER COLUMN status TYPE bigint;
SELECT key, filter FROM store.keys WHERE key = 'active';
SELECT cache_key, item_id, state FROM store_history(:'v') WHERE cache_key = 'active';
SELECT * FROM store_verify();
UPDATE products SET status = 0 WHERE id = 10;
SELECT docs('active');
-- A retype that leaves no such operator, or makes the filter's type user-defined, is refused.
SELECT errd($$ALTER TABLE products ALTER COLUMN status TYPE text$$);
SELECT errd($$ALTER TABLE products ALTER COLUMN status TYPE positive USING 1$$);
SELECT errd($$ALTER TABLE products ALTER COLUMN code TYPE text COLLATE my_collation$$);
SELECT key, filter FROM store.keys WHERE key IN ('active', 'coded', 'recent') ORDER BY key;
-- A retype to another built-in collation is read again and rebuilt.
ALTER TABLE products ALTER COLUMN code TYPE text COLLATE "POSIX";
SELECT key, filter FROM store.keys WHERE key = 'coded';
SELECT docs('coded');
-- Other columns change freely; an unregistered key's columns may go.
ALTER TABLE products DROP COLUMN secret;
SELECT store_unregister('recent');
ALTER TABLE products DROP COLUMN added;
SELECT * FROM store_verify();

-- Readers need no privilege on the filter's columns (they learn only that a stored row matches).
CREATE ROLE filter_reader;
GRANT SELECT (id, name) ON products TO filter_reader;
SET ROLE filter_reader;
SELECT docs('active');
RESET ROLE;
-- Under row-level security a reader sees the rows both the filter and the policies let through.
ALTER TABLE products ENABLE ROW LEVEL SECURITY;
CREATE POLICY small ON products FOR SELECT TO filter_reader USING (id < 20);
SET ROLE filter_reader;
SELECT docs('active');
SELECT store_get('active', '9'), store_get('active', '20'), store_get('active', '40');
RESET ROLE;
ALTER TABLE products DISABLE ROW LEVEL SECURITY;

-- A filter that fails at run time refuses the write, like a CHECK: nothing is half-done.
CREATE TABLE ratios (id int PRIMARY KEY, part int, whole int);
SELECT store_register('ratios', 'ratios', filter => 'part / whole > 0');
INSERT INTO ratios VALUES (1, 2, 1);
SELECT err($$INSERT INTO ratios VALUES (2, 1, 0)$$);
SELECT id, part, whole FROM ratios ORDER BY id;
SELECT count(*) AS documents FROM store.entries WHERE key = 'ratios';

DROP TABLE products, typed, plain, flagged, ratios;
DROP OWNED BY filter_writer, filter_reader;
DROP ROLE filter_writer, filter_reader;
DROP EXTENSION store CASCADE;
DROP OPERATOR === (int, int);
DROP FUNCTION err(text), errd(text), docs(text), my_true(int), my_eq(int, int);
DROP COLLATION my_collation;
DROP DOMAIN positive;
