
---------------------------------------------------------------------------------------------
-- Rendering: canonical ids and documents, rendered only by code the table's owner trusts
---------------------------------------------------------------------------------------------

-- Errors unless source's documents (the chosen columns; NULL: all) can be rendered canonically
-- and only by code its owner trusts: a primary key of a type whose ids print the same in every
-- session and never alike for different keys, and no cast to json whose function belongs to a
-- role without the table owner's privileges (it would run with them).
CREATE FUNCTION store._check_source(source regclass, column_numbers int2[]) RETURNS void
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'store_check_source';

-- A store written by an earlier version may hold keys this version refuses: the update stops
-- and names them, so nothing is served that could leak or be forged.
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT * FROM store.keys ORDER BY key LOOP
        BEGIN
            PERFORM store._check_source(k.source, k.column_numbers);
        EXCEPTION WHEN feature_not_supported OR insufficient_privilege THEN
            RAISE EXCEPTION 'store key "%" cannot be kept: %', k.key, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = pg_catalog.format('Unregister it before updating: SELECT store_unregister(%L);', k.key);
        END;
    END LOOP;
END
$$;

-- store_register checks store._check_source before it records a key (redefined once, in
-- 40-triggers.sql, which also changes how it installs the triggers).

-- After DDL on a registered table: as before (see 0.1.0), and the documents' new shape must
-- still render canonically and only through trusted code, or the DDL is refused; so is dropping
-- the primary key (with the hint to unregister first, not 0.1.0's "add one").
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
    -- rebuilt: shape NULL), and refuses a dropped column (see 35-filter.sql)
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
    PERFORM store._rebuild(key);
    PERFORM store._log(key, 'U', ARRAY[key]);
END
$$;

-- DDL that changes who renders a document (a new cast to json, a function or type given to
-- another owner, a composite type's new attribute): every key is checked again and the command
-- refused when one of them would run untrusted code. (CREATE OR REPLACE FUNCTION keeps the
-- function's owner, and a domain renders as its base type: neither changes whose code runs.) (Role changes, which fire no event trigger,
-- are caught when the capture trigger next renders: it checks again and refuses to write.)
CREATE FUNCTION store._on_rendering_ddl() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM store._check_source(k.source, k.column_numbers) FROM store.keys AS k ORDER BY k.key;
END
$$;
REVOKE ALL ON FUNCTION store._on_rendering_ddl() FROM PUBLIC;
CREATE EVENT TRIGGER store_rendering ON ddl_command_end
    WHEN TAG IN ('CREATE CAST', 'ALTER FUNCTION', 'ALTER ROUTINE', 'ALTER TYPE')
    EXECUTE FUNCTION store._on_rendering_ddl();
ALTER EVENT TRIGGER store_rendering ENABLE ALWAYS; -- also in replica-role sessions
