-- Attack class: ids and documents that depend on the session. An id's identity is its key's
-- equality, never text printed after the session's settings: ids and documents are rendered
-- under fixed settings (TimeZone UTC, extra_float_digits 1, DateStyle ISO, IntervalStyle
-- postgres, bytea_output hex), and only key types whose rendering is canonical and injective
-- are accepted.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE ROLE atk_alice;
CREATE ROLE atk_carol;

-- float8 keys under row-level security: alice's 0.1 and carol's 0.10000000000000002 print alike
-- with extra_float_digits = 0. Carol must still see only her row, and cannot overwrite alice's.
CREATE TABLE fnotes (id float8 PRIMARY KEY, owner_name text NOT NULL, body text);
ALTER TABLE fnotes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON fnotes USING (owner_name = current_user) WITH CHECK (owner_name = current_user);
GRANT SELECT, INSERT ON fnotes TO atk_alice, atk_carol;
INSERT INTO fnotes VALUES (0.1, 'atk_alice', 'alice''s secret'), (0.10000000000000002, 'atk_carol', 'carol''s note');
SELECT store_register('fnotes', 'fnotes');
SELECT id::text, doc FROM store.entries WHERE key = 'fnotes' ORDER BY id;
SET ROLE atk_carol;
SET extra_float_digits = 0;
SELECT store_snapshot('fnotes')::jsonb -> 'fnotes' AS carol_sees;
SELECT store_get('fnotes', '0.1') AS alice_row_by_id;
SELECT store_get('fnotes', '0.10000000000000002') AS own_row_by_id;
SET extra_float_digits = -15;
INSERT INTO fnotes VALUES (0.1000000000000001, 'atk_carol', 'forged?');
RESET extra_float_digits;
RESET ROLE;
SELECT id::text, doc FROM store.entries WHERE key = 'fnotes' ORDER BY id;
SELECT count(*) AS problems FROM store_verify('fnotes');

-- timestamptz keys: a row inserted under one time zone and deleted under another leaves nothing.
CREATE TABLE events (at timestamptz PRIMARY KEY, what text);
SELECT store_register('moments', 'events');
SET TimeZone = 'UTC';
INSERT INTO events VALUES ('2026-03-29 00:30:00+00', 'dst switch');
SET TimeZone = 'Europe/Berlin';
SELECT id::text, doc FROM store.entries WHERE key = 'moments';
SELECT store_get('moments', '2026-03-29T00:30:00+00:00') AS by_rendered_id;
DELETE FROM events;
RESET TimeZone;
SELECT count(*) AS entries_left FROM store.entries WHERE key = 'moments';
SELECT count(*) AS problems FROM store_verify('moments');

-- Key types whose ids print alike for different keys, or differently in other sessions, are
-- refused: reg* types (printed after the search_path), arrays ('[0:1]={1,2}' and '{1,2}' differ),
-- intervals, bytea, enums (labels can be renamed), composites and json.
CREATE TABLE by_regclass (id regclass PRIMARY KEY);
CREATE TABLE by_array (id int[] PRIMARY KEY);
CREATE TABLE by_interval (id interval PRIMARY KEY);
CREATE TABLE by_bytea (id bytea PRIMARY KEY);
CREATE TYPE mood AS ENUM ('calm', 'angry');
CREATE TABLE by_enum (id mood PRIMARY KEY);
SELECT err($$SELECT store_register('by_regclass', 'by_regclass')$$);
SELECT err($$SELECT store_register('by_array', 'by_array')$$);
SELECT err($$SELECT store_register('by_interval', 'by_interval')$$);
SELECT err($$SELECT store_register('by_bytea', 'by_bytea')$$);
SELECT err($$SELECT store_register('by_enum', 'by_enum')$$);
-- A domain over an accepted type is accepted; retyping the key to a refused type is refused.
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE by_domain (id positive PRIMARY KEY, n int);
SELECT store_register('by_domain', 'by_domain');
SELECT err($$ALTER TABLE by_domain ALTER COLUMN id TYPE int[] USING ARRAY[id]$$);

-- Documents: one text per row whoever wrote it. Written under odd settings, read under others.
CREATE TABLE docs (id int PRIMARY KEY, at timestamptz, f float8, r real, iv interval, b bytea,
                   span tstzrange, d date, arr float8[]);
SELECT store_register('docs', 'docs');
SET TimeZone = 'Asia/Tokyo';
SET extra_float_digits = -3;
SET IntervalStyle = 'sql_standard';
SET bytea_output = 'escape';
SET DateStyle = 'SQL, DMY';
INSERT INTO docs VALUES (1, '2026-01-02 03:04:05+00', 0.1::float8 + 0.2::float8, 1.1, '1 day 2 hours', '\x00ff',
                         '[2026-01-01 00:00+00, 2026-01-02 00:00+00)', '2026-01-02', ARRAY[0.1::float8 + 0.2::float8]);
SELECT store_get('docs', '1') AS written_in_tokyo;
RESET ALL;
SELECT doc FROM store.entries WHERE key = 'docs';
SELECT count(*) AS problems FROM store_verify('docs');
SET TimeZone = 'America/New_York';
SET DateStyle = 'German';
UPDATE docs SET d = d;
SELECT count(*) AS problems_seen_from_new_york FROM store_verify('docs');
SELECT store_get('docs', '1')::text = (SELECT doc::text FROM store.entries WHERE key = 'docs') AS same_text;
RESET ALL;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE fnotes, events, by_regclass, by_array, by_interval, by_bytea, by_enum, by_domain, docs;
DROP TYPE mood;
DROP DOMAIN positive;
DROP ROLE atk_alice, atk_carol;
DROP FUNCTION err(text);
