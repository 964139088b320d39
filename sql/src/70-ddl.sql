
-----------------------------------------------------------------------------------------------
-- DDL: what the event triggers run. DDL on a registered table is followed in its own transaction
-- (renames, new shapes, partitions attached or detached), or refused when it would break a key
-- (a dropped primary key, stopped triggers, untrusted rendering).
-----------------------------------------------------------------------------------------------

-- After DDL on a registered table: chosen columns follow renames, the documents are rebuilt when
-- their shape changed, and the new shape must still render canonically and only through trusted
-- code, or the DDL is refused; so is dropping the primary key (with the hint to unregister first).
CREATE OR REPLACE FUNCTION store._refresh(key text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
    names text[];
    new_shape text;
    refiltered record;
    reparsed text;
    stale bool;
BEGIN
    -- After a restore (pg_dump leaves dropped columns out, so attribute numbers shift), the chosen
    -- columns and the filter are found again by name. No single ALTER TABLE can make every stored
    -- name exist while the stored numbers name other columns: a rename removes a name.
    IF registration.column_numbers IS NOT NULL
       AND NOT EXISTS (SELECT FROM unnest(registration.columns) AS c(name)
                        WHERE NOT EXISTS (SELECT FROM pg_attribute AS a
                                           WHERE a.attrelid = registration.source AND a.attname = c.name
                                             AND a.attnum > 0 AND NOT a.attisdropped))
       AND store._column_numbers(registration.source, registration.columns) IS DISTINCT FROM registration.column_numbers THEN
        registration.column_numbers := store._column_numbers(registration.source, registration.columns);
        UPDATE store.keys AS k SET column_numbers = registration.column_numbers WHERE k.key = registration.key;
    END IF;
    IF registration.filter IS NOT NULL THEN
        BEGIN -- the filter's text names its columns: read it again (it fails after a rename: then the node leads)
            SELECT f.filter_node INTO reparsed FROM store._parse_filter(registration.source, registration.filter) AS f;
        EXCEPTION WHEN OTHERS THEN
            reparsed := NULL;
        END;
        IF reparsed IS NOT NULL THEN
            BEGIN -- the stored node reads other columns than its text names: restored with other numbers
                stale := store._filter_condition(registration.source, registration.filter_node, registration.key)
                         IS DISTINCT FROM store._filter_condition(registration.source, reparsed, registration.key);
            EXCEPTION WHEN OTHERS THEN
                stale := true; -- (its columns are gone)
            END;
            IF stale THEN
                registration.filter_node := reparsed;
                registration.shape := NULL; -- the documents are rebuilt
                UPDATE store.keys AS k SET filter_node = reparsed WHERE k.key = registration.key;
            END IF;
        END IF;
    END IF;
    IF registration.column_numbers IS NOT NULL THEN
        SELECT array_agg(a.attname::text ORDER BY u.o) INTO names
          FROM unnest(registration.column_numbers) WITH ORDINALITY AS u(n, o)
          JOIN pg_attribute AS a ON a.attrelid = registration.source AND a.attnum = u.n AND NOT a.attisdropped;
        IF coalesce(cardinality(names), 0) <> cardinality(registration.column_numbers) THEN
            RAISE EXCEPTION 'a column chosen for store key "%" would be dropped from table "%"', key, registration.source
                USING ERRCODE = 'dependent_objects_still_exist',
                      HINT = format('Unregister the key first, or register it again without the column: '
                                    'SELECT store_unregister(%L);', key);
        END IF;
    END IF;
    -- (the documents' ids are the primary key's: it may not go while the key is registered)
    IF NOT EXISTS (SELECT FROM pg_index AS i WHERE i.indrelid = registration.source AND i.indisprimary) THEN
        RAISE EXCEPTION 'the primary key of table "%" would be dropped: store key "%" depends on it', registration.source, key
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Unregister the key first: SELECT store_unregister(%L);', key);
    END IF;
    -- the filter follows renamed columns, is read again after a retype (then the documents are
    -- rebuilt: shape NULL), and refuses a dropped column (store._refresh_filter)
    IF registration.filter_node IS NOT NULL THEN
        SELECT f.* INTO refiltered FROM store._refresh_filter(registration.source, registration.filter_node, key) AS f;
        UPDATE store.keys AS k SET filter = refiltered.filter, filter_node = refiltered.filter_node
         WHERE k.key = registration.key AND (k.filter, k.filter_node) IS DISTINCT FROM (refiltered.filter, refiltered.filter_node);
        IF refiltered.filter_node <> registration.filter_node THEN
            registration.shape := NULL;
        END IF;
    END IF;
    new_shape := store._shape(registration.source, registration.column_numbers);
    IF new_shape = registration.shape THEN
        RETURN;
    END IF;
    PERFORM store._check_source(registration.source, registration.column_numbers);
    UPDATE store.keys AS k
       SET columns = names, shape = new_shape,
           id_type = store._id_type(registration.source)
     WHERE k.key = registration.key;
    IF registration.nested IS NOT NULL THEN
        RETURN; -- a nested key's documents are rebuilt by store._nested_refresh, when they changed
    END IF;
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;
REVOKE ALL ON FUNCTION store._refresh(text) FROM PUBLIC;

-- A nested key's shape text after a collected ALTER TABLE command: a column, table or foreign key
-- it names renamed is named anew (an item without alias then renders under the new name, as a flat
-- key's document follows a renamed column); otherwise nested as it is.
CREATE OR REPLACE FUNCTION store._nested_renamed(source regclass, nested text, command pg_ddl_command) RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_nested_renamed';
REVOKE ALL ON FUNCTION store._nested_renamed(regclass, text, pg_ddl_command) FROM PUBLIC;

-- DDL handling, ALTER TABLE: nested keys follow renames of what their shapes name, then every key
-- whose table was altered is refreshed (renames included).
CREATE OR REPLACE FUNCTION store._on_alter_table() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    renaming record;
BEGIN
    FOR renaming IN SELECT d.command, d.classid, d.objid FROM pg_event_trigger_ddl_commands() AS d
              WHERE d.command_tag = 'ALTER TABLE' AND d.classid IN ('pg_class'::regclass, 'pg_constraint'::regclass) LOOP
        UPDATE store.keys AS r SET nested = store._nested_renamed(r.source, r.nested, renaming.command)
         WHERE r.nested IS NOT NULL
           AND (SELECT CASE WHEN renaming.classid = 'pg_class'::regclass THEN renaming.objid
                            ELSE (SELECT o.conrelid FROM pg_constraint AS o WHERE o.oid = renaming.objid) END)
               IN (SELECT r.source UNION ALL SELECT store._key_trigger_tables(0, r.key))
           AND store._nested_renamed(r.source, r.nested, renaming.command) IS DISTINCT FROM r.nested;
    END LOOP;
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_ddl_commands() AS c
               JOIN store.keys AS r ON r.source = c.objid
              WHERE c.classid = 'pg_class'::regclass ORDER BY r.key LOOP
        PERFORM store._refresh(k);
    END LOOP;
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_ddl_commands() AS c
               JOIN store.keys AS r ON r.nested IS NOT NULL
              WHERE c.classid = 'pg_class'::regclass
                AND (c.objid IN (SELECT store._key_trigger_tables(0, r.key))
                     -- (a table it reaches attached as a partition: refused, embedded tables are no partitions)
                     OR EXISTS (SELECT FROM pg_inherits AS i WHERE i.inhparent = c.objid
                                   AND i.inhrelid IN (SELECT store._key_trigger_tables(0, r.key)))) ORDER BY r.key LOOP
        PERFORM store._nested_refresh(k, false);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._on_alter_table() FROM PUBLIC;

-- After DDL on a table a nested key's shape reaches: the shape must still resolve to readable,
-- trusted columns (a column it reads cannot be dropped, renamed or retyped into something
-- refused: 2BP01 with the hint to unregister), and when the documents changed (a column added
-- under *, a new type's text) they are rebuilt with a key-level U.
CREATE OR REPLACE FUNCTION store._nested_refresh(key text, dropped bool) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registration store.keys := store._require_key(key);
BEGIN
    BEGIN
        PERFORM store._nested_query(registration.source, registration.nested);
    EXCEPTION WHEN undefined_object THEN
        -- a relationship is missing: refused when this command dropped it; otherwise a restore that
        -- creates the foreign keys after the triggers (store_verify tells meanwhile)
        IF NOT dropped THEN
            RETURN;
        END IF;
        RAISE EXCEPTION 'store key "%" would no longer render: %', key, SQLERRM
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = format('The shape %L reads it. Unregister the key first: SELECT store_unregister(%L);',
                                registration.nested, key);
    WHEN OTHERS THEN
        RAISE EXCEPTION 'store key "%" would no longer render: %', key, SQLERRM
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = format('The shape %L reads it. Unregister the key first: SELECT store_unregister(%L);',
                                registration.nested, key);
    END;
    IF EXISTS (SELECT FROM store._source_rows(key) AS s
                 FULL JOIN (SELECT e.id, e.doc FROM store.entries AS e WHERE e.key = _nested_refresh.key) AS e
                   ON e.id = s.id
                WHERE s.doc::text IS DISTINCT FROM e.doc::text) THEN
        PERFORM store._rebuild(key);
        PERFORM store._log(key, 'U', ARRAY[key]);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION store._nested_refresh(text, bool) FROM PUBLIC;

-- After DROP: dropped tables unregister their keys, dropped columns refresh them; and first,
-- dropping a trigger of a registered key whose table stays is refused. (Unregistering forgets
-- the key before it drops the triggers; DROP TABLE / SCHEMA / OWNED drop the table with them.)
CREATE OR REPLACE FUNCTION store._on_drop() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    bad record;
BEGIN
    IF to_regclass('store.keys') IS NULL THEN
        RETURN; -- the extension itself is being dropped
    END IF;
    SELECT r.key, c.oid::regclass AS source, d.address_names[3] AS name INTO bad
      FROM pg_event_trigger_dropped_objects() AS d
      JOIN pg_namespace AS n ON n.nspname = d.address_names[1]
      JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = d.address_names[2]
      JOIN store.keys AS r ON r.source = c.oid OR r.source IN (SELECT pg_partition_ancestors(c.oid)) OR r.nested IS NOT NULL
     WHERE d.classid = 'pg_trigger'::regclass
       AND d.address_names[3] IN ('store_' || r.key, 'store_' || r.key || '_truncate', CASE WHEN r.nested IS NOT NULL THEN 'store_' || r.key || '_flush' END)
     ORDER BY r.key, 3
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot drop trigger "%" on table %: store key "%" depends on it', bad.name, bad.source, bad.key
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = format('Unregister the key first: SELECT store_unregister(%L);', bad.key);
    END IF;
    -- a table a nested key embeds (its store triggers went with it) cannot be dropped
    SELECT r.key, format('%I.%I', d.address_names[1], d.address_names[2]) AS name INTO bad
      FROM pg_event_trigger_dropped_objects() AS d
      JOIN store.keys AS r ON r.nested IS NOT NULL AND d.address_names[3] = 'store_' || r.key
     WHERE d.classid = 'pg_trigger'::regclass
       AND NOT EXISTS (SELECT FROM pg_event_trigger_dropped_objects() AS x
                        WHERE x.classid = 'pg_class'::regclass AND x.objsubid = 0 AND x.objid = r.source)
     ORDER BY r.key
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot drop table %: store key "%" embeds it', bad.name, bad.key
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = format('Unregister the key first: SELECT store_unregister(%L);', bad.key);
    END IF;
    FOR k IN SELECT r.key FROM pg_event_trigger_dropped_objects() AS d
               JOIN store.keys AS r ON r.source = d.objid
              WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 ORDER BY r.key LOOP
        PERFORM store._forget(k);
        PERFORM store._drop_nested_triggers(0, k); -- a nested key's triggers on the tables that stay
    END LOOP;
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_dropped_objects() AS d
               JOIN store.keys AS r ON r.source = d.objid
              WHERE d.classid = 'pg_class'::regclass AND d.objsubid <> 0 ORDER BY r.key LOOP
        PERFORM store._refresh(k);
    END LOOP;
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_dropped_objects() AS d
               JOIN store.keys AS r ON r.nested IS NOT NULL
              WHERE (d.classid = 'pg_class'::regclass AND d.objsubid <> 0
                     AND d.objid IN (SELECT store._key_trigger_tables(0, r.key)))
                 OR (d.classid = 'pg_constraint'::regclass
                     AND EXISTS (SELECT FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                                  WHERE n.nspname = d.address_names[1] AND c.relname = d.address_names[2]
                                    AND c.oid IN (SELECT store._key_trigger_tables(0, r.key))))
              ORDER BY r.key LOOP
        PERFORM store._nested_refresh(k, true);
    END LOOP;
    -- a dropped partition (its truncate trigger went with it) takes its rows' documents along
    FOR k IN SELECT DISTINCT r.key FROM pg_event_trigger_dropped_objects() AS d
               JOIN store.keys AS r ON d.address_names[3] = 'store_' || r.key || '_truncate'
              WHERE d.classid = 'pg_trigger'::regclass
                AND EXISTS (SELECT FROM pg_class AS c WHERE c.oid = r.source AND c.relkind = 'p')
              ORDER BY r.key LOOP
        PERFORM store._reconcile(k);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION store._on_drop() FROM PUBLIC;

-- DDL that changes who renders a document (a new cast to json, a function or type given to
-- another owner, a composite type's new attribute): every key is checked again and the command
-- refused when one of them would run untrusted code. (CREATE OR REPLACE FUNCTION keeps the
-- function's owner, and a domain renders as its base type: neither changes whose code runs.) (Role changes, which fire no event trigger,
-- are caught when the capture trigger next renders: it checks again and refuses to write.)
CREATE OR REPLACE FUNCTION store._on_rendering_ddl() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM store._check_source(k.source, k.column_numbers) FROM store.keys AS k ORDER BY k.key;
END
$$;
REVOKE ALL ON FUNCTION store._on_rendering_ddl() FROM PUBLIC;

-- DDL handling, partitions: after a partition is created, attached or detached anywhere below a
-- registered partitioned table (the command names the table, or a partitioned table between),
-- its partitions get their truncate triggers and, when partitions came or went, the documents
-- follow (store._reconcile). Other ALTER TABLE commands (a restore adding the primary key,
-- enabling triggers one by one) are left alone.
CREATE OR REPLACE FUNCTION store._on_partition_ddl() RETURNS event_trigger
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

-- ALTER TABLE (ENABLE / DISABLE [REPLICA | ALWAYS] TRIGGER), ALTER TRIGGER (RENAME) and CREATE
-- [OR REPLACE] TRIGGER on the table of a registered key: refused when afterwards one of the
-- key's triggers is disabled, fires for replicas only, runs something else, or when its capture
-- runs under another name. (A missing trigger is left to store_verify and the readers: a restore
-- creates the two triggers one after the other.)
CREATE OR REPLACE FUNCTION store._on_trigger_ddl() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    WITH touched AS (
        SELECT c.objid AS rel FROM pg_event_trigger_ddl_commands() AS c WHERE c.classid = 'pg_class'::regclass
        UNION
        SELECT t.tgrelid FROM pg_event_trigger_ddl_commands() AS c JOIN pg_trigger AS t ON t.oid = c.objid
         WHERE c.classid = 'pg_trigger'::regclass
    )
    SELECT r.key, r.source, s.name, s.state INTO bad
      FROM store.keys AS r
      CROSS JOIN LATERAL jsonb_each_text(store._trigger_state(r.source, r.key)) AS s(name, state)
     WHERE (r.source IN (SELECT touched.rel FROM touched) OR r.source IN (SELECT pg_partition_ancestors(touched.rel) FROM touched) OR (r.nested IS NOT NULL AND EXISTS (SELECT FROM touched WHERE touched.rel IN (SELECT store._key_trigger_tables(0, r.key)))))
       AND s.state NOT IN ('always', 'enabled', 'missing')
     ORDER BY r.key, s.name
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RAISE EXCEPTION '%', CASE bad.state
        WHEN 'disabled' THEN format('cannot disable trigger "%s" on table %s: store key "%s" depends on it',
                                    bad.name, bad.source, bad.key)
        WHEN 'replica' THEN format('cannot make trigger "%s" on table %s fire only for replicas: store key "%s" depends on it',
                                   bad.name, bad.source, bad.key)
        WHEN 'replaced' THEN format('cannot replace trigger "%s" on table %s: store key "%s" depends on it',
                                    bad.name, bad.source, bad.key)
        ELSE format('cannot rename or add trigger "%s" on table %s: store key "%s" runs only as "%s" and "%s"',
                    bad.name, bad.source, bad.key, 'store_' || bad.key, 'store_' || bad.key || '_truncate')
        END
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = format('Unregister the key first: SELECT store_unregister(%L);', bad.key);
END
$$;
REVOKE ALL ON FUNCTION store._on_trigger_ddl() FROM PUBLIC;
