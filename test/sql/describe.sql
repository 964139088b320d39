-- store_describe(key): each key the caller may read, its id and the JSON Schema (2020-12) of one
-- document, from column types (through domains, arrays, composites, enums) and nested shapes; keys
-- the caller may not read are left out, or refused by name (42501); unknown keys 42704.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER TYPE mood ADD VALUE 'happy' BEFORE 'ok';   -- labels in sort order, not creation order
CREATE TYPE point2 AS (x real, label mood);
CREATE DOMAIN positive AS int NOT NULL CHECK (VALUE > 0);
CREATE TABLE things (
    id int PRIMARY KEY, small smallint, big bigint NOT NULL, price numeric(10,2), ratio float8,
    flag boolean, name text NOT NULL, code varchar(8), data json, meta jsonb, tags int[],
    at timestamptz, local_at timestamp, day date, uid uuid, feeling mood, spot point2,
    count positive, span interval, secret text);
INSERT INTO things VALUES (1, 2, 3, 4.50, 'NaN', true, 'a', 'b', '[1]', '{"k": null}', '{1,NULL}',
    '2026-01-02 03:04:05+00', '2026-01-02 03:04:05', '2026-01-02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    'happy', '(1.5,ok)', 7, '1 day', 's');
SELECT store_register('things', 'things');
CREATE TABLE pairs (a int, b text, note text, PRIMARY KEY (a, b));
INSERT INTO pairs VALUES (1, 'x', NULL);
SELECT store_register('pairs', 'pairs', columns => ARRAY['note', 'b', 'a']);

-- a nested key: many-to-one (nullable object), one-to-many and many-to-many (arrays)
CREATE TABLE language (language_id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE film (film_id int PRIMARY KEY, title text NOT NULL, language_id int REFERENCES language);
CREATE INDEX ON film (language_id);
CREATE TABLE actor (actor_id int PRIMARY KEY, name text);
CREATE TABLE film_actor (actor_id int REFERENCES actor, film_id int REFERENCES film, PRIMARY KEY (actor_id, film_id));
CREATE INDEX ON film_actor (film_id);
CREATE TABLE inventory (inventory_id int PRIMARY KEY, film_id int NOT NULL REFERENCES film);
CREATE INDEX ON inventory (film_id);
INSERT INTO language VALUES (1, 'English');
INSERT INTO film VALUES (1, 'Academy', 1), (2, 'Unknown', NULL);
INSERT INTO actor VALUES (1, 'Penelope');
INSERT INTO film_actor VALUES (1, 1);
INSERT INTO inventory VALUES (10, 1);
SELECT store_register('films', 'film',
    shape => 'film_id,title,language(name),actors:actor(actor_id,name),copies:inventory(inventory_id)');

-- Every key, in name order.
SELECT json_object_keys(store_describe()) AS described;
SELECT jsonb_pretty(store_describe('things')::jsonb) AS things;
SELECT jsonb_pretty(store_describe('pairs')::jsonb) AS pairs;
SELECT jsonb_pretty(store_describe('films')::jsonb) AS films;
SELECT store_describe()::text = store_describe(NULL)::text AS null_is_all;

-- Every document carries exactly the keys its schema requires, in that order.
SELECT key, bool_and(ARRAY(SELECT json_object_keys(doc)) =
                     ARRAY(SELECT json_array_elements_text(store_describe(key) -> key -> 'schema' -> 'required')))
           AS documents_match
  FROM (SELECT k AS key, json_array_elements(s -> k) AS doc
          FROM (SELECT store_snapshot() AS s) AS snap, json_object_keys(store_describe()) AS k) AS d
 GROUP BY key ORDER BY key;

-- A role that may read only pairs (its columns, column by column): the other keys are left out,
-- and naming one is 42501; an unknown key is 42704, NULL means every key.
CREATE ROLE store_describe_reader;
GRANT SELECT (a, b, note) ON pairs TO store_describe_reader;
SET ROLE store_describe_reader;
SELECT json_object_keys(store_describe()) AS readable;
SELECT err($$SELECT store_describe('things')$$);
SELECT err($$SELECT store_describe('films')$$);
SELECT err($$SELECT store_describe('nope')$$);
RESET ROLE;
-- The nested key needs SELECT on every column its shape reads, in every table.
GRANT SELECT ON film, language, actor, film_actor TO store_describe_reader;
SET ROLE store_describe_reader;
SELECT json_object_keys(store_describe()) AS still_not_films;
RESET ROLE;
GRANT SELECT ON inventory TO store_describe_reader;
SET ROLE store_describe_reader;
SELECT json_object_keys(store_describe()) AS now_films;
RESET ROLE;

-- The description follows the registration: a column added to a key of all columns shows.
ALTER TABLE pairs ADD COLUMN extra int;
ALTER TABLE things ADD COLUMN added text[];
SELECT store_describe('things') -> 'things' -> 'schema' -> 'properties' -> 'added' AS added_column;
SELECT store_describe('pairs') -> 'pairs' -> 'schema' -> 'required' AS chosen_columns_only;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE things, pairs, inventory, film_actor, actor, film, language;
DROP TYPE point2, mood;
DROP DOMAIN positive;
DROP OWNED BY store_describe_reader;
DROP ROLE store_describe_reader;
DROP FUNCTION err(text);
