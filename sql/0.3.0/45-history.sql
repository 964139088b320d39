
---------------------------------------------------------------------------------------------
-- One history appender: the library writes every history row (C), SQL paths call it too
---------------------------------------------------------------------------------------------

-- Appends one whole-key (cache_key) or whole-store (cache_key NULL) history row, item NULL,
-- through the library's direct writer: the same row the capture triggers append, as the store
-- owner, for this transaction's xid and origin.
CREATE FUNCTION store._append_history(cache_key text, state text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_append_history';
REVOKE ALL ON FUNCTION store._append_history(text, text) FROM PUBLIC;

-- Appends one whole-key or whole-store history row (item NULL) and marks the transaction for
-- its NOTIFY with every key it concerns.
CREATE OR REPLACE FUNCTION store._log(cache_key text, state text, keys text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
BEGIN
    PERFORM store._append_history(_log.cache_key, _log.state);
    PERFORM store._note_change(NULL);
    FOREACH k IN ARRAY keys LOOP
        PERFORM store._note_change(k);
    END LOOP;
END
$$;
