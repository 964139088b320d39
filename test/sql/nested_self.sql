-- Self-references in nested keys (issue 11), by PostgREST's rules: a table embedded in itself by
-- its name shows the rows whose foreign key points to the parent row (one-to-many, or
-- many-to-many through a junction with two foreign keys to it); embedded by the foreign key's
-- column, the row it points to (many-to-one). Kept current like any key: each document once per
-- transaction with its net change; renames followed. After each step every document equals the
-- on-the-fly nested query and store_verify() is empty.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
SET jit = off;
SET client_min_messages = warning;

CREATE TABLE employee (id int PRIMARY KEY, name text,
                       manager_id int REFERENCES employee ON DELETE CASCADE);
CREATE INDEX ON employee (manager_id);
CREATE TABLE friendship (a_id int REFERENCES employee ON DELETE CASCADE, b_id int REFERENCES employee ON DELETE CASCADE,
                         PRIMARY KEY (a_id, b_id));
CREATE INDEX ON friendship (b_id);
INSERT INTO employee VALUES (1, 'Ann', NULL), (2, 'Bob', 1), (3, 'Cy', 1), (4, 'Di', 2);
INSERT INTO friendship VALUES (2, 3), (4, 1);

-- The manager (by the key's column, two levels up), the reports (by the table's name and the
-- key's column as hint), the friends through the junction (hinted by its foreign key to them).
SELECT store_register('e', 'employee', shape =>
    'id,name,manager:manager_id(name,manager_id(name)),reports:employee!manager_id(id,name),friends:employee!friendship_b_id_fkey(name)');
SELECT path, kind, constraint_name, junction, far_constraint_name, join_columns FROM store_explain('e');
SELECT id, doc FROM store.entries WHERE key = 'e' ORDER BY id;
-- Without a hint the junction's two directions are two candidates.
SELECT err($$SELECT store_register('x', 'employee', shape => 'id,friends:employee!friendship(name)')$$);

\set nested_checks_sql :abs_srcdir '/sql/include/nested_checks.sql'
\i :nested_checks_sql

-- A name shown as a manager two levels up, as a report and as a friend: every document showing it.
UPDATE employee SET name = 'Anne' WHERE id = 1;
SELECT * FROM changes();
SELECT check_docs('e');
-- A move to another manager: the old and new manager, the one moved, and those it manages.
UPDATE employee SET manager_id = 3 WHERE id = 2;
SELECT * FROM changes();
SELECT store_get('e', '2'), store_get('e', '4');
SELECT check_docs('e');
-- In one transaction: a new report added, moved and removed again; a friendship: each document
-- once, with its net change (the new row, created and deleted, logs nothing).
BEGIN;
INSERT INTO employee VALUES (5, 'Ed', 4);
UPDATE employee SET manager_id = 3 WHERE id = 5;
DELETE FROM employee WHERE id = 5;
INSERT INTO friendship VALUES (3, 4);
COMMIT;
SELECT * FROM changes();
SELECT check_docs('e');
-- A cascaded delete down the tree: Cy's reports (Bob, then Di) go with Cy.
DELETE FROM employee WHERE id = 3;
SELECT * FROM changes();
SELECT id, doc FROM store.entries WHERE key = 'e' ORDER BY id;
SELECT check_docs('e');
-- Renames: the key's column names the manager's embedding (a key that follows, as a column's) and
-- hints the reports; the junction's foreign key hints the friends.
INSERT INTO employee VALUES (2, 'Bob', 1), (4, 'Di', 2);
INSERT INTO friendship VALUES (4, 1);
UPDATE mark SET seq = (SELECT max(seq) FROM store.history);
ALTER TABLE employee RENAME COLUMN manager_id TO boss_id;
ALTER TABLE friendship RENAME CONSTRAINT friendship_b_id_fkey TO befriended;
ALTER TABLE employee RENAME TO staff;
SELECT nested FROM store.keys WHERE key = 'e';
SELECT * FROM changes();
SELECT store_get('e', '4');
SELECT count(*) AS differences FROM store_verify('e');
-- TRUNCATE: one key-level U.
TRUNCATE staff CASCADE;
SELECT * FROM changes();
SELECT count(*) AS documents FROM store.entries WHERE key = 'e';

SELECT store_unregister('e');
DROP TABLE mark, friendship, staff;
DROP FUNCTION changes(), check_docs(text);
DROP EXTENSION store CASCADE;
DROP FUNCTION err(text);
