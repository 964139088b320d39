-- A hostile search_path: a schema ahead of everything that shadows functions and operators the
-- extension uses. Every store function and trigger behaves the same and calls none of them.
CREATE EXTENSION store;
CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items VALUES (1, 'foo');

CREATE SCHEMA evil;
CREATE FUNCTION evil.trap(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hostile % was called', what;
END $$;
CREATE FUNCTION evil.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('to_jsonb'); RETURN NULL; END $$;
CREATE FUNCTION evil.to_json(anyelement) RETURNS json LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('to_json'); RETURN NULL; END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('now'); RETURN NULL; END $$;
CREATE FUNCTION evil.string_agg(text, text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('string_agg'); RETURN NULL; END $$;
CREATE FUNCTION evil.coalesce(text, text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('coalesce'); RETURN NULL; END $$;
CREATE FUNCTION evil.text_eq(text, text) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('= on text'); RETURN NULL; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE FUNCTION evil.jsonb_eq(jsonb, jsonb) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('= on jsonb'); RETURN NULL; END $$;
CREATE OPERATOR evil.= (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.jsonb_eq);
CREATE FUNCTION evil.concat_text(text, text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('||'); RETURN NULL; END $$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.concat_text);
CREATE FUNCTION evil.xid8_ge(xid8, xid8) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('>= on xid8'); RETURN NULL; END $$;
CREATE OPERATOR evil.>= (LEFTARG = xid8, RIGHTARG = xid8, FUNCTION = evil.xid8_ge);
CREATE FUNCTION evil.xid8_eq(xid8, xid8) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('= on xid8'); RETURN NULL; END $$;
CREATE OPERATOR evil.= (LEFTARG = xid8, RIGHTARG = xid8, FUNCTION = evil.xid8_eq);
CREATE FUNCTION evil.jsonb_agg(anyelement) RETURNS jsonb LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('jsonb_agg'); RETURN NULL; END $$;
CREATE FUNCTION evil.jsonb_build_object(text, jsonb) RETURNS jsonb LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('jsonb_build_object'); RETURN NULL; END $$;
CREATE FUNCTION evil.has_column_privilege(oid, regclass, smallint, text) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('has_column_privilege'); RETURN NULL; END $$;
CREATE FUNCTION evil.format(text, text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('format'); RETURN NULL; END $$;
CREATE FUNCTION evil.pg_current_xact_id() RETURNS xid8 LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('pg_current_xact_id'); RETURN NULL; END $$;
CREATE FUNCTION evil.md5(text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('md5'); RETURN NULL; END $$;
CREATE FUNCTION evil.xid8_lt(xid8, xid8) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('< on xid8'); RETURN NULL; END $$;
CREATE OPERATOR evil.< (LEFTARG = xid8, RIGHTARG = xid8, FUNCTION = evil.xid8_lt);
CREATE FUNCTION evil.xid8_gt(xid8, xid8) RETURNS bool LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('> on xid8'); RETURN NULL; END $$;
CREATE OPERATOR evil.> (LEFTARG = xid8, RIGHTARG = xid8, FUNCTION = evil.xid8_gt);
CREATE FUNCTION evil.xid8_max_step(xid8, xid8) RETURNS xid8 LANGUAGE plpgsql AS
    $$ BEGIN PERFORM evil.trap('max(xid8)'); RETURN NULL; END $$;
CREATE AGGREGATE evil.max(xid8) (SFUNC = evil.xid8_max_step, STYPE = xid8);
-- The traps fire when reached through the hostile path.
SET search_path = evil, public, pg_catalog;
SELECT 'a' = 'a';

-- Every store function and the triggers, under the hostile path.
SELECT store_register('items', 'items');
SELECT store_version() AS v1 \gset
INSERT INTO items VALUES (2, 'bar');
UPDATE items SET name = 'BAR' WHERE id = 2;
UPDATE items SET id = 3 WHERE id = 2;
DELETE FROM items WHERE id = 1;
SELECT store_snapshot()::jsonb - 'version' AS snapshot;
SELECT store_snapshot('items')::jsonb - 'version' AS snapshot_of_key;
SELECT store_snapshot_tag() IS NOT NULL AS tag;
SELECT store_get('items', '3');
SELECT cache_key, item_id, state FROM store_history(:'v1');
SELECT store_changes(:'v1')::jsonb - 'version' AS changes;
SELECT store_version() AS v2 \gset
SELECT store_reload('items');
SELECT store_reload();
TRUNCATE items;
SELECT store_unregister('items');
SELECT cache_key, item_id, state FROM store_history(:'v2');
SELECT store_compact('1 day');

-- A reader (no superuser) with the hostile path first: the read gates and row-level-security
-- checks call nothing of it either.
CREATE ROLE store_path_reader;
GRANT USAGE ON SCHEMA evil TO store_path_reader;
GRANT SELECT ON items TO store_path_reader;
SELECT store_register('items', 'items');
SET ROLE store_path_reader;
SET search_path = evil, public, pg_catalog;
SELECT store_snapshot()::jsonb - 'version' AS reader_snapshot;
SELECT store_get('items', '3') AS reader_get;
SELECT store_snapshot_tag() IS NOT NULL AS reader_tag;
SELECT count(*) AS reader_history FROM store_history('0');
SELECT store_changes('0')::jsonb -> 'reload' AS reader_changes;
RESET ROLE;
SET search_path = evil, public, pg_catalog;
SELECT store_unregister('items');
-- compaction leaves a horizon (store.meta) for the tag to read
SELECT store_compact('0') > 0 AS compacted, store_snapshot_tag() IS NOT NULL AS tag_after_compaction;
DROP OWNED BY store_path_reader;
DROP ROLE store_path_reader;

-- An empty search_path works too.
SET search_path = '';
SELECT public.store_register('items', 'public.items');
INSERT INTO public.items VALUES (4, 'four');
SELECT public.store_snapshot()::jsonb OPERATOR(pg_catalog.-) 'version' AS snapshot;
SELECT public.store_snapshot_tag() IS NOT NULL AS tag;

RESET search_path;

-- quote_all_identifiers makes format_type and quote_ident quote every name: a key registered in
-- such a session is read in others, and the other way round (the document signature a key is
-- registered with, and read against, is the same in every session).
SET quote_all_identifiers = on;
CREATE TABLE quoted_items (id int PRIMARY KEY, name text, note varchar(10));
INSERT INTO quoted_items VALUES (1, 'q', 'n');
SELECT store_register('quoted_items', 'quoted_items');
SELECT store_get('quoted_items', '1');
SELECT shape FROM store.keys WHERE key = 'quoted_items';
RESET quote_all_identifiers;
SELECT store_get('quoted_items', '1');
SET quote_all_identifiers = on;
SELECT json_array_length(store_snapshot() -> 'items') AS items, json_array_length(store_snapshot() -> 'quoted_items') AS quoted_items;
RESET quote_all_identifiers;
SELECT store_unregister('quoted_items');
DROP TABLE quoted_items;

SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE items;
