
---------------------------------------------------------------------------------------------
-- Partial keys: store_register(..., filter => 'active') stores only the rows that match
---------------------------------------------------------------------------------------------
-- (Before 40-triggers.sql: reinstalling the triggers there runs the ALTER TABLE handling, whose
-- store._refresh reads these columns.)

-- filter: the key's filter as canonical SQL over the table's columns (kept current when they are
-- renamed), NULL for every row; filter_node: the same expression checked and analyzed
-- (nodeToString), which the capture trigger evaluates. A 0.2.0 library never sees them.
ALTER TABLE store.keys ADD COLUMN filter text, ADD COLUMN filter_node text;
COMMENT ON COLUMN store.keys.filter IS 'the rows the key stores (NULL: every row), as SQL over its table''s columns';

-- The filter expression checked against source: (canonical text, node tree). Refused: anything
-- a PostgreSQL 15 publication row filter may not contain (unknown columns 42703; subqueries,
-- set-returning functions 0A000; aggregates 42803; window functions 42P20; user-defined or
-- mutable functions, user-defined types, operators or collations, system columns 42P17; not
-- boolean 42804).
CREATE FUNCTION store._parse_filter(source regclass, expression text, OUT filter text, OUT filter_node text)
    RETURNS record
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_parse_filter';

-- A key's filter after DDL on its table: follows renamed columns, is read again after a retype
-- (and refused like at registration), refuses (2BP01) a dropped column.
CREATE FUNCTION store._refresh_filter(source regclass, node text, key text, OUT filter text, OUT filter_node text)
    RETURNS record
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_refresh_filter';

-- A key's filter as a condition over its table aliased t (t.column), for store._source_query.
CREATE FUNCTION store._filter_condition(source regclass, node text, key text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_filter_condition';
