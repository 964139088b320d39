-- store_history and store_changes keep their statements' plans per backend (issue 14), and query
-- row-level security's visible ids only when it filters a readable key: what a reader may see is
-- still decided on every call. Each case reads the feed many times in one session (past the plan
-- cache's five custom plans, so every kept plan is used again), then takes a right away, turns
-- row-level security on, writes a new change or unregisters the key, and reads again: the very
-- next call must show it.
CREATE EXTENSION store;

-- history(v): the history after v as the current role, versions left out ("key:item:state", in order).
CREATE FUNCTION history(v text) RETURNS text LANGUAGE sql AS
    $$ SELECT coalesce(string_agg(coalesce(h.cache_key, '-') || ':' || coalesce(h.item_id, '-') || ':' || h.state, ','),
                       '(none)') FROM store_history(v) AS h $$;
-- changes(v): the delta after v as the current role, without its version.
CREATE FUNCTION changes(v text) RETURNS text LANGUAGE sql AS
    $$ SELECT (store_changes(v)::jsonb - 'version')::text $$;
-- feeds(v, n): n reads of both as the current role; the distinct results.
CREATE FUNCTION feeds(v text, n int) RETURNS text LANGUAGE sql AS
    $$ SELECT string_agg(DISTINCT history(v) || ' / ' || changes(v), ' | ') FROM generate_series(1, n) $$;

CREATE ROLE store_feed_reader;
CREATE ROLE store_feed_group;
CREATE SCHEMA feedk;
GRANT USAGE ON SCHEMA feedk TO store_feed_reader, store_feed_group;
CREATE TABLE feedk.items (id int PRIMARY KEY, name text);
INSERT INTO feedk.items VALUES (1, 'a'), (2, 'b');
SELECT store_register('items', 'feedk.items');
SELECT store_version() AS v0 \gset
UPDATE feedk.items SET name = 'a2' WHERE id = 1;
INSERT INTO feedk.items VALUES (3, 'c');

-- A table-level SELECT, revoked: the key's rows are no longer seen.
GRANT SELECT ON feedk.items TO store_feed_reader;
SET ROLE store_feed_reader;
SELECT feeds(:'v0', 20);
RESET ROLE;
REVOKE SELECT ON feedk.items FROM store_feed_reader;
SET ROLE store_feed_reader;
SELECT history(:'v0'), changes(:'v0');
RESET ROLE;

-- A right held through a role's membership, the membership revoked.
GRANT SELECT ON feedk.items TO store_feed_group;
GRANT store_feed_group TO store_feed_reader;
SET ROLE store_feed_reader;
SELECT feeds(:'v0', 20);
RESET ROLE;
REVOKE store_feed_group FROM store_feed_reader;
SET ROLE store_feed_reader;
SELECT history(:'v0'), changes(:'v0');
RESET ROLE;

-- USAGE on the table's schema, revoked.
GRANT SELECT ON feedk.items TO store_feed_reader;
SET ROLE store_feed_reader;
SELECT feeds(:'v0', 20);
RESET ROLE;
REVOKE USAGE ON SCHEMA feedk FROM store_feed_reader;
SET ROLE store_feed_reader;
SELECT history(:'v0'), changes(:'v0');
RESET ROLE;
GRANT USAGE ON SCHEMA feedk TO store_feed_reader;

-- Row-level security turned on after many reads that needed no visible ids (the reader trusts
-- the table's owner: a member of its role): the next call shows one "reload" row for the key and
-- only the visible document; turned off again, the item rows come back.
CREATE ROLE store_feed_owner;
ALTER TABLE feedk.items OWNER TO store_feed_owner;
GRANT store_feed_owner TO store_feed_reader;
CREATE POLICY only_one ON feedk.items FOR SELECT USING (id = 1);
SET ROLE store_feed_reader;
SELECT feeds(:'v0', 20);
RESET ROLE;
ALTER TABLE feedk.items ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
SET ROLE store_feed_reader;
SELECT history(:'v0'), changes(:'v0');
SELECT feeds(:'v0', 20);
RESET ROLE;
ALTER TABLE feedk.items DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY;
SET ROLE store_feed_reader;
SELECT history(:'v0'), changes(:'v0');
RESET ROLE;

-- A new change after many reads of the same version: the next call has it.
SET ROLE store_feed_reader;
SELECT feeds(:'v0', 20);
RESET ROLE;
DELETE FROM feedk.items WHERE id = 2;
SET ROLE store_feed_reader;
SELECT history(:'v0'), changes(:'v0');
-- and a page boundary after many pages of one row (the page-key statements' kept plans)
SELECT string_agg(DISTINCT (store_changes(:'v0', 1)::jsonb - 'version')::text, ' | ') FROM generate_series(1, 20);
RESET ROLE;

-- The key unregistered after many reads: the next call says it is gone.
SET ROLE store_feed_reader;
SELECT feeds(:'v0', 20);
RESET ROLE;
SELECT store_unregister('items');
SET ROLE store_feed_reader;
SELECT history(:'v0'), changes(:'v0');
RESET ROLE;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP SCHEMA feedk CASCADE;
RESET client_min_messages;
DROP ROLE store_feed_reader, store_feed_group, store_feed_owner;
DROP FUNCTION feeds(text, int), history(text), changes(text);
