
-----------------------------------------------------------------------------------------------
-- Versions: the compaction horizon a client's version is read against, and the version of now.
-----------------------------------------------------------------------------------------------

-- The compaction state a version is read against: this store's horizon, and whether any history
-- at all was ever removed (then the "0" version must reload).
CREATE OR REPLACE FUNCTION store._horizon(OUT compacted_xid xid8, OUT ever_compacted bool)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(max(m.compacted_xid) FILTER (WHERE m.origin = store._origin()), '0'),
           coalesce(bool_or(m.compacted_xid > '0'), false)
      FROM store.meta AS m
$$;

-- Reads a client's version against the current snapshot: the history rows after it are this
-- store's (origin) rows with xid >= xmax or xid in xip, or every row for the "0" version
-- (from_start); too_old: compaction may have removed changes it lacks; ahead: it sees commits
-- this snapshot does not yet (answer nothing); current: the version to answer with.
CREATE OR REPLACE FUNCTION store._read_cursor(after text, compacted_xid xid8, ever_compacted bool,
                                   OUT origin int4, OUT xmax xid8, OUT xip xid8[], OUT from_start bool,
                                   OUT too_old bool, OUT ahead bool, OUT current text)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_read_cursor';

CREATE OR REPLACE FUNCTION @extschema@.store_version() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_current_cursor';
COMMENT ON FUNCTION @extschema@.store_version() IS
    'the version of the current snapshot, without data: follow the history from now on';
