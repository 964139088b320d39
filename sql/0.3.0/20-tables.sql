
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
-- composite ids, every partition's rows, and only the rows that match the key's filter (35-filter.sql).
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
        store._id_expression(registration.source), store._rows_of(registration.source), chosen)
        || coalesce(' WHERE ' || store._filter_condition(registration.source, registration.filter_node, registration.key), '');
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

-- Partitioned tables. PostgreSQL clones a root's row triggers to every partition, present and
-- future (tgparentid names the trigger cloned), and refuses to drop or rename a clone; statement
-- triggers are not cloned, so each partition gets its own store_<key>_truncate (a TRUNCATE of one
-- partition fires only that partition's triggers). A partition's rows enter or leave the key's
-- documents when it is attached, detached or dropped (store._reconcile), in the same transaction.
-- An UPDATE that moves a row to another partition changes its primary key (which holds the
-- partition key): D of the old id, C of the new one, as any key change.

-- The partitions of source at every depth (source excluded; none for an ordinary table).
CREATE FUNCTION store._partitions(source regclass) RETURNS SETOF regclass
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.relid FROM pg_partition_tree($1) AS t WHERE t.relid <> $1 ORDER BY t.level, t.relid::text
$$;

-- The key's triggers on source's partitions that are not as installed (ENABLE ALWAYS), named
-- '<trigger> on <partition>': the row trigger's clone and the partition's own truncate trigger,
-- with the states of store._trigger_state; empty for an ordinary table.
CREATE FUNCTION store._partition_trigger_state(source regclass, key text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_object_agg(format('%s on %s', n.name, p.rel), s.state), '{}')
      FROM store._partitions($1) AS p(rel)
     CROSS JOIN (VALUES (('store_' || $2)::name, 29), (('store_' || $2 || '_truncate')::name, 32)) AS n(name, type)
     CROSS JOIN LATERAL (SELECT coalesce(
               (SELECT CASE WHEN NOT (t.tgfoid = 'store.capture()'::regprocedure AND t.tgtype = n.type
                                      AND t.tgnargs = 1
                                      AND t.tgargs = convert_to($2, getdatabaseencoding()) || decode('00', 'hex')
                                      AND t.tgqual IS NULL AND t.tgattr = ''::int2vector AND t.tgconstraint = 0)
                                 THEN 'replaced'
                            WHEN t.tgenabled = 'A' THEN 'always'
                            WHEN t.tgenabled = 'O' THEN 'enabled'
                            WHEN t.tgenabled = 'R' THEN 'replica'
                            ELSE 'disabled' END
                  FROM pg_trigger AS t WHERE t.tgrelid = p.rel AND t.tgname = n.name),
               'missing') AS state) AS s
     WHERE s.state <> 'always'
$$;

-- Drops key's truncate triggers from tables other than source that are not (any more) its
-- partitions (all of them, with every_table: unregistering); true when it dropped one.
CREATE FUNCTION store._drop_partition_triggers(source regclass, key text, every_table bool) RETURNS bool
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    dropped bool := false;
BEGIN
    FOR t IN SELECT tr.tgname, tr.tgrelid::regclass AS rel FROM pg_trigger AS tr
              WHERE tr.tgfoid = 'store.capture()'::regprocedure AND tr.tgparentid = 0
                AND tr.tgname = ('store_' || key || '_truncate')::name
                AND tr.tgargs = convert_to(key, getdatabaseencoding()) || decode('00', 'hex')
                AND tr.tgrelid <> source
                AND (every_table OR tr.tgrelid NOT IN (SELECT store._partitions(source)))
              ORDER BY tr.tgrelid LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        dropped := true;
    END LOOP;
    RETURN dropped;
END
$$;
REVOKE ALL ON FUNCTION store._drop_partition_triggers(regclass, text, bool) FROM PUBLIC;

-- Gives each of source's partitions key's truncate trigger (ENABLE ALWAYS; with replace, anew)
-- and takes it from tables that left; true when the set of partitions changed (a trigger was
-- added or dropped). The caller may change source's triggers (see _install_triggers).
CREATE FUNCTION store._sync_partition_triggers(source regclass, key text, replace bool) RETURNS bool
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    trigger_name name := ('store_' || key || '_truncate')::name;
    p regclass;
    changed bool := store._drop_partition_triggers(source, key, false);
BEGIN
    FOR p IN SELECT store._partitions(source) LOOP
        IF replace THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', trigger_name, p);
        END IF;
        CONTINUE WHEN EXISTS (SELECT FROM pg_trigger AS t WHERE t.tgrelid = p AND t.tgname = trigger_name);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION store.capture(%L)',
                       trigger_name, p, key);
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', p, trigger_name);
        changed := changed OR NOT replace;
    END LOOP;
    RETURN changed;
END
$$;
REVOKE ALL ON FUNCTION store._sync_partition_triggers(regclass, text, bool) FROM PUBLIC;

-- Brings key's documents level with its table without touching the rows both hold: entries
-- whose row is gone are deleted (D), rows without an entry get one (C). What a partition's
-- attach, detach, drop or truncate leaves to do; no lock on the table beyond the caller's, so
-- writers to other partitions go on (their uncommitted rows and entries are invisible here
-- alike, and committed ones visible alike).
CREATE FUNCTION store._reconcile(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changes bigint;
BEGIN
    WITH s AS MATERIALIZED (SELECT x.id, x.doc FROM store._source_rows(_reconcile.key) AS x),
         gone AS (DELETE FROM store.entries AS e
                   WHERE e.key = _reconcile.key AND NOT EXISTS (SELECT FROM s WHERE s.id = e.id)
                  RETURNING e.id),
         came AS (INSERT INTO store.entries (key, id, doc)
                  SELECT _reconcile.key, s.id, s.doc FROM s
                   WHERE NOT EXISTS (SELECT FROM store.entries AS e WHERE e.key = _reconcile.key AND e.id = s.id)
                  RETURNING id),
         logged AS (INSERT INTO store.history (cache_key, item, state)
                    SELECT _reconcile.key, x.id, x.state
                      FROM (SELECT g.id, 'D' AS state FROM gone AS g
                            UNION ALL
                            SELECT c.id, 'C' FROM came AS c) AS x
                     ORDER BY x.state = 'C', x.id
                    RETURNING 1)
    SELECT count(*) INTO changes FROM logged;
    IF changes > 0 THEN
        PERFORM store._note_change(key);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION store._reconcile(text) FROM PUBLIC;

-- True when a DDL command (a row of pg_event_trigger_ddl_commands()) attaches or detaches a
-- partition (ALTER TABLE ... ATTACH / DETACH PARTITION [CONCURRENTLY | FINALIZE]) or creates one
-- (CREATE TABLE ... PARTITION OF).
CREATE FUNCTION store._changes_partitions(command pg_ddl_command) RETURNS bool
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'store_changes_partitions';
REVOKE ALL ON FUNCTION store._changes_partitions(pg_ddl_command) FROM PUBLIC;

-- DDL handling, partitions: after a partition is created, attached or detached anywhere below a
-- registered partitioned table (the command names the table, or a partitioned table between),
-- its partitions get their truncate triggers and, when partitions came or went, the documents
-- follow (store._reconcile). Other ALTER TABLE commands (a restore adding the primary key,
-- enabling triggers one by one) are left alone.
CREATE FUNCTION store._on_partition_ddl() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT DISTINCT r.key, r.source FROM pg_event_trigger_ddl_commands() AS c
               CROSS JOIN LATERAL pg_partition_ancestors(c.objid) AS a(rel)
               JOIN store.keys AS r ON r.source = a.rel
               JOIN pg_class AS s ON s.oid = r.source AND s.relkind = 'p'
              WHERE c.classid = 'pg_class'::regclass AND store._changes_partitions(c.command) ORDER BY r.key LOOP
        IF store._sync_partition_triggers(k.source, k.key, false) THEN
            PERFORM store._reconcile(k.key);
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._on_partition_ddl() FROM PUBLIC;
CREATE EVENT TRIGGER store_partitions ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE')
    EXECUTE FUNCTION store._on_partition_ddl();
ALTER EVENT TRIGGER store_partitions ENABLE ALWAYS; -- also in replica-role sessions
