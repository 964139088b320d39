-- Nested keys keep the plans of their lookups and renders for the backend (issue 11, speed): DDL
-- on the tables a shape reaches, in the same session, must not leave a plan that reads a dropped
-- index or passes values of a column's old type. Each round writes through every lookup (a child
-- changed, moved; a to-one target renamed) in separate transactions, more than the plan cache's
-- five custom plans; then every document equals the on-the-fly query and store_verify() is empty.
-- Readers keep each nested key's resolved shape likewise: a table dropped and created again under
-- its name is the new table for the next read.
CREATE EXTENSION store;
SET jit = off;
CREATE TABLE region (id int PRIMARY KEY, name text);
CREATE TABLE pa (id int PRIMARY KEY, name text, region_id int REFERENCES region);
CREATE INDEX ON pa (region_id);
CREATE TABLE ca (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES pa, qty int);
CREATE INDEX ca_parent ON ca (parent_id);
INSERT INTO region VALUES (1, 'north'), (2, 'south');
INSERT INTO pa SELECT g, 'p' || g, g % 2 + 1 FROM generate_series(1, 20) g;
INSERT INTO ca SELECT g, g % 20 + 1, g FROM generate_series(1, 200) g;
SELECT store_register('a', 'pa', shape => 'id,name,region:region(name),children:ca(id,qty)');

CREATE PROCEDURE churn(round int, region bigint DEFAULT 1) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 8 LOOP
        UPDATE ca SET qty = qty + 1 WHERE id = i;
        UPDATE region SET name = 'north ' || round || '.' || i WHERE id = churn.region;
        UPDATE ca SET parent_id = parent_id % 20 + 1 WHERE id = i + 10;
        COMMIT;
    END LOOP;
END $$;
-- check_docs(key): the documents against the shape's query, and store_verify() (shared).
\getenv abs_srcdir PG_ABS_SRCDIR
\set nested_checks_sql :abs_srcdir '/sql/include/nested_checks.sql'
\i :nested_checks_sql

CALL churn(1);
SELECT check_docs('a');
-- the children's lookup and the render read the index dropped here
DROP INDEX ca_parent;
CALL churn(2);
SELECT check_docs('a');
-- the children's lookup takes parent_id's values: bigint[] from now on
ALTER TABLE ca ALTER COLUMN parent_id TYPE bigint;
CALL churn(3);
SELECT check_docs('a');
-- the region's lookup takes region.id's values (bigint[]) and joins pa.region_id (bigint)
ALTER TABLE pa ALTER COLUMN region_id TYPE bigint;
ALTER TABLE region ALTER COLUMN id TYPE bigint;
INSERT INTO region VALUES (5000000001, 'far');
UPDATE pa SET region_id = 5000000001 WHERE id = 11; -- no child of 11 changes in churn
CALL churn(4, 5000000001);
SELECT check_docs('a');
SELECT e.doc FROM store.entries AS e WHERE e.key = 'a' AND e.id = '11';

-- A reader who may read the key, which keeps its resolved shape; the embedded table is replaced
-- by one the reader may not select: the key is refused from then on.
CREATE ROLE store_kept_reader;
GRANT USAGE ON SCHEMA store TO store_kept_reader;
GRANT SELECT ON pa, ca, region TO store_kept_reader;
SET ROLE store_kept_reader;
SELECT store_get('a', '11') IS NOT NULL AS readable;
RESET ROLE;
SELECT store_unregister('a');
DROP TABLE ca;
CREATE TABLE ca (id int PRIMARY KEY, parent_id bigint NOT NULL REFERENCES pa, qty int);
CREATE INDEX ON ca (parent_id);
SELECT store_register('a', 'pa', shape => 'id,name,region:region(name),children:ca(id,qty)');
SET ROLE store_kept_reader;
SELECT store_get('a', '11') IS NOT NULL AS readable;
RESET ROLE;
GRANT SELECT ON ca TO store_kept_reader;
SET ROLE store_kept_reader;
SELECT store_get('a', '11') AS doc;
RESET ROLE;

SELECT store_unregister('a');
DROP TABLE ca, pa, region;
DROP PROCEDURE churn(int, bigint);
DROP FUNCTION check_docs(text), changes();
DROP TABLE mark;
DROP EXTENSION store CASCADE;
DROP ROLE store_kept_reader;
