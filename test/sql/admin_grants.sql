-- Grantable administration: a role the store owner granted EXECUTE on store_register,
-- store_unregister, store_reload and store_compact administers the tables it owns (or whose owner
-- role it is a member of, with INHERIT), with no grant on the schema store; anything else is 42501.
-- Nothing the table's owner wrote runs with the store owner's rights; search_path cannot hijack.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
CREATE FUNCTION keys_of(j json) RETURNS text[] LANGUAGE sql AS
    $$ SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM json_object_keys(j) AS k $$;

CREATE ROLE admin_alice;                                 -- a grantee that owns tables
CREATE ROLE admin_bob;                                   -- another grantee
CREATE ROLE admin_carol;                                 -- owns a table, has no EXECUTE
CREATE ROLE admin_team NOLOGIN;                          -- a group role owning a table
GRANT admin_team TO admin_alice;                         -- alice inherits its privileges
CREATE ROLE admin_dave NOINHERIT IN ROLE admin_team;     -- dave is a member without inheriting
GRANT CREATE ON SCHEMA public TO admin_alice, admin_bob, admin_carol, admin_team;
GRANT EXECUTE ON FUNCTION store_register(text, regclass, text[], text, text), store_unregister(text), store_reload(),
                          store_reload(text), store_compact(interval) TO admin_alice, admin_bob, admin_dave;

-- The grantees have no privilege on the store's schema, tables or internal functions.
SELECT r AS role, has_schema_privilege(r, 'store', 'USAGE') AS store_schema,
       has_table_privilege(r, 'store.keys', 'SELECT') AS keys_table,
       has_function_privilege(r, 'store._register(text, regclass, text[], text, text)', 'EXECUTE') AS _register,
       has_function_privilege(r, 'store._unregister(text)', 'EXECUTE') AS _unregister,
       has_function_privilege(r, 'store._reload()', 'EXECUTE') AS _reload_all,
       has_function_privilege(r, 'store._reload(text)', 'EXECUTE') AS _reload,
       has_function_privilege(r, 'store._compact(interval)', 'EXECUTE') AS _compact
  FROM unnest(ARRAY['admin_alice', 'admin_carol']) AS r;
-- The entry points are C functions; the dead internals of 0.1.0 are gone.
SELECT p.oid::regprocedure AS function, l.lanname AS language, p.prosecdef AS security_definer
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.proname IN ('store_register', 'store_unregister', 'store_reload', 'store_compact') ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT to_regprocedure('store._item_id(regtype, text)') AS item_id, to_regprocedure('store._current_cursor()') AS current_cursor;

-- Tables: alice's (with a cast to json of her own that would make her a superuser if it ever ran
-- as one), bob's, carol's, the team's, and one of the store owner's.
SET ROLE admin_alice;
CREATE TYPE alice_mood AS ENUM ('calm', 'busy');
CREATE FUNCTION alice_mood_json(alice_mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE admin_alice SUPERUSER;
    END IF;
    RETURN pg_catalog.to_json(pg_catalog.upper($1::text)); -- (upper case: the cast ran)
END $$;
CREATE CAST (alice_mood AS json) WITH FUNCTION alice_mood_json(alice_mood);
CREATE TABLE alice_items (id int PRIMARY KEY, name text, mood alice_mood);
INSERT INTO alice_items VALUES (1, 'a', 'calm'), (2, 'b', 'busy');
RESET ROLE;
SET ROLE admin_bob;
CREATE TABLE bob_items (id int PRIMARY KEY, name text);
INSERT INTO bob_items VALUES (1, 'bob');
RESET ROLE;
SET ROLE admin_carol;
CREATE TABLE carol_items (id int PRIMARY KEY, name text);
RESET ROLE;
CREATE TABLE team_items (id int PRIMARY KEY, name text);
ALTER TABLE team_items OWNER TO admin_team;
CREATE TABLE owner_items (id int PRIMARY KEY, name text);

-- A grantee registers, reads, reloads and compacts its own table; the store follows its writes.
SET ROLE admin_alice;
SELECT store_register('alice_items', 'alice_items');
INSERT INTO alice_items VALUES (3, 'c', 'calm');
SELECT store_get('alice_items', '3');
SELECT store_reload('alice_items');
SELECT store_snapshot('alice_items')::jsonb -> 'alice_items' AS alice_docs;
SELECT store_compact('1 day') >= 0 AS compacted;
SELECT err($$SELECT store_compact(NULL)$$);
-- ... and a table of a role it inherits from; store_reload() when it owns every registered table.
SELECT store_register('team_items', 'team_items');
SELECT store_reload();
RESET ROLE;
SELECT rolsuper AS alice_became_superuser FROM pg_roles WHERE rolname = 'admin_alice';
SELECT cache_key, item_id, state FROM store_history('0') ORDER BY cache_key NULLS FIRST, item_id NULLS FIRST, state;
SELECT key, source FROM store.keys ORDER BY key;
SELECT count(*) AS problems FROM store_verify();

-- The store owner's and bob's keys.
SELECT store_register('owner_items', 'owner_items');
SET ROLE admin_bob;
SELECT store_register('bob_items', 'bob_items');
RESET ROLE;

-- Tables it does not own: 42501, and nothing changes.
SET ROLE admin_alice;
SELECT err($$SELECT store_register('bob_copy', 'bob_items')$$);
SELECT err($$SELECT store_register('owner_copy', 'owner_items')$$);
SELECT err($$SELECT store_register('carol_items', 'carol_items')$$);
SELECT err($$SELECT store_unregister('bob_items')$$);
SELECT err($$SELECT store_reload('bob_items')$$);
SELECT err($$SELECT store_unregister('owner_items')$$);
SELECT err($$SELECT store_reload('owner_items')$$);
-- store_reload() rebuilds every key: not while another role's table is registered.
SELECT err($$SELECT store_reload()$$);
-- Bad input still gets its own error, not a permission error.
SELECT err($$SELECT store_register(NULL, 'alice_items')$$);
SELECT err($$SELECT store_register('alice_two', NULL)$$);
SELECT err($$SELECT store_register('Bad', 'alice_items')$$);
SELECT err($$SELECT store_unregister(NULL)$$);
SELECT err($$SELECT store_unregister('nope')$$);
SELECT err($$SELECT store_reload('nope')$$);
-- A grantee still cannot reach the store's internals directly.
SELECT err($$SELECT store._register('x', 'alice_items', NULL)$$);
SELECT err($$SELECT store._reload()$$);
SELECT err($$SELECT * FROM store.keys$$);
RESET ROLE;
SELECT key FROM store.keys ORDER BY key;

-- A member that does not inherit its group's privileges does not own the group's tables.
SET ROLE admin_dave;
SELECT err($$SELECT store_unregister('team_items')$$);
SELECT err($$SELECT store_register('team_two', 'team_items')$$);
RESET ROLE;

-- Without EXECUTE: 42501 from every function, even on its own table.
SET ROLE admin_carol;
SELECT err($$SELECT store_register('carol_items', 'carol_items')$$);
SELECT err($$SELECT store_unregister('alice_items')$$);
SELECT err($$SELECT store_reload('alice_items')$$);
SELECT err($$SELECT store_reload()$$);
SELECT err($$SELECT store_compact('1 day')$$);
RESET ROLE;

-- search_path cannot hijack what runs as the store owner: functions and operators named like the
-- ones the store uses, first on the grantee's path, and a temporary table named like the store's.
CREATE SCHEMA alice_evil AUTHORIZATION admin_alice;
SET ROLE admin_alice;
CREATE FUNCTION alice_evil.hijacked() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hijacked as %', current_user;
END $$;
CREATE FUNCTION alice_evil.format(text, VARIADIC text[]) RETURNS text LANGUAGE sql AS $$ SELECT alice_evil.hijacked()::text $$;
CREATE FUNCTION alice_evil.quote_ident(text) RETURNS text LANGUAGE sql AS $$ SELECT alice_evil.hijacked()::text $$;
CREATE FUNCTION alice_evil.pg_has_role(name, oid, text) RETURNS bool LANGUAGE sql AS $$ SELECT alice_evil.hijacked() $$;
CREATE FUNCTION alice_evil.to_json(anyelement) RETURNS json LANGUAGE sql AS $$ SELECT alice_evil.hijacked()::text::json $$;
CREATE FUNCTION alice_evil.texteq(text, text) RETURNS bool LANGUAGE sql AS $$ SELECT alice_evil.hijacked() $$;
CREATE OPERATOR alice_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = alice_evil.texteq);
CREATE TEMPORARY TABLE keys (key text, source regclass);
SET search_path = alice_evil, pg_catalog, pg_temp, public;
-- (they do capture the grantee's own unqualified calls)
SELECT err($$SELECT pg_has_role('admin_alice', 0::oid, 'USAGE')$$) AS own_call;
SELECT err($$SELECT 'a'::text = 'a'::text$$) AS own_operator;
SELECT store_register('alice_again', 'alice_items', ARRAY['id', 'name']);
SELECT store_reload('alice_again');
SELECT store_unregister('alice_again');
SELECT err($$SELECT store_register('bob_again', 'bob_items')$$);
RESET search_path;
DROP TABLE pg_temp.keys;
RESET ROLE;

-- A grantee unregisters its own keys; the superuser keeps every right.
SET ROLE admin_alice;
SELECT store_unregister('alice_items');
SELECT store_unregister('team_items');
RESET ROLE;
SELECT store_reload('bob_items');
SELECT store_reload();
SELECT store_unregister('bob_items');
SELECT key FROM store.keys ORDER BY key;
SELECT count(*) AS problems FROM store_verify();
SELECT rolsuper AS alice_became_superuser FROM pg_roles WHERE rolname = 'admin_alice';

-- Dropping the primary key of a registered table is refused with the hint to unregister first.
SELECT err($$ALTER TABLE owner_items DROP CONSTRAINT owner_items_pkey$$);

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP SCHEMA alice_evil CASCADE;
DROP TABLE alice_items, bob_items, carol_items, team_items, owner_items;
DROP TYPE alice_mood CASCADE;
REVOKE CREATE ON SCHEMA public FROM admin_alice, admin_bob, admin_carol, admin_team;
DROP ROLE admin_alice, admin_bob, admin_carol, admin_dave, admin_team;
DROP FUNCTION err(text), keys_of(json);
