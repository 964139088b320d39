
-----------------------------------------------------------------------------------------------
-- Versions: the version of now. (Clients' versions are read in C: src/core/cursor.cpp and
-- src/pg/cursor_glue.cpp.)
-----------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.store_version() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_current_cursor';
COMMENT ON FUNCTION @extschema@.store_version() IS
    'the version of the current snapshot, without data: follow the history from now on';
