-- Every real table: composite primary keys (ids are JSON arrays of the key values, in key-column
-- order) and partitioned tables registered at their root.
CREATE EXTENSION store;
CREATE FUNCTION err(cmd text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE cmd;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- verified(): store_verify() finds nothing, over every key.
CREATE FUNCTION verified() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(cache_key || ' ' || coalesce(item_id, '-') || ' ' || problem, '; '), 'verified')
      FROM store_verify()
$$;

---------------------------------------------------------------------------------------------
-- Composite primary keys
---------------------------------------------------------------------------------------------

-- A join table: ids are [actor_id, film_id], in key-column order (not column order).
CREATE TABLE film_actor (film_id int, actor_id int, last_update timestamptz NOT NULL DEFAULT '2020-01-01 10:00+02',
                         PRIMARY KEY (actor_id, film_id));
INSERT INTO film_actor (actor_id, film_id) VALUES (1, 23), (1, 5), (2, 1), (10, 2), (2, 100);
SELECT store_register('film_actor', 'film_actor');
SELECT id_type, shape FROM store.keys WHERE key = 'film_actor';
SELECT id, doc FROM store.entries WHERE key = 'film_actor' ORDER BY id;
SELECT verified();

-- C, U, D and a key change (D + C) carry the array id; item_id is its text.
SELECT store_version() AS v0 \gset
INSERT INTO film_actor (actor_id, film_id) VALUES (3, 4);
UPDATE film_actor SET last_update = '2021-06-01 00:00+00' WHERE actor_id = 1 AND film_id = 5;
UPDATE film_actor SET film_id = 6 WHERE actor_id = 1 AND film_id = 5;
DELETE FROM film_actor WHERE actor_id = 2 AND film_id = 1;
SELECT cache_key, item_id, state FROM store_history(:'v0');
SELECT verified();

-- store_changes lists deleted ids as arrays.
SELECT store_changes(:'v0')::jsonb #> '{changes,film_actor}' AS changes;

-- store_get reads [1,23] (numbers or strings, any spacing); wrong shapes are refused.
SELECT store_get('film_actor', '[1,23]');
SELECT store_get('film_actor', '[ "1" , "23" ]');
SELECT store_get('film_actor', '[23,1]') AS wrong_order;
SELECT err($$SELECT store_get('film_actor', '[1]')$$);
SELECT err($$SELECT store_get('film_actor', '1')$$);
SELECT err($$SELECT store_get('film_actor', '[1,2,3]')$$);
SELECT err($$SELECT store_get('film_actor', '[1,[2]]')$$);
SELECT err($$SELECT store_get('film_actor', '[1,null]')$$);
SELECT err($$SELECT store_get('film_actor', '[1,"x"]')$$);
SELECT err($$SELECT store_get('film_actor', 'not json')$$);

-- Snapshots come in key order: actor_id, then film_id (numerically: 2 < 10, 6 < 23 < 100).
SELECT json_array_elements(store_snapshot('film_actor') -> 'film_actor') ->> 'actor_id' AS actor,
       json_array_elements(store_snapshot('film_actor') -> 'film_actor') ->> 'film_id' AS film;

-- Key columns of other types: each element in its type's input syntax, as to_json renders it.
CREATE TABLE stamped (at timestamptz, label text, n numeric, day date, flag boolean, u uuid,
                      note text, PRIMARY KEY (at, label, n, day, flag, u));
INSERT INTO stamped VALUES ('2020-01-01 00:00:00.5+00', 'x "quoted"', 1.50, '2020-02-29', true,
                            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'first');
SELECT store_register('stamped', 'stamped');
SET TimeZone = 'America/New_York';
SET DateStyle = 'German';
INSERT INTO stamped VALUES ('2020-01-01 00:00:00+00', 'y', -2, '2019-12-31', false,
                            '00000000-0000-0000-0000-000000000000', 'second');
SELECT id FROM store.entries WHERE key = 'stamped' ORDER BY id;
SELECT store_get('stamped', (SELECT id::text FROM store.entries WHERE key = 'stamped' AND doc->>'note' = 'first'));
SELECT store_get('stamped', '["2019-12-31T19:00:00-05:00", "y", -2.0, "2019-12-31", false, "00000000-0000-0000-0000-000000000000"]') AS other_spelling;
RESET TimeZone;
RESET DateStyle;
SELECT verified();

-- Every key column needs a canonical key type; deferrable keys stay refused.
CREATE TABLE badpart (a int, b interval, PRIMARY KEY (a, b));
SELECT err($$SELECT store_register('badpart', 'badpart')$$);
CREATE TABLE deferred_pair (a int, b int, PRIMARY KEY (a, b) DEFERRABLE);
SELECT err($$SELECT store_register('deferred_pair', 'deferred_pair')$$);

-- Chosen columns may leave the key out; ids still hold it.
CREATE TABLE film_category (film_id int, category_id int, note text, PRIMARY KEY (film_id, category_id));
INSERT INTO film_category VALUES (1, 2, 'a'), (1, 1, 'b');
SELECT store_register('film_notes', 'film_category', columns => ARRAY['note']);
SELECT id, doc FROM store.entries WHERE key = 'film_notes' ORDER BY id;
UPDATE film_category SET note = 'c' WHERE film_id = 1 AND category_id = 1;
SELECT store_get('film_notes', '[1,1]');
SELECT verified();

-- DDL: renaming a key column keeps the ids; a changed key (a new column in it) rebuilds them.
ALTER TABLE film_category RENAME COLUMN category_id TO cat_id;
SELECT id_type, shape FROM store.keys WHERE key = 'film_notes';
ALTER TABLE film_category ADD COLUMN extra int NOT NULL DEFAULT 0;
ALTER TABLE film_category DROP CONSTRAINT film_category_pkey, ADD PRIMARY KEY (film_id, cat_id, extra);
SELECT id_type, shape FROM store.keys WHERE key = 'film_notes';
SELECT id FROM store.entries WHERE key = 'film_notes' ORDER BY id;
SELECT verified();
-- back to a single-column key: scalar ids again
ALTER TABLE film_category DROP CONSTRAINT film_category_pkey,
    ADD COLUMN serial_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
SELECT id_type, shape FROM store.keys WHERE key = 'film_notes';
SELECT id FROM store.entries WHERE key = 'film_notes' ORDER BY id;
SELECT verified();

-- Row-level security on a composite-key table: readers see their rows only.
CREATE TABLE grants (owner_name text, item int, note text, PRIMARY KEY (owner_name, item));
INSERT INTO grants VALUES ('store_tables_ann', 1, 'a1'), ('someone', 1, 's1'), ('store_tables_ann', 2, 'a2');
ALTER TABLE grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_grants ON grants FOR SELECT USING (owner_name = current_user);
SELECT store_register('grants', 'grants');
CREATE ROLE store_tables_ann;
GRANT SELECT ON grants TO store_tables_ann;
SET ROLE store_tables_ann;
SELECT store_snapshot('grants') -> 'grants' AS visible;
SELECT store_get('grants', '["store_tables_ann", 2]') AS mine;
SELECT store_get('grants', '["someone", 1]') AS not_mine;
RESET ROLE;
