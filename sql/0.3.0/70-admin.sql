
---------------------------------------------------------------------------------------------
-- Administration that the store owner can grant: store_register, store_unregister, both
-- store_reload and store_compact are C entry points that check the caller's rights, then run
-- their internal function (store._register, ...) as the store owner. A grantee needs no
-- privilege on the schema store and administers only the tables it owns.
---------------------------------------------------------------------------------------------

-- Compaction (see 0.1.0), run as the store owner for store_compact.
CREATE FUNCTION store._compact(keep interval) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
    gone record;
BEGIN
    IF keep IS NULL OR keep < interval '0' THEN
        RAISE EXCEPTION 'keep must be a non-negative interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    removed := 0;
    -- per origin, delete and remember the newest transaction removed
    FOR gone IN
        WITH d AS (DELETE FROM store.history AS h WHERE h.added_on < now() - keep RETURNING h.origin, h.xid)
        SELECT d.origin, max(d.xid) AS newest, count(*) AS n FROM d GROUP BY d.origin
    LOOP
        UPDATE store.meta AS m SET compacted_xid = greatest(m.compacted_xid, gone.newest) WHERE m.origin = gone.origin;
        IF NOT FOUND THEN
            INSERT INTO store.meta (origin, compacted_xid) VALUES (gone.origin, gone.newest);
        END IF;
        removed := removed + gone.n;
    END LOOP;
    RETURN removed;
END
$$;

-- The internals run only for the entry points (as the store owner), or for the store owner.
REVOKE ALL ON FUNCTION store._register(text, regclass, text[], text), store._unregister(text), store._reload(),
                       store._reload(text), store._compact(interval) FROM PUBLIC;

-- The entry points (src/pg/admin.cpp). They keep their comments and grants (still not PUBLIC's).
-- store_register: the caller must own the table (or be a member of its owner role). Its new
-- filter argument makes a new function: the old one is set aside, its grants are given to the
-- new one, then it goes.
ALTER FUNCTION @extschema@.store_register(text, regclass, text[]) RENAME TO store_register_0_2;
CREATE FUNCTION @extschema@.store_register(key text, source regclass, columns text[] DEFAULT NULL,
                                           filter text DEFAULT NULL)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_register';
REVOKE ALL ON FUNCTION @extschema@.store_register(text, regclass, text[], text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.store_register(text, regclass, text[], text) IS
    'adds a table to the store under key (columns: which to serialize, NULL for all; filter: which rows, NULL for all) and builds its documents';
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT a.grantee, a.is_grantable
               FROM pg_catalog.pg_proc AS p, pg_catalog.aclexplode(p.proacl) AS a
              WHERE p.oid = '@extschema@.store_register_0_2(text, regclass, text[])'::pg_catalog.regprocedure
                AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.store_register(text, regclass, text[], text) TO %s%s',
                                  CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::pg_catalog.regrole::text END,
                                  CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
DROP FUNCTION @extschema@.store_register_0_2(text, regclass, text[]);
-- store_unregister(key), store_reload(key): the caller must own the key's table.
CREATE OR REPLACE FUNCTION @extschema@.store_unregister(key text)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_unregister';
CREATE OR REPLACE FUNCTION @extschema@.store_reload(key text)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_reload';
-- store_reload(): the caller must own every registered key's table.
CREATE OR REPLACE FUNCTION @extschema@.store_reload()
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_reload';
-- store_compact: EXECUTE is the whole decision (it touches only the history).
CREATE OR REPLACE FUNCTION @extschema@.store_compact(keep interval)
    RETURNS bigint LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_compact';

-- Dead since the readers moved to C (0.2.0): nothing calls them. (The library keeps their C
-- symbols, store_current_cursor and store_item_id, for stores not yet updated.)
DROP FUNCTION store._current_cursor();
DROP FUNCTION store._item_id(regtype, text);
