-- Reverse lookups of nested document shapes (issue 11): for each place a table occurs in a shape,
-- store._reverse_lookups gives the statement mapping that table's changed rows to the ids of the
-- root rows whose documents show them. Checked against brute force: for every row of every table
-- a shape reaches, the ids its values look up must be exactly the roots whose document, rendered by
-- store._shape_query, changes when that row alone is deleted (in a rolled-back subtransaction,
-- with the foreign keys' triggers off so that nothing else changes).
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

---------------------------------------------------------------------------------------------
-- A Pagila-like schema
---------------------------------------------------------------------------------------------
CREATE SCHEMA pagila;
SET search_path = pagila, public;
-- The tables are never analyzed: their default estimates would have every brute-force query
-- compiled by JIT (a second each).
SET jit = off;

CREATE TABLE language (language_id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE film (film_id int PRIMARY KEY, title text NOT NULL,
                   language_id int NOT NULL REFERENCES language,
                   original_language_id int REFERENCES language);
CREATE TABLE film_detail (film_id int PRIMARY KEY REFERENCES film, synopsis text);
CREATE TABLE actor (actor_id int PRIMARY KEY, first_name text, last_name text);
CREATE TABLE film_actor (actor_id int REFERENCES actor, film_id int REFERENCES film, PRIMARY KEY (actor_id, film_id));
CREATE TABLE category (category_id int PRIMARY KEY, name text);
CREATE TABLE film_category (film_id int REFERENCES film, category_id int REFERENCES category,
                            PRIMARY KEY (film_id, category_id));
CREATE TABLE inventory (inventory_id int PRIMARY KEY, film_id int REFERENCES film, store_id int);
-- a bigint foreign key to film's int key: ids must still render as film's own column does
CREATE TABLE film_review (review_id int PRIMARY KEY, film_id bigint REFERENCES film, stars int);
CREATE TABLE country (country_id int PRIMARY KEY, country text);
CREATE TABLE city (city_id int PRIMARY KEY, city text, country_id int REFERENCES country);
CREATE TABLE address (address_id int PRIMARY KEY, address text, city_id int REFERENCES city);
CREATE TABLE customer (customer_id int PRIMARY KEY, first_name text, address_id int REFERENCES address);
-- partitioned, with a composite primary key; two composite foreign keys to it, one in another order
CREATE TABLE rental (rental_id int, rental_date date, inventory_id int REFERENCES inventory,
                     customer_id int REFERENCES customer, PRIMARY KEY (rental_id, rental_date))
    PARTITION BY RANGE (rental_date);
CREATE TABLE rental_2022 PARTITION OF rental FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE TABLE rental_2023 PARTITION OF rental FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE payment (payment_id int PRIMARY KEY, rental_id int, rental_date date, amount numeric(5,2),
                      FOREIGN KEY (rental_id, rental_date) REFERENCES rental);
CREATE TABLE refund (refund_id int PRIMARY KEY, rental_date date, rental_id int,
                     FOREIGN KEY (rental_date, rental_id) REFERENCES rental (rental_date, rental_id));
-- a numeric key: 5.00 references 5.0, which renders otherwise
CREATE TABLE gauge (gauge_id numeric PRIMARY KEY, name text);
CREATE TABLE reading (reading_id int PRIMARY KEY, gauge_id numeric REFERENCES gauge, value int);

INSERT INTO language VALUES (1, 'English'), (2, 'Italian'), (3, 'Japanese'), (4, 'Klingon');
INSERT INTO film VALUES (1, 'Academy Dinosaur', 1, NULL), (2, 'Ace Goldfinger', 1, 2),
                        (3, 'Adaptation Holes', 3, 1), (4, 'Affair Prejudice', 2, 2), (5, 'Agent Truman', 1, NULL);
INSERT INTO film_detail VALUES (1, 'An epic drama'), (3, 'A quirky tale');
INSERT INTO actor VALUES (1, 'Penelope', 'Guiness'), (2, 'Nick', 'Wahlberg'), (3, 'Ed', 'Chase'), (4, 'Lonely', 'Nobody');
INSERT INTO film_actor VALUES (3, 1), (1, 1), (2, 1), (2, 2), (1, 3), (1, 4);
INSERT INTO category VALUES (1, 'Action'), (2, 'Animation'), (3, 'Children');
INSERT INTO film_category VALUES (1, 3), (1, 2), (2, 1), (4, 2);
INSERT INTO inventory VALUES (10, 1, 1), (11, 1, 2), (12, 2, 1), (13, 4, 2), (14, NULL, 3);
INSERT INTO film_review VALUES (1, 1, 5), (2, 1, 3), (3, 4, 4), (4, NULL, 1);
INSERT INTO country VALUES (1, 'Italy'), (2, 'Japan'), (3, 'Atlantis');
INSERT INTO city VALUES (1, 'Rome', 1), (2, 'Tokyo', 2), (3, 'Milan', 1), (4, 'Nowhere', NULL);
INSERT INTO address VALUES (1, 'Via Appia 1', 1), (2, '1 Chiyoda', 2), (3, 'Via Roma 2', 3), (4, 'Deep sea', 4),
                           (5, 'Via Appia 3', 1), (6, 'Homeless', NULL);
INSERT INTO customer VALUES (1, 'Mary', 1), (2, 'Patricia', 2), (3, 'Linda', 3), (4, 'Barbara', 4),
                            (5, 'Liz', NULL), (6, 'Ann', 5);
INSERT INTO rental VALUES (100, '2022-05-01', 10, 1), (101, '2023-02-01', 12, 1), (102, '2022-07-01', 11, 2),
                          (100, '2023-05-01', 13, 3), (103, '2023-06-01', NULL, NULL), (104, '2022-08-01', 14, 6);
INSERT INTO payment VALUES (1000, 100, '2022-05-01', 2.99), (1001, 100, '2022-05-01', 1.00),
                           (1002, 102, '2022-07-01', 4.99), (1003, 100, '2023-05-01', 0.99),
                           (1004, NULL, NULL, 9.99), (1005, 103, NULL, 1.50);
INSERT INTO refund VALUES (1, '2022-05-01', 100), (2, '2023-05-01', 100), (3, NULL, 101);
INSERT INTO gauge VALUES (5.0, 'five'), (7, 'seven');
INSERT INTO reading VALUES (1, 5.00, 10), (2, 5, 11), (3, 7.000, 12), (4, NULL, 13);

---------------------------------------------------------------------------------------------
-- The check
---------------------------------------------------------------------------------------------

-- Every root's document, as {"<id as jsonb text>": "<document text>"}.
CREATE FUNCTION documents(source regclass, shape text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    docs jsonb;
BEGIN
    EXECUTE format('SELECT coalesce(jsonb_object_agg((%s)::text, (%s)::text), ''{}'') FROM %s AS t',
                   store._id_expression(source), store._shape_query(source, shape, 't'), source) INTO docs;
    RETURN docs;
END $$;

-- The ids (as jsonb text, sorted) lookup_sql returns for the row of tab at (row_table, row_ctid):
-- each $n becomes the one-element array of that row's value of columns[n].
CREATE FUNCTION lookup_ids(lookup_sql text, columns text[], tab regclass, row_table oid, row_ctid tid)
    RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    query text := lookup_sql;
    ids text[];
BEGIN
    FOR n IN REVERSE cardinality(columns) .. 1 LOOP
        query := replace(query, '$' || n, format('(SELECT ARRAY[x.%I] FROM %s AS x WHERE x.tableoid = %s AND x.ctid = %L)',
                                                 columns[n], tab, row_table, row_ctid));
    END LOOP;
    EXECUTE format('SELECT coalesce(array_agg(l.id::text ORDER BY l.id::text), ''{}'') FROM (%s) AS l', query) INTO ids;
    RETURN ids;
END $$;

-- The ids (sorted) whose documents change when that row alone is deleted (rolled back after).
CREATE FUNCTION affected_ids(source regclass, shape text, tab regclass, row_table oid, row_ctid tid)
    RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := documents(source, shape);
    after jsonb;
BEGIN
    BEGIN
        PERFORM set_config('session_replication_role', 'replica', true);  -- no cascades, no checks
        EXECUTE format('DELETE FROM %s AS x WHERE x.tableoid = $1 AND x.ctid = $2', tab) USING row_table, row_ctid;
        after := documents(source, shape);
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'triggered_action_exception';
    EXCEPTION WHEN triggered_action_exception THEN
        NULL;
    END;
    RETURN (SELECT coalesce(array_agg(k ORDER BY k), '{}')
              FROM (SELECT jsonb_object_keys(before) UNION SELECT jsonb_object_keys(after)) AS ks(k)
             WHERE before -> k IS DISTINCT FROM after -> k);
END $$;

-- Per table the shape reaches: its occurrences, its rows, how many are shown in some document,
-- and each row whose lookups (over all its occurrences) differ from the brute force.
CREATE FUNCTION check_lookups(source regclass, shape text)
    RETURNS TABLE (table_name regclass, occurrences int, row_count int, rows_shown int, wrong text[])
    LANGUAGE plpgsql AS $$
DECLARE
    tab regclass;
    r record;
    expected text[];
    actual text[];
BEGIN
    FOR tab, occurrences IN
        SELECT l.table_name, count(*) FROM store._reverse_lookups(source, shape) AS l
         GROUP BY l.table_name ORDER BY min(l.path), l.table_name::text
    LOOP
        table_name := tab;
        row_count := 0;
        rows_shown := 0;
        wrong := '{}';
        FOR r IN EXECUTE format('SELECT x.tableoid AS t, x.ctid AS c, to_jsonb(x) AS v FROM %s AS x', tab) LOOP
            expected := affected_ids(source, shape, tab, r.t, r.c);
            SELECT coalesce(array_agg(DISTINCT i ORDER BY i), '{}') INTO actual
              FROM store._reverse_lookups(source, shape) AS l,
                   unnest(lookup_ids(l.lookup_sql, l.columns, tab, r.t, r.c)) AS i
             WHERE l.table_name = tab;
            row_count := row_count + 1;
            rows_shown := rows_shown + (cardinality(expected) > 0)::int;
            IF actual IS DISTINCT FROM expected THEN
                wrong := wrong || format('%s: expected %s, looked up %s', r.v, expected, actual);
            END IF;
        END LOOP;
        RETURN NEXT;
    END LOOP;
END $$;

-- Per table the shape reaches: its columns no lookup watches, how many (row, column) updates to
-- NULL were tried, and those that changed a document (none may).
CREATE FUNCTION check_unwatched(source regclass, shape text)
    RETURNS TABLE (table_name regclass, unwatched text[], tried int, changed text[])
    LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := documents(source, shape);
    after jsonb;
    tab regclass;
    watched text[];
    col text;
    r record;
    updated boolean;
BEGIN
    FOR tab, watched IN
        SELECT l.table_name, array_agg(DISTINCT w) FROM store._reverse_lookups(source, shape) AS l, unnest(l.watched) AS w
         GROUP BY l.table_name ORDER BY min(l.path), l.table_name::text
    LOOP
        table_name := tab;
        tried := 0;
        changed := '{}';
        unwatched := ARRAY(SELECT a.attname::text FROM pg_attribute AS a
                            WHERE a.attrelid = tab AND a.attnum > 0 AND NOT a.attisdropped
                              AND a.attname::text <> ALL (watched) ORDER BY a.attnum);
        FOREACH col IN ARRAY unwatched LOOP
            FOR r IN EXECUTE format('SELECT x.tableoid AS t, x.ctid AS c FROM %s AS x', tab) LOOP
                updated := false;
                BEGIN
                    PERFORM set_config('session_replication_role', 'replica', true);
                    EXECUTE format('UPDATE %s AS x SET %I = NULL WHERE x.tableoid = $1 AND x.ctid = $2', tab, col)
                      USING r.t, r.c;
                    updated := true;
                    after := documents(source, shape);
                    RAISE EXCEPTION 'roll back' USING ERRCODE = 'triggered_action_exception';
                EXCEPTION WHEN triggered_action_exception OR not_null_violation THEN
                    NULL;
                END;
                IF updated THEN
                    tried := tried + 1;
                    IF after IS DISTINCT FROM before THEN
                        changed := changed || format('%s of row %s', col, r.c);
                    END IF;
                END IF;
            END LOOP;
        END LOOP;
        RETURN NEXT;
    END LOOP;
END $$;

---------------------------------------------------------------------------------------------
-- The lookups of the issue's film shape, and a few more
---------------------------------------------------------------------------------------------

\set film_shape 'film_id,title,language:language!film_language_id_fkey(name),original:language!original_language_id(name),detail:film_detail(synopsis),actors:actor(actor_id,first_name),categories:category(name),inventory(inventory_id,store_id,rentals:rental(rental_id,payment(amount),refund(refund_id))),reviews:film_review(stars)'

-- Every occurrence: language twice, each many-to-many's junction right after it; the ids of a
-- child holding film's key come from its values (film_detail, film_actor, film_category,
-- inventory) unless its type differs (film_review's bigint); deeper rows join up the path.
SELECT path, table_name, columns, lookup_sql FROM store._reverse_lookups('film', :'film_shape');
-- A composite root key (in key order, whatever the foreign key's column order), a to-one path,
-- a numeric key (read from the root, never from 5.00).
SELECT path, table_name, columns, lookup_sql
  FROM store._reverse_lookups('rental', 'rental_id,payment(amount),refund(refund_id),customer(address(city(city)))');
SELECT path, table_name, columns, lookup_sql FROM store._reverse_lookups('gauge', 'gauge_id,reading(value)');

---------------------------------------------------------------------------------------------
-- Brute force: every row of every table each shape reaches
---------------------------------------------------------------------------------------------

SELECT * FROM check_lookups('film', :'film_shape');
-- Depth 3 to-one targets (country -> city -> address -> customer), rentals in two partitions,
-- payments by a composite key.
SELECT * FROM check_lookups('customer',
    'customer_id,first_name,address(address,city(city,country(country))),rentals:rental(rental_id,payment(payment_id,amount))');
-- Many-to-one by a composite key, then on up to depth 4.
SELECT * FROM check_lookups('payment', 'payment_id,rental(rental_date,customer(first_name,address(city(city))))');
-- A table twice, the root included, and a many-to-many deeper down.
SELECT * FROM check_lookups('language',
    'name,film!language_id(title,original:language!original_language_id(name),actor(last_name))');
-- A partitioned root with a composite key: children holding it in either column order.
SELECT * FROM check_lookups('rental', 'rental_id,rental_date,payment(amount),refund(refund_id),inventory(film(title))');
-- The one-to-one from the side holding the key; many-to-many from the other side.
SELECT * FROM check_lookups('film_detail', 'synopsis,film(title,actor(last_name))');
SELECT * FROM check_lookups('actor', 'last_name,film!film_actor(title,language!language_id(name))');
-- A numeric key: reading 1 (5.00) and 2 (5) belong to gauge 5.0.
SELECT * FROM check_lookups('gauge', 'gauge_id,reading(value)');
SELECT r.reading_id, lookup_ids(l.lookup_sql, l.columns, 'reading', r.tableoid, r.ctid) AS ids
  FROM reading AS r, store._reverse_lookups('gauge', 'gauge_id,reading(value)') AS l
 WHERE l.table_name = 'reading'::regclass ORDER BY 1;

---------------------------------------------------------------------------------------------
-- Columns no lookup watches: changing them changes no document, so capture may skip such updates
---------------------------------------------------------------------------------------------

SELECT * FROM check_unwatched('film', :'film_shape');
SELECT * FROM check_unwatched('customer', 'customer_id,address(city(city)),rentals:rental(rental_date)');
SELECT * FROM check_unwatched('language', 'name,film!language_id(title,actor(last_name))');
SELECT * FROM check_unwatched('rental', 'rental_date,payment(amount),inventory(film(title))');

---------------------------------------------------------------------------------------------
-- Binding the parameters: one array per column, of its type, zipped row by row
---------------------------------------------------------------------------------------------

CREATE FUNCTION run_lookup(source regclass, shape text, path text, tab regclass, a anyarray,
                           b anycompatiblearray DEFAULT NULL::int[])
    RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    lookup text;
    ids text[];
BEGIN
    SELECT l.lookup_sql INTO STRICT lookup FROM store._reverse_lookups(source, shape) AS l
     WHERE l.path = run_lookup.path AND l.table_name = tab;
    EXECUTE format('SELECT coalesce(array_agg(l.id::text ORDER BY l.id::text), ''{}'') FROM (%s) AS l', lookup)
       INTO ids USING a, b;
    RETURN ids;
END $$;
-- Several rows at once, duplicates and NULLs among them: each root once. (An inventory row is
-- looked up by its film_id: inventories 10, 11, 12, 14 and 10 again.)
SELECT run_lookup('film', :'film_shape', 'inventory', 'inventory', ARRAY[1, 1, 2, NULL, 1]) AS inventory_rows;
SELECT run_lookup('film', :'film_shape', 'language', 'language', ARRAY[1, 2]) AS languages;
SELECT run_lookup('film', :'film_shape', 'actors', 'actor', '{}'::int[]) AS no_rows;
-- A composite foreign key: payments of rentals (100, 2022-05-01) (inventory 10: film 1) and
-- (101, 2023-02-01) (inventory 12: film 2), zipped: never the cross product, which would add
-- rental (100, 2023-05-01) (inventory 13: film 4).
SELECT run_lookup('film', :'film_shape', 'inventory.rentals.payment', 'payment',
                  ARRAY[100, 101], ARRAY['2022-05-01', '2023-02-01']::date[]) AS payments;
SELECT run_lookup('rental', 'rental_id,refund(refund_id)', 'refund', 'refund',
                  ARRAY['2022-05-01', '2023-05-01', NULL]::date[], ARRAY[100, 100, 101]) AS refunds;

---------------------------------------------------------------------------------------------
-- Errors and privileges
---------------------------------------------------------------------------------------------

CREATE TABLE loose (x int);
SELECT err($$SELECT * FROM store._reverse_lookups('loose', 'x')$$);
SELECT err($$SELECT * FROM store._reverse_lookups('film', 'title,nope(x)')$$);
SELECT err($$SELECT * FROM store._reverse_lookups('film', NULL)$$);
SELECT err($$SELECT * FROM store._reverse_lookups(NULL, 'title')$$);
SELECT p.oid::regprocedure, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_run
  FROM pg_proc AS p WHERE p.proname = '_reverse_lookups';

RESET search_path;
RESET jit;
SET client_min_messages = warning;
DROP SCHEMA pagila CASCADE;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP FUNCTION err(text);
