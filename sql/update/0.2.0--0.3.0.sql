-- store 0.2.0 -> 0.3.0: security and reliability, every table shape (composite keys, partitioned
-- tables, partial keys), grantable administration.
--
-- Built by the Makefile into sql/store--0.2.0--0.3.0.sql: each "\ir" line below is replaced by
-- that file of sql/src/, the install script's source, so the update declares every function it
-- changes exactly as a fresh install does (the files it includes only declare functions, with
-- CREATE OR REPLACE). Around them, what only an update does: tables altered, objects renamed
-- or dropped, data checked and rebuilt.
\echo Use "ALTER EXTENSION store UPDATE TO '0.3.0'" to load this file. \quit

-- The event triggers are created again by 90-event-triggers.sql, after the functions they run;
-- meanwhile the DDL below runs none of 0.2.0's.
DROP EVENT TRIGGER store_alter_table;
DROP EVENT TRIGGER store_drop;

-- Partial keys: the filter columns (see 00-schema.sql).
ALTER TABLE store.keys ADD COLUMN filter text, ADD COLUMN filter_node text;
COMMENT ON COLUMN store.keys.filter IS 'the rows the key stores (NULL: every row), as SQL over its table''s columns';
-- Nested keys: the shape (see 00-schema.sql).
ALTER TABLE store.keys ADD COLUMN nested text;
COMMENT ON COLUMN store.keys.nested IS 'a nested key''s shape (canonical text; NULL: a flat key)';

-- store_register gained an argument (filter), which makes it a new function: the old one is set
-- aside here, and its grants are given to the new one below.
ALTER FUNCTION @extschema@.store_register(text, regclass, text[]) RENAME TO store_register_0_2;

-- Dead since the readers moved to C (0.2.0): nothing calls them. (The library keeps their C
-- symbols, store_current_cursor and store_item_id, for stores not yet updated.)
DROP FUNCTION store._current_cursor();
DROP FUNCTION store._item_id(regtype, text);
-- Single-column keys only (0.1.0); store._primary_key_columns replaces it.
DROP FUNCTION store._primary_key_column(regclass);

-- The readers' SQL internals: store_changes, store_history and store_get read in C now.
DROP FUNCTION store._changes_text(text, oid, jsonb);
DROP FUNCTION store._history_rows(text, oid, jsonb);
DROP FUNCTION store._history_for(int4, xid8, xid8[], bool, oid);
DROP FUNCTION store._history_after(int4, xid8, xid8[], bool);
DROP FUNCTION store._read_cursor(text, xid8, bool);
DROP FUNCTION store._horizon();
DROP FUNCTION store._get_text(text, jsonb, oid, jsonb);
DROP FUNCTION store._require_readable(text, oid);
DROP FUNCTION store._key_array(text, jsonb);
DROP FUNCTION store._key_documents(text);

-- store_apply's replays (see 00-schema.sql).
CREATE TABLE store.mutations (
    role text NOT NULL,
    client_id text NOT NULL,
    last_mutation bigint NOT NULL,
    applied_at timestamptz,
    PRIMARY KEY (role, client_id)
);
COMMENT ON TABLE store.mutations IS 'store_apply: the last applied mutationId per role and clientId (replays of it or older ones write nothing)';
COMMENT ON COLUMN store.mutations.role IS 'the role that ran store_apply (current_user), by name: a dump restores it to the role of that name';
SELECT pg_catalog.pg_extension_config_dump('store.mutations', '');
REVOKE ALL ON store.mutations FROM PUBLIC;

\ir ../src/10-versions.sql
\ir ../src/20-rendering.sql
\ir ../src/25-shapes.sql
\ir ../src/30-capture.sql
\ir ../src/40-reading.sql
\ir ../src/50-feed.sql
\ir ../src/60-admin.sql
\ir ../src/70-ddl.sql
\ir ../src/80-apply.sql
\ir ../src/90-event-triggers.sql

-- A store written by an earlier version may hold keys this version refuses (ids that do not
-- render canonically, casts to json the table's owner does not trust): the update stops and
-- names them, so nothing is served that could leak or be forged.
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT * FROM store.keys ORDER BY key LOOP
        BEGIN
            PERFORM store._check_source(k.source, k.column_numbers);
        EXCEPTION WHEN feature_not_supported OR insufficient_privilege THEN
            RAISE EXCEPTION 'store key "%" cannot be kept: %', k.key, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = pg_catalog.format('Unregister it before updating: SELECT store_unregister(%L);', k.key);
        END;
    END LOOP;
END
$$;

-- The old store_register's grants go to the new one (the extension owner may have granted it).
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT a.grantee, a.is_grantable
               FROM pg_catalog.pg_proc AS p, pg_catalog.aclexplode(p.proacl) AS a
              WHERE p.oid = '@extschema@.store_register_0_2(text, regclass, text[])'::pg_catalog.regprocedure
                AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.store_register(text, regclass, text[], text, text) TO %s%s',
                                  CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::pg_catalog.regrole::text END,
                                  CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
DROP FUNCTION @extschema@.store_register_0_2(text, regclass, text[]);

-- Keys registered before: their triggers are reinstalled ALWAYS, including any that were dropped,
-- disabled or renamed meanwhile.
DO $$
DECLARE
    k text;
BEGIN
    FOR k IN SELECT r.key FROM store.keys AS r
              WHERE EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = r.source) ORDER BY r.key LOOP
        PERFORM store._repair_triggers(k);
    END LOOP;
END
$$;

-- Documents and ids are now rendered under fixed output settings (canonical text, whoever wrote
-- the row): rebuild every document, and tell clients (one F row) to reload once.
DO $$
BEGIN
    IF EXISTS (SELECT FROM store.keys) THEN
        PERFORM @extschema@.store_reload();
    END IF;
END
$$;
