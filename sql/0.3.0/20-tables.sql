
---------------------------------------------------------------------------------------------
-- Every real table: composite primary keys (a document's id is the JSON array of its key
-- values, in key-column order) and partitioned tables (registered at their root: every
-- partition's rows, present and future)
---------------------------------------------------------------------------------------------

-- The primary-key columns of source, in key order; errors for anything but an ordinary or
-- partitioned table with a non-deferrable primary key, and for the store's own tables.
CREATE FUNCTION store._primary_key_columns(source regclass) RETURNS name[]
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rel record;
    pk record;
BEGIN
    SELECT c.relkind, c.relnamespace INTO rel FROM pg_catalog.pg_class AS c WHERE c.oid = source;
    IF rel.relkind IS DISTINCT FROM 'r' AND rel.relkind IS DISTINCT FROM 'p' THEN
        RAISE EXCEPTION '"%" is not a table', source
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Only ordinary and partitioned tables can be registered; views, materialized views and foreign tables cannot.';
    END IF;
    IF rel.relnamespace = 'store'::regnamespace THEN
        RAISE EXCEPTION 'the store''s own table "%" cannot be registered', source
            USING ERRCODE = 'wrong_object_type';
    END IF;
    SELECT i.indkey, i.indnkeyatts, i.indimmediate INTO pk
      FROM pg_catalog.pg_index AS i WHERE i.indrelid = source AND i.indisprimary;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" has no primary key', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'The store identifies documents by their table''s primary key; add one first.';
    END IF;
    IF NOT pk.indimmediate THEN
        RAISE EXCEPTION 'the primary key of table "%" is deferrable', source
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'The store needs a primary key that is checked immediately.';
    END IF;
    RETURN (SELECT pg_catalog.array_agg(a.attname ORDER BY s.n)
              FROM pg_catalog.generate_series(0, pk.indnkeyatts - 1) AS s(n)
              JOIN pg_catalog.pg_attribute AS a ON a.attrelid = source AND a.attnum = pk.indkey[s.n]);
END
$$;

-- What store.keys.id_type records: the type of a single-column primary key (how store_get
-- reads an id), or record for a composite key (its columns' types, in key order, read the
-- elements of an id given as a JSON array).
CREATE FUNCTION store._id_type(source regclass) RETURNS regtype
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
CREATE FUNCTION store._id_expression(source regclass) RETURNS text
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

-- How a query names source's rows: ONLY an ordinary table (its inheritance children are not
-- registered), a partitioned table with all its partitions.
CREATE FUNCTION store._rows_of(source regclass) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN c.relkind = 'p' THEN format('%s', $1) ELSE format('ONLY %s', $1) END
      FROM pg_class AS c WHERE c.oid = $1
$$;

-- A query over the registered table giving (id jsonb, doc json) for every row (see 0.2.0), with
-- composite ids and every partition's rows.
CREATE OR REPLACE FUNCTION store._source_query(registration store.keys) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chosen text := 't.*';
BEGIN
    IF registration.columns IS NOT NULL THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ' ORDER BY o) INTO chosen
          FROM pg_catalog.unnest(registration.columns) WITH ORDINALITY AS u(c, o);
    END IF;
    RETURN pg_catalog.format(
        'SELECT %s AS id, pg_catalog.to_json(d.*) AS doc '
        'FROM %s AS t CROSS JOIN LATERAL (SELECT %s) AS d',
        store._id_expression(registration.source), store._rows_of(registration.source), chosen);
END
$$;

-- As in 0.1.0, with composite ids and every partition's rows.
CREATE OR REPLACE FUNCTION store._visibility_query(reader oid, key text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'SELECT pg_catalog.jsonb_build_object('
           || string_agg(format('%L, (SELECT COALESCE(pg_catalog.jsonb_agg(%s), ''[]''::pg_catalog.jsonb) FROM %s AS t)',
                                k.key, store._id_expression(k.source), store._rows_of(k.source)), ', ' ORDER BY k.key)
           || ')'
      FROM store.keys AS k
     WHERE ($2 IS NULL OR k.key = $2) AND store._may_read(k, $1, $2 IS NULL) AND store._rls_active(k.source, $1)
    HAVING count(*) > 0
$$;

-- The document's signature (see 0.1.0): the chosen columns' names and types, then the primary
-- key's columns (one name, as before, for a single-column key).
CREATE OR REPLACE FUNCTION store._shape(source regclass, column_numbers int2[]) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                               ORDER BY coalesce(array_position($2, a.attnum), a.attnum)), '')
           || ' | primary key '
           || (SELECT string_agg(quote_ident(c.name), ', ' ORDER BY c.n)
                 FROM unnest(store._primary_key_columns($1)) WITH ORDINALITY AS c(name, n))
      FROM pg_attribute AS a
     WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
       AND ($2 IS NULL OR a.attnum = ANY ($2))
$$;
