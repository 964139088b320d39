
-----------------------------------------------------------------------------------------------
-- Shapes of nested documents (issue 11): a shape (PostgREST's select syntax) resolved for a root
-- table against the catalog's foreign keys, and the query rendering a root row's document.
-- store_register(..., shape => ...) registers a nested key; store_explain(key) shows its tree.
-----------------------------------------------------------------------------------------------

-- The shape resolved for source: one row per object, the root first (path ''), then depth first
-- in document order. kind: root, many-to-one, one-to-many, one-to-one or many-to-many;
-- constraint_name: the foreign key joining the object to its parent (many-to-many: the junction's
-- to the parent); junction and far_constraint_name: many-to-many's junction table and its foreign
-- key to the embedded table; join_columns: holder(columns) -> target(columns) per foreign key;
-- index_ok: every foreign key of the edge has an index on the table holding it that leads with
-- its columns (finding the documents a changed row belongs to, and rendering arrays, need it).
CREATE OR REPLACE FUNCTION store._explain_shape(source regclass, shape text)
    RETURNS TABLE (path text, table_name regclass, kind text, constraint_name name, junction regclass,
                   far_constraint_name name, join_columns text, index_ok bool)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_explain_shape';
REVOKE ALL ON FUNCTION store._explain_shape(regclass, text) FROM PUBLIC;

-- The SQL expression (json) rendering the document of source's row named root_alias, exactly as
-- the equivalent nested json_build_object / json_agg query: keys in the shape's order, values by
-- to_json, arrays ordered by the embedded table's primary key ([] when empty), null for a missing
-- to-one object. Use: EXECUTE 'SELECT ' || it || ' FROM source AS r'.
CREATE OR REPLACE FUNCTION store._shape_query(source regclass, shape text, root_alias text DEFAULT 'r')
    RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_shape_query';
REVOKE ALL ON FUNCTION store._shape_query(regclass, text, text) FROM PUBLIC;

-- For each place a table occurs in the shape resolved for source (the root first, then depth first
-- in document order; a many-to-many object's junction right after the object): the object's path,
-- the table, and the statement mapping a set of that table's changed rows to the DISTINCT ids
-- (jsonb, as the store renders them) of the root rows whose documents show them. The rows are
-- given as one array per column of columns ($1 .. $n, each of that column's type, zipped row by
-- row): the columns joining the table to its parent object. watched: the table's columns whose
-- change can alter a document (shown, joined or ordered by; the root's key); an update changing
-- none of them affects no document. Maintenance of nested keys runs these with the old and new
-- values of the rows a transaction changed.
CREATE OR REPLACE FUNCTION store._reverse_lookups(source regclass, shape text)
    RETURNS TABLE (path text, table_name regclass, columns text[], watched text[], lookup_sql text)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_reverse_lookups';
REVOKE ALL ON FUNCTION store._reverse_lookups(regclass, text) FROM PUBLIC;

-- Registering a nested key: the shape's canonical text and the root columns it reads (store.keys'
-- nested and columns), after checking that the root table's owner may read every column the shape
-- reads, in every table, without row-level security and only through code it trusts (42501); a
-- NOTICE for each edge whose lookup has no index.
CREATE OR REPLACE FUNCTION store._nested_registration(source regclass, shape text, OUT nested text, OUT columns text[])
    RETURNS record
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_nested_registration';
REVOKE ALL ON FUNCTION store._nested_registration(regclass, text) FROM PUBLIC;

-- The SQL expression (json) rendering a nested key's document of its root row aliased t, after
-- the checks of store._nested_registration (for store._source_query).
CREATE OR REPLACE FUNCTION store._nested_query(source regclass, nested text) RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_nested_query';
REVOKE ALL ON FUNCTION store._nested_query(regclass, text) FROM PUBLIC;

-- store_explain(key): the resolved tree of a key's documents, for whoever may read the key (as
-- store_get): one row per object, the root first (see store._explain_shape); a flat key shows its
-- root alone.
CREATE OR REPLACE FUNCTION @extschema@.store_explain(key text)
    RETURNS TABLE (path text, table_name regclass, kind text, constraint_name name, junction regclass,
                   far_constraint_name name, join_columns text, index_ok bool)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_explain';
COMMENT ON FUNCTION @extschema@.store_explain(text) IS
    'the resolved tree of a key''s documents: each object''s table, relationship, foreign key and whether its lookup is indexed';
