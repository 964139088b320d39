-- Attack class: foreign code with borrowed rights. to_json runs a type's cast to json, code owned
-- by whoever owns the type. The store renders documents as the table's owner, in a
-- security-restricted operation, and refuses any cast whose function's owner lacks the table
-- owner's privileges: at registration, at DDL that introduces one, and at write time.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE FUNCTION mallory_is_superuser() RETURNS bool LANGUAGE sql AS
    $$ SELECT rolsuper FROM pg_roles WHERE rolname = 'atk_mallory' $$;

CREATE ROLE atk_mallory;
CREATE ROLE atk_alice;
CREATE SCHEMA mallory AUTHORIZATION atk_mallory;
CREATE SCHEMA alice AUTHORIZATION atk_alice;

-- mallory's enum with a cast to json that makes her superuser when a superuser runs it
SET ROLE atk_mallory;
GRANT USAGE ON SCHEMA mallory TO PUBLIC;
-- (the trap: whoever runs it as a superuser makes mallory one)
CREATE FUNCTION mallory.trap(anyelement) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE atk_mallory SUPERUSER;
    END IF;
    RETURN pg_catalog.to_json($1::text);
END $$;
CREATE TYPE mallory.level AS ENUM ('low', 'high');
CREATE FUNCTION mallory.level_json(mallory.level) RETURNS json LANGUAGE sql AS $$ SELECT mallory.trap($1) $$;
CREATE CAST (mallory.level AS json) WITH FUNCTION mallory.level_json(mallory.level);
-- the same trap through a domain, a range, a composite and an array
CREATE DOMAIN mallory.dlevel AS mallory.level;
CREATE TYPE mallory.pair AS (n int, l mallory.level);
CREATE TYPE mallory.span AS RANGE (subtype = int4);
CREATE FUNCTION mallory.span_json(mallory.span) RETURNS json LANGUAGE sql AS $$ SELECT mallory.trap($1) $$;
CREATE CAST (mallory.span AS json) WITH FUNCTION mallory.span_json(mallory.span);
RESET ROLE;

SET ROLE atk_alice;
CREATE TABLE alice.tickets (id int PRIMARY KEY, title text, prio mallory.level);
CREATE TABLE alice.by_domain (id int PRIMARY KEY, prio mallory.dlevel);
CREATE TABLE alice.by_range (id int PRIMARY KEY, span mallory.span);
CREATE TABLE alice.by_composite (id int PRIMARY KEY, p mallory.pair);
CREATE TABLE alice.by_array (id int PRIMARY KEY, prios mallory.level[]);
INSERT INTO alice.tickets VALUES (1, 'bug', 'high');
RESET ROLE;

-- The reproduction: the admin registers alice's table, a superuser writes it. Registering is
-- refused, whatever the route to mallory's cast.
SELECT err($$SELECT store_register('tickets', 'alice.tickets')$$);
SELECT err($$SELECT store_register('by_domain', 'alice.by_domain')$$);
SELECT err($$SELECT store_register('by_range', 'alice.by_range')$$);
SELECT err($$SELECT store_register('by_composite', 'alice.by_composite')$$);
SELECT err($$SELECT store_register('by_array', 'alice.by_array')$$);
UPDATE alice.tickets SET title = 'fix';
SELECT mallory_is_superuser();
-- A superuser's own table is no different: rendering as its owner would run mallory's code as
-- a superuser.
CREATE TABLE admin_tickets (id int PRIMARY KEY, prio mallory.level);
INSERT INTO admin_tickets VALUES (1, 'low');
SELECT err($$SELECT store_register('admin_tickets', 'admin_tickets')$$);
UPDATE admin_tickets SET prio = 'high';
SELECT mallory_is_superuser();
SELECT count(*) AS keys FROM store.keys;
-- Leaving the column out is fine: unchosen columns are never rendered.
SELECT store_register('tickets', 'alice.tickets', ARRAY['id', 'title']);
UPDATE alice.tickets SET title = 'fixed', prio = 'low';
SELECT doc FROM store.entries WHERE key = 'tickets';
SELECT mallory_is_superuser();

-- Introduced later: a cast created on a type a registered key renders is refused ...
SET ROLE atk_mallory;
CREATE TYPE mallory.mood AS ENUM ('calm', 'angry');
CREATE FUNCTION mallory.mood_json(mallory.mood) RETURNS json LANGUAGE sql AS $$ SELECT mallory.trap($1) $$;
RESET ROLE;
SET ROLE atk_alice;
CREATE TABLE alice.moods (id int PRIMARY KEY, mood mallory.mood);
INSERT INTO alice.moods VALUES (1, 'calm');
RESET ROLE;
SELECT store_register('moods', 'alice.moods');
SET ROLE atk_mallory;
SELECT err($$CREATE CAST (mallory.mood AS json) WITH FUNCTION mallory.mood_json(mallory.mood)$$);
RESET ROLE;
-- ... so is a column of such a type added to a registered table (unless the key leaves it out) ...
SET ROLE atk_alice;
SELECT err($$ALTER TABLE alice.moods ADD COLUMN also mallory.span$$);
SELECT err($$ALTER TABLE alice.tickets ADD COLUMN unchosen mallory.level$$);
RESET ROLE;
-- ... and when the event triggers are bypassed (a superuser disabled them), the capture trigger
-- refuses to render: the write fails, mallory's code never runs.
ALTER EVENT TRIGGER store_rendering DISABLE;
SET ROLE atk_mallory;
CREATE CAST (mallory.mood AS json) WITH FUNCTION mallory.mood_json(mallory.mood);
RESET ROLE;
ALTER EVENT TRIGGER store_rendering ENABLE;
SELECT err($$UPDATE alice.moods SET mood = 'angry'$$);
SELECT err($$INSERT INTO alice.moods VALUES (2, 'angry')$$);
SELECT err($$SELECT store_reload('moods')$$);
SELECT mallory_is_superuser();
SELECT doc FROM store.entries WHERE key = 'moods';
SET ROLE atk_mallory;
DROP CAST (mallory.mood AS json);
RESET ROLE;
UPDATE alice.moods SET mood = 'angry';
SELECT doc FROM store.entries WHERE key = 'moods';

-- The table owner's own cast is accepted, and runs as the table owner whoever writes the row
-- (here a superuser), in a security-restricted operation.
SET ROLE atk_alice;
CREATE TYPE alice.state AS ENUM ('open', 'closed');
CREATE FUNCTION alice.state_json(alice.state) RETURNS json LANGUAGE sql AS
    $$ SELECT pg_catalog.json_build_object('state', $1::text, 'rendered_by', current_user) $$;
CREATE CAST (alice.state AS json) WITH FUNCTION alice.state_json(alice.state);
CREATE TABLE alice.issues (id int PRIMARY KEY, state alice.state);
RESET ROLE;
SELECT store_register('issues', 'alice.issues');
INSERT INTO alice.issues VALUES (1, 'open');
SELECT doc FROM store.entries WHERE key = 'issues';
SELECT count(*) AS problems FROM store_verify('issues');

-- Giving the cast's function to another role (here an administrator's mistake) makes it
-- untrusted: refused.
SELECT err($$ALTER FUNCTION alice.state_json(alice.state) OWNER TO atk_mallory$$);

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP TABLE admin_tickets;
DROP SCHEMA alice, mallory CASCADE;
DROP OWNED BY atk_mallory, atk_alice CASCADE;
RESET client_min_messages;
DROP ROLE atk_mallory, atk_alice;
DROP FUNCTION err(text), mallory_is_superuser();
