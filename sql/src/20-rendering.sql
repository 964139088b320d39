
-----------------------------------------------------------------------------------------------
-- Rendering: which tables can be registered (primary keys, composite keys, partitioned roots),
-- their filters, and the query that renders a key's ids and documents canonically, only through
-- code the table's owner trusts.
-----------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION store._check_key(key text) RETURNS void
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_check_key';

-- The primary-key columns of source, in key order; errors for anything but an ordinary or
-- partitioned table with a non-deferrable primary key, and for the store's own tables.
CREATE OR REPLACE FUNCTION store._primary_key_columns(source regclass) RETURNS name[]
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_primary_key_columns';

-- What store.keys.id_type records: the type of a single-column primary key (how store_get
-- reads an id), or record for a composite key (its columns' types, in key order, read the
-- elements of an id given as a JSON array).
CREATE OR REPLACE FUNCTION store._id_type(source regclass) RETURNS regtype
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN cardinality(k.columns) = 1
                THEN (SELECT a.atttypid::regtype FROM pg_attribute AS a
                       WHERE a.attrelid = $1 AND a.attname = k.columns[1])
                ELSE 'record'::regtype END
      FROM (SELECT store._primary_key_columns($1)) AS k(columns)
$$;

-- The SQL expression of a row's id over table alias t: to_jsonb of the key column, or the
-- jsonb array of the key columns in key order (what the capture trigger builds, byte for byte).
CREATE OR REPLACE FUNCTION store._id_expression(source regclass) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN cardinality(k.columns) = 1 THEN format('pg_catalog.to_jsonb(t.%I)', k.columns[1])
                ELSE 'pg_catalog.jsonb_build_array('
                     || (SELECT string_agg(format('t.%I', c.name), ', ' ORDER BY c.n)
                           FROM unnest(k.columns) WITH ORDINALITY AS c(name, n))
                     || ')' END
      FROM (SELECT store._primary_key_columns($1)) AS k(columns)
$$;

-- Checks a chosen column list: non-empty, no NULLs or duplicates, every column present.
CREATE OR REPLACE FUNCTION store._check_columns(source regclass, columns text[]) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col text;
BEGIN
    IF columns IS NULL THEN
        RETURN;
    END IF;
    IF pg_catalog.cardinality(columns) = 0 OR pg_catalog.array_position(columns, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'columns must be NULL (all columns) or a non-empty list of column names'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (SELECT pg_catalog.count(DISTINCT c) FROM pg_catalog.unnest(columns) AS c) <> pg_catalog.cardinality(columns) THEN
        RAISE EXCEPTION 'columns lists a column twice: %', columns
            USING ERRCODE = 'duplicate_column';
    END IF;
    FOREACH col IN ARRAY columns LOOP
        PERFORM FROM pg_catalog.pg_attribute AS a
          WHERE a.attrelid = source AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of table "%" does not exist', col, source
                USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
END
$$;

-- The attribute numbers of the chosen column names (NULL: all columns).
CREATE OR REPLACE FUNCTION store._column_numbers(source regclass, columns text[]) RETURNS int2[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN $2 IS NULL THEN NULL ELSE
        (SELECT array_agg(a.attnum ORDER BY u.o)
           FROM unnest($2) WITH ORDINALITY AS u(c, o)
           JOIN pg_attribute AS a ON a.attrelid = $1 AND a.attname = u.c)
    END
$$;

-- The filter expression checked against source: (canonical text, node tree). Refused: anything
-- a PostgreSQL 15 publication row filter may not contain (unknown columns 42703; subqueries,
-- set-returning functions 0A000; aggregates 42803; window functions 42P20; user-defined or
-- mutable functions, user-defined types, operators or collations, system columns 42P17; not
-- boolean 42804).
CREATE OR REPLACE FUNCTION store._parse_filter(source regclass, expression text, OUT filter text, OUT filter_node text)
    RETURNS record
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_parse_filter';

-- A key's filter after DDL on its table: follows renamed columns, is read again after a retype
-- (and refused like at registration), refuses (2BP01) a dropped column.
CREATE OR REPLACE FUNCTION store._refresh_filter(source regclass, node text, key text, OUT filter text, OUT filter_node text)
    RETURNS record
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_refresh_filter';

-- A key's filter as a condition over its table aliased t (t.column), for store._source_query.
CREATE OR REPLACE FUNCTION store._filter_condition(source regclass, node text, key text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'store_filter_condition';

-- Errors unless source's documents (the chosen columns; NULL: all) can be rendered canonically
-- and only by code its owner trusts: a primary key of a type whose ids print the same in every
-- session and never alike for different keys, and no cast to json whose function belongs to a
-- role without the table owner's privileges (it would run with them).
CREATE OR REPLACE FUNCTION store._check_source(source regclass, column_numbers int2[]) RETURNS void
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_check_source';

-- How a query names source's rows: ONLY an ordinary table (its inheritance children are not
-- registered), a partitioned table with all its partitions.
CREATE OR REPLACE FUNCTION store._rows_of(source regclass) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN c.relkind = 'p' THEN format('%s', $1) ELSE format('ONLY %s', $1) END
      FROM pg_class AS c WHERE c.oid = $1
$$;

-- The document's signature, which DDL handling and readers compare: the chosen columns' names
-- and types, then the primary key's columns (C: src/pg/signature.cpp).
CREATE OR REPLACE FUNCTION store._shape(source regclass, column_numbers int2[]) RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_shape';

-- A query over the registered table giving (id jsonb, doc json) for every row that matches the
-- key's filter, every partition's rows included: to_json over the chosen columns, which renders
-- exactly what the capture trigger renders; for a nested key, its shape's nested query
-- (store._nested_query).
CREATE OR REPLACE FUNCTION store._source_query(registration store.keys) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chosen text := 't.*';
BEGIN
    IF registration.nested IS NOT NULL THEN -- a nested key: its shape's query over the root row t
        RETURN pg_catalog.format('SELECT %s AS id, %s AS doc FROM %s AS t',
                                 store._id_expression(registration.source),
                                 store._nested_query(registration.source, registration.nested),
                                 store._rows_of(registration.source))
            || coalesce(' WHERE ' || store._filter_condition(registration.source, registration.filter_node, registration.key), '');
    END IF;
    IF registration.columns IS NOT NULL THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ' ORDER BY o) INTO chosen
          FROM pg_catalog.unnest(registration.columns) WITH ORDINALITY AS u(c, o);
    END IF;
    RETURN pg_catalog.format(
        'SELECT %s AS id, pg_catalog.to_json(d.*) AS doc '
        'FROM %s AS t CROSS JOIN LATERAL (SELECT %s) AS d',
        store._id_expression(registration.source), store._rows_of(registration.source), chosen)
        || coalesce(' WHERE ' || store._filter_condition(registration.source, registration.filter_node, registration.key), '');
END
$$;

-- The query re-rendering some documents of a nested key after a write: (id text, doc text) of the
-- root rows whose ids ($1, jsonb[]) are given and that match the key's filter. The ids are read
-- back into the key columns' (base) types so the primary key's index finds the rows; the ids as
-- rendered are compared too, so only exactly those documents come back.
CREATE OR REPLACE FUNCTION store._nested_render_query(registration store.keys) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('SELECT %s::pg_catalog.text AS id, (%s)::pg_catalog.text AS doc FROM %s AS t WHERE (%s) IN (SELECT %s FROM '
                  'pg_catalog.unnest($1::pg_catalog.jsonb[]) AS x(v)) AND %s OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.jsonb[])',
                  store._id_expression($1.source), store._nested_query($1.source, $1.nested), store._rows_of($1.source),
                  string_agg(format('t.%I', c.name), ', ' ORDER BY c.n),
                  string_agg(format('(x.v OPERATOR(pg_catalog.%s) %s)::%s',
                                    CASE WHEN cardinality(k.columns) = 1 THEN '#>>' ELSE '->>' END,
                                    CASE WHEN cardinality(k.columns) = 1 THEN '''{}''::pg_catalog.text[]' ELSE (c.n - 1)::text END,
                                    format_type(coalesce(nullif(ty.typbasetype, 0), a.atttypid), NULL)), ', ' ORDER BY c.n),
                  store._id_expression($1.source))
           || coalesce(' AND ' || store._filter_condition($1.source, $1.filter_node, $1.key), '')
      FROM (SELECT store._primary_key_columns($1.source)) AS k(columns)
     CROSS JOIN LATERAL unnest(k.columns) WITH ORDINALITY AS c(name, n)
      JOIN pg_attribute AS a ON a.attrelid = $1.source AND a.attname = c.name
      JOIN pg_type AS ty ON ty.oid = a.atttypid
     GROUP BY k.columns
$$;

CREATE OR REPLACE FUNCTION store._source_rows(key text, OUT id jsonb, OUT doc json) RETURNS SETOF record
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_source_rows';
REVOKE ALL ON FUNCTION store._source_rows(text) FROM PUBLIC;
