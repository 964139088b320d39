-- Nested document shapes resolved against the catalog (issue 11): PostgREST's relationship rules
-- over declared foreign keys (store._explain_shape), and the query rendering a root row's document
-- (store._shape_query), which must equal the hand-written nested json_build_object / json_agg query.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql

---------------------------------------------------------------------------------------------
-- A Pagila-like schema
---------------------------------------------------------------------------------------------
CREATE SCHEMA pagila;
CREATE SCHEMA elsewhere;
SET search_path = pagila, public;

CREATE TABLE language (language_id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE film (film_id int PRIMARY KEY, title text NOT NULL, release_year int,
                   language_id int NOT NULL REFERENCES language,
                   original_language_id int REFERENCES language,
                   rating text);
CREATE INDEX film_language_id_idx ON film (language_id);   -- original_language_id has none
-- one-to-one: the foreign key is the primary key
CREATE TABLE film_detail (film_id int PRIMARY KEY REFERENCES film, synopsis text);
CREATE TABLE actor (actor_id int PRIMARY KEY, dropped int, first_name text, last_name text);
ALTER TABLE actor DROP COLUMN dropped;  -- * shows live columns only
-- many-to-many, the junction's primary key (actor_id, film_id) holds both foreign keys
CREATE TABLE film_actor (actor_id int REFERENCES actor, film_id int REFERENCES film,
                         last_update date NOT NULL DEFAULT '2020-01-01', PRIMARY KEY (actor_id, film_id));
CREATE INDEX film_actor_film_id_idx ON film_actor (film_id);
CREATE TABLE category (category_id int PRIMARY KEY, name text);
-- no index leads with category_id: index_ok is false
CREATE TABLE film_category (film_id int REFERENCES film, category_id int REFERENCES category,
                            PRIMARY KEY (film_id, category_id));
-- one-to-many from film
CREATE TABLE inventory (inventory_id int PRIMARY KEY, film_id int NOT NULL REFERENCES film, store_id int);
CREATE INDEX inventory_film_id_idx ON inventory (film_id);
-- depth 3: customer -> address -> city -> country
CREATE TABLE country (country_id int PRIMARY KEY, country text);
CREATE TABLE city (city_id int PRIMARY KEY, city text, country_id int REFERENCES country);
CREATE INDEX city_country_id_idx ON city (country_id);
CREATE TABLE address (address_id int PRIMARY KEY, address text, city_id int REFERENCES city);
CREATE INDEX address_city_id_idx ON address (city_id);
CREATE TABLE customer (customer_id int PRIMARY KEY, first_name text, address_id int REFERENCES address);
CREATE INDEX customer_address_id_idx ON customer (address_id);
-- a partitioned child with a composite primary key, and a composite foreign key to it
CREATE TABLE rental (rental_id int, rental_date date, inventory_id int REFERENCES inventory,
                     customer_id int REFERENCES customer, PRIMARY KEY (rental_id, rental_date))
    PARTITION BY RANGE (rental_date);
CREATE TABLE rental_2022 PARTITION OF rental FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE TABLE rental_2023 PARTITION OF rental FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE INDEX rental_customer_id_idx ON rental (customer_id);
CREATE TABLE payment (payment_id int PRIMARY KEY, rental_id int, rental_date date, amount numeric(5,2),
                      FOREIGN KEY (rental_id, rental_date) REFERENCES rental);
CREATE INDEX payment_rental_idx ON payment (rental_date, rental_id);  -- the same columns, another order
-- for the errors: a self-reference, a child without a primary key, a view, a table in another schema
CREATE TABLE staff (staff_id int PRIMARY KEY, name text, manager_id int REFERENCES staff);
CREATE TABLE film_note (film_id int REFERENCES film, note text);
CREATE VIEW film_list AS SELECT film_id, title FROM film;
CREATE TABLE elsewhere.award (award_id int PRIMARY KEY, film_id int REFERENCES pagila.film, name text);
-- names that need quoting
CREATE TABLE "Odd Table" ("Odd Id" int PRIMARY KEY, "select" text, film_id int REFERENCES film);

INSERT INTO language VALUES (1, 'English'), (2, 'Italian'), (3, 'Japanese');
INSERT INTO film VALUES (1, 'Academy Dinosaur', 2006, 1, NULL, 'PG'),
                        (2, 'Ace Goldfinger', 2006, 1, 2, 'G'),
                        (3, 'Adaptation Holes', 2007, 3, 1, NULL),
                        (4, 'Affair Prejudice', 2008, 2, NULL, 'G');
INSERT INTO film_detail VALUES (1, 'A epic drama'), (3, 'It''s a "quoted" \ synopsis');
INSERT INTO actor VALUES (1, 'Penelope', 'Guiness'), (2, 'Nick', 'Wahlberg'), (3, 'Ed', 'Chase');
INSERT INTO film_actor (actor_id, film_id) VALUES (3, 1), (1, 1), (2, 1), (2, 2), (1, 3);
INSERT INTO category VALUES (1, 'Action'), (2, 'Animation'), (3, 'Children');
INSERT INTO film_category VALUES (1, 3), (1, 2), (2, 1);
INSERT INTO inventory VALUES (10, 1, 1), (11, 1, 2), (12, 2, 1);
INSERT INTO country VALUES (1, 'Italy'), (2, 'Japan');
INSERT INTO city VALUES (1, 'Rome', 1), (2, 'Tokyo', 2), (3, 'Atlantis', NULL);
INSERT INTO address VALUES (1, 'Via Appia 1', 1), (2, '1 Chiyoda', 2), (3, 'Deep sea', 3), (4, 'Nowhere', NULL);
INSERT INTO customer VALUES (1, 'Mary', 1), (2, 'Patricia', 2), (3, 'Linda', 3), (4, 'Barbara', 4), (5, 'Liz', NULL);
INSERT INTO rental VALUES (100, '2022-05-01', 10, 1), (101, '2023-02-01', 12, 1), (102, '2022-07-01', 11, 2);
INSERT INTO payment VALUES (1000, 100, '2022-05-01', 2.99), (1001, 100, '2022-05-01', 1.00),
                           (1002, 102, '2022-07-01', 4.99);
INSERT INTO "Odd Table" VALUES (7, 'chosen', 2);

---------------------------------------------------------------------------------------------
-- Resolved trees
---------------------------------------------------------------------------------------------

-- The issue's example: many-to-one twice (language, by constraint and by column hint), one-to-one,
-- many-to-many twice (actor by default; category, whose junction has no index leading with
-- category_id), one-to-many.
SELECT * FROM store._explain_shape('film',
    'film_id,title,language:language!film_language_id_fkey(name),original:language!original_language_id(name),'
    'detail:film_detail(synopsis),actors:actor(actor_id,first_name,last_name),categories:category(name),'
    'inventory(inventory_id,store_id)');

-- Depth 3, one-to-many into a partitioned table, and a composite foreign key both ways.
SELECT * FROM store._explain_shape('customer',
    'customer_id,address(address,city(city,country(country))),rentals:rental(rental_id,payment(amount))');
SELECT * FROM store._explain_shape('payment', 'payment_id,rental(rental_date,customer(first_name))');

-- The one-to-one seen from its other side (the parent holds the unique foreign key), a
-- partitioned root, quoted names, and a table appearing twice.
SELECT * FROM store._explain_shape('film_detail', 'synopsis,film(title,language!language_id(name),actor(last_name))');
SELECT * FROM store._explain_shape('rental', '*,inventory(film(title)),customer(first_name)');
SELECT * FROM store._explain_shape('film', 'title,"Odd Table"("Odd Id","select")');
SELECT * FROM store._explain_shape('language', 'name,film!language_id(title,original:language!original_language_id(name))');

-- Many-to-many hinted by its junction table.
SELECT path, kind, junction, join_columns FROM store._explain_shape('actor', 'actor_id,film!film_actor(title)');

---------------------------------------------------------------------------------------------
-- Errors
---------------------------------------------------------------------------------------------

-- Two relationships and no hint: both listed with the hint syntax.
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,language(name)')$$);
SELECT err($$SELECT * FROM store._explain_shape('film_detail', 'synopsis,film(title,language(name))')$$);
-- No relationship at all; a hint that matches none of them.
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,country(country)')$$);
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,language!rental_pkey(name)')$$);
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,actor!film_category(first_name)')$$);
-- Unknown table (embedded tables are looked up in the root's schema only), a view, a partition.
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,nope(x)')$$);
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,award(name)')$$);
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,Language(name)')$$);
SELECT err($$SELECT * FROM store._explain_shape('language', 'name,film_list(title)')$$);
SELECT err($$SELECT * FROM store._explain_shape('inventory', 'inventory_id,rental_2022(rental_id)')$$);
SELECT err($$SELECT * FROM store._explain_shape('rental_2022', 'rental_id')$$);
SELECT err($$SELECT * FROM store._explain_shape('film_list', 'title')$$);
-- Unknown columns, at the root and three levels down.
SELECT err($$SELECT * FROM store._explain_shape('film', 'film_id,Title')$$);
SELECT err($$SELECT * FROM store._explain_shape('customer', 'address(city(country(country,nope)))')$$);
-- A key twice after * (a column, or an alias equal to a column's name).
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,*')$$);
SELECT err($$SELECT * FROM store._explain_shape('film', '*,rating:language!language_id(name)')$$);
SELECT err($$SELECT * FROM store._explain_shape('customer', 'address(*,city_id:city(city))')$$);
-- A self-reference; an array of rows without a primary key.
-- (PostgREST's rules: by the table's name, with or without a hint, the rows pointing here; by the
-- key's column, the row it points to; nested_self.sql keeps such keys current)
SELECT path, kind, join_columns FROM store._explain_shape('staff', 'name,staff(name)');
SELECT path, kind, join_columns FROM store._explain_shape('staff', 'name,reports:staff!manager_id(name),manager:manager_id(name)');
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,film_note(note)')$$);
-- The parser's own errors come through; NULL arguments are refused by name.
SELECT err($$SELECT * FROM store._explain_shape('film', 'title,')$$);
SELECT err($$SELECT * FROM store._explain_shape('film', NULL)$$);
SELECT err($$SELECT * FROM store._explain_shape(NULL, 'title')$$);
SELECT err($$SELECT store._shape_query('film', 'title', NULL)$$);
SELECT err($$SELECT store._shape_query('film', 'title', '')$$);
-- Internal: PUBLIC may not run them.
SELECT p.oid::regprocedure, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_run
  FROM pg_proc AS p WHERE p.proname IN ('_explain_shape', '_shape_query') ORDER BY p.proname;

---------------------------------------------------------------------------------------------
-- The rendering query equals the hand-written nested query
---------------------------------------------------------------------------------------------

-- same_documents(source, shape, key column, reference query): every root row's document, rendered
-- by store._shape_query, compared byte for byte with the reference query's (columns: key, doc).
CREATE FUNCTION same_documents(source regclass, shape text, key_column text, reference text)
    RETURNS TABLE (id int, same boolean, doc json) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT r.%1$I, s.doc::text = ref.doc::text, s.doc FROM %2$s AS r'
        ' CROSS JOIN LATERAL (SELECT %3$s AS doc) AS s'
        ' JOIN (%4$s) AS ref(id, doc) ON ref.id = r.%1$I ORDER BY 1',
        key_column, source, store._shape_query(source, shape), reference);
END $$;

-- Films: NULL to-one (original language, detail), [] for no actors / categories / inventory, a
-- synopsis with quotes and a backslash, keys that need escaping.
SELECT * FROM same_documents('film',
    'film_id,"it''s":title,language:language!film_language_id_fkey(name),original:language!original_language_id(name),'
    'detail:film_detail(synopsis),actors:actor(*),categories:category(name),'
    '"back\\slash":inventory(inventory_id,store_id)', 'film_id',
    $$SELECT f.film_id, json_build_object(
        'film_id', f.film_id,
        'it''s', f.title,
        'language', (SELECT json_build_object('name', l.name) FROM pagila.language l WHERE l.language_id = f.language_id),
        'original', (SELECT json_build_object('name', l.name) FROM pagila.language l WHERE l.language_id = f.original_language_id),
        'detail', (SELECT json_build_object('synopsis', d.synopsis) FROM pagila.film_detail d WHERE d.film_id = f.film_id),
        'actors', (SELECT coalesce(json_agg(json_build_object('actor_id', a.actor_id, 'first_name', a.first_name,
                                                              'last_name', a.last_name) ORDER BY a.actor_id), '[]')
                     FROM pagila.film_actor fa JOIN pagila.actor a ON a.actor_id = fa.actor_id WHERE fa.film_id = f.film_id),
        'categories', (SELECT coalesce(json_agg(json_build_object('name', c.name) ORDER BY c.category_id), '[]')
                         FROM pagila.film_category fc JOIN pagila.category c ON c.category_id = fc.category_id
                        WHERE fc.film_id = f.film_id),
        'back\slash', (SELECT coalesce(json_agg(json_build_object('inventory_id', i.inventory_id, 'store_id', i.store_id)
                                                ORDER BY i.inventory_id), '[]')
                         FROM pagila.inventory i WHERE i.film_id = f.film_id))
      FROM pagila.film f$$);

-- Customers: depth 3 with NULLs on the way (a city without a country, an address without a city,
-- a customer without an address), rentals from two partitions, payments by a composite key.
SELECT * FROM same_documents('customer',
    'customer_id,first_name,address(address,city(city,country(*))),rentals:rental(rental_id,rental_date,payment(payment_id,amount))',
    'customer_id',
    $$SELECT cu.customer_id, json_build_object(
        'customer_id', cu.customer_id, 'first_name', cu.first_name,
        'address', (SELECT json_build_object('address', a.address,
                        'city', (SELECT json_build_object('city', ci.city,
                                     'country', (SELECT json_build_object('country_id', co.country_id, 'country', co.country)
                                                   FROM pagila.country co WHERE co.country_id = ci.country_id))
                                   FROM pagila.city ci WHERE ci.city_id = a.city_id))
                      FROM pagila.address a WHERE a.address_id = cu.address_id),
        'rentals', (SELECT coalesce(json_agg(json_build_object('rental_id', r.rental_id, 'rental_date', r.rental_date,
                        'payment', (SELECT coalesce(json_agg(json_build_object('payment_id', p.payment_id, 'amount', p.amount)
                                                             ORDER BY p.payment_id), '[]')
                                      FROM pagila.payment p
                                     WHERE p.rental_id = r.rental_id AND p.rental_date = r.rental_date))
                        ORDER BY r.rental_id, r.rental_date), '[]')
                      FROM pagila.rental r WHERE r.customer_id = cu.customer_id))
      FROM pagila.customer cu$$);

-- Payments: many-to-one by a composite key into the partitioned table, then on to the customer.
SELECT * FROM same_documents('payment', 'payment_id,rental(rental_date,customer(first_name))', 'payment_id',
    $$SELECT p.payment_id, json_build_object('payment_id', p.payment_id,
        'rental', (SELECT json_build_object('rental_date', r.rental_date,
                       'customer', (SELECT json_build_object('first_name', c.first_name)
                                      FROM pagila.customer c WHERE c.customer_id = r.customer_id))
                     FROM pagila.rental r WHERE r.rental_id = p.rental_id AND r.rental_date = p.rental_date))
      FROM pagila.payment p$$);

-- A partitioned root: many-to-one twice, one of them to depth 2.
SELECT * FROM same_documents('rental', 'rental_id,inventory(store_id,film(title)),customer(first_name)', 'rental_id',
    $$SELECT r.rental_id, json_build_object('rental_id', r.rental_id,
        'inventory', (SELECT json_build_object('store_id', i.store_id,
                          'film', (SELECT json_build_object('title', f.title) FROM pagila.film f WHERE f.film_id = i.film_id))
                        FROM pagila.inventory i WHERE i.inventory_id = r.inventory_id),
        'customer', (SELECT json_build_object('first_name', c.first_name) FROM pagila.customer c WHERE c.customer_id = r.customer_id))
      FROM pagila.rental r$$);

-- The one-to-one from the side holding the key, and quoted names.
SELECT * FROM same_documents('film_detail', 'synopsis,film(title,"Odd Table"(*))', 'film_id',
    $$SELECT d.film_id, json_build_object('synopsis', d.synopsis,
        'film', (SELECT json_build_object('title', f.title,
                     'Odd Table', (SELECT coalesce(json_agg(json_build_object('Odd Id', o."Odd Id", 'select', o."select",
                                                                              'film_id', o.film_id) ORDER BY o."Odd Id"), '[]')
                                     FROM pagila."Odd Table" o WHERE o.film_id = f.film_id))
                   FROM pagila.film f WHERE f.film_id = d.film_id))
      FROM pagila.film_detail d$$);

-- An object of more than 50 keys takes several json_build_object calls, spliced into one text.
CREATE TABLE wide (id int PRIMARY KEY);
DO $$ BEGIN
    EXECUTE (SELECT format('ALTER TABLE wide %s', string_agg(format('ADD COLUMN c%s int DEFAULT %s', n, n), ', '))
               FROM generate_series(1, 120) AS n);
END $$;
INSERT INTO wide (id) VALUES (1);
CREATE FUNCTION shape_doc(source regclass, shape text, id int) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    doc json;
BEGIN
    EXECUTE format('SELECT %s FROM %s AS r WHERE r.id = $1', store._shape_query(source, shape), source) INTO doc USING id;
    RETURN doc;
END $$;
SELECT d::text = '{"id" : 1, ' || (SELECT string_agg(format('"c%s" : %s', n, n), ', ' ORDER BY n)
                                     FROM generate_series(1, 120) AS n) || '}' AS as_one_call_writes_it
  FROM shape_doc('wide', '*', 1) AS d;

-- Objects on the search_path that would change unqualified SQL (an = for int that is never true, a
-- json_agg) change nothing: the query is the same text and renders the same documents.
SELECT store._shape_query('film', 'film_id,language!language_id(name),actor(last_name),inventory(store_id)') AS film_query \gset
CREATE TABLE pagila.film_docs AS SELECT r.film_id, (:film_query)::text AS doc FROM pagila.film AS r;
CREATE SCHEMA evil;
CREATE FUNCTION evil.never(int, int) RETURNS bool LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.never);
CREATE FUNCTION evil.hijack(json, json) RETURNS json LANGUAGE sql AS $$SELECT '"hijacked"'::json$$;
CREATE AGGREGATE evil.json_agg(json) (SFUNC = evil.hijack, STYPE = json);
SET search_path = evil, pagila, pg_catalog;
SELECT 1 = 1 AS hostile_equality, (SELECT json_agg(x) FROM (VALUES ('{}'::json)) AS v(x)) AS hostile_json_agg;
SELECT store._shape_query('film', 'film_id,language!language_id(name),actor(last_name),inventory(store_id)') = :'film_query' AS same_query;
SELECT d.film_id, (:film_query)::text OPERATOR(pg_catalog.=) d.doc AS same_doc, d.doc
  FROM pagila.film AS r JOIN pagila.film_docs AS d ON d.film_id OPERATOR(pg_catalog.=) r.film_id ORDER BY d.film_id;
SET search_path = pagila, public;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
RESET client_min_messages;

-- The generated SQL itself: schema-qualified, the foreign keys' own operators.
SELECT store._shape_query('payment', 'payment_id,rental(rental_date)', 'p');
SELECT store._shape_query('film', 'title,actor(last_name)');

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA pagila, elsewhere CASCADE;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP FUNCTION err(text);
