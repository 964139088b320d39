-- pgTAP: the catalog objects store creates and installs: schema, tables, types, triggers,
-- functions and privileges.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
CREATE EXTENSION store;
SELECT plan(80);

-- The notifier's settings exist whether or not the library is preloaded (README "Notifications").
LOAD 'store';
SELECT is(current_setting('store.notifier_idle_timeout'), '30s', 'store.notifier_idle_timeout exists, 30s by default');
SELECT is(current_setting('store.notifier_batch_interval'), '2ms', 'store.notifier_batch_interval exists, 2ms by default');

-- Tables and column types.
SELECT has_schema('store');
SELECT has_table('store', 'keys', 'store.keys exists');
SELECT has_table('store', 'entries', 'store.entries exists');
SELECT has_table('store', 'history', 'store.history exists');
SELECT col_type_is('store', 'entries', 'doc', 'json', 'documents are stored as JSON text');
SELECT col_type_is('store', 'entries', 'id', 'jsonb', 'entry ids are jsonb (primary-key order)');
SELECT is((SELECT pg_get_indexdef(c.oid) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'store.entries'::regclass AND i.indisunique AND i.indisreplident),
          'CREATE UNIQUE INDEX entries_key ON store.entries USING btree (key text_pattern_ops, id store.id_ops)',
          'one entry per (key, id): a unique index in id order, the replica identity');
SELECT col_type_is('store', 'history', 'item', 'jsonb', 'history names items by their jsonb id');
SELECT col_type_is('store', 'history', 'xid', 'xid8', 'history records the writing transaction');
SELECT col_type_is('store', 'history', 'added_on', 'timestamp with time zone', 'history rows are timestamped');
SELECT has_index('store', 'history', 'history_xid_idx', ARRAY['origin', 'xid'], 'history is found by store origin and transaction id');
SELECT col_type_is('store', 'keys', 'source', 'regclass', 'keys name their source table');
SELECT col_type_is('store', 'keys', 'filter', 'text', 'keys show their filter as SQL text');
SELECT sequence_privs_are('store', 'history_seq', 'public', ARRAY[]::text[], 'PUBLIC cannot touch the history sequence');

-- The public SQL surface and its return types.
SELECT function_returns('store_register', ARRAY['text', 'regclass', 'text[]', 'text', 'text'], 'void');
SELECT hasnt_function('store_register', ARRAY['text', 'regclass', 'text[]'], 'store_register has one signature (filter is its fourth argument)');
SELECT hasnt_function('store_register', ARRAY['text', 'regclass', 'text[]', 'text'], 'store_register has one signature (shape is its fifth argument)');
SELECT function_returns('store_explain', ARRAY['text'], 'setof record');
SELECT col_type_is('store', 'keys', 'nested', 'text', 'nested keys keep their shape as text');
SELECT function_returns('store_unregister', ARRAY['text'], 'void');
SELECT function_returns('store_reload', ARRAY[]::text[], 'void');
SELECT function_returns('store_reload', ARRAY['text'], 'void');
SELECT function_returns('store_snapshot', ARRAY[]::text[], 'json');
SELECT function_returns('store_snapshot', ARRAY['text'], 'json');
SELECT function_returns('store_get', ARRAY['text', 'text'], 'json');
SELECT function_returns('store_describe', ARRAY['text'], 'json');
SELECT function_lang_is('public', 'store_describe', ARRAY['text'], 'c', 'store_describe is a C gate');
SELECT function_returns('store_apply', ARRAY['jsonb'], 'jsonb');
SELECT function_lang_is('public', 'store_apply', ARRAY['jsonb'], 'c', 'store_apply is C (SECURITY INVOKER: see the SECURITY DEFINER list)');
SELECT function_returns('store_forget_client', ARRAY['text'], 'boolean');
SELECT function_returns('store_history', ARRAY['text'], 'setof record');
SELECT is((SELECT pg_get_function_result('store_history(text)'::regprocedure)),
          'TABLE(version text, cache_key text, item_id text, state text, added_on timestamp with time zone)',
          'store_history returns version, cache_key, item_id, state, added_on');
SELECT function_lang_is('store', 'capture', ARRAY[]::text[], 'c', 'the capture trigger is C');
SELECT function_returns('store', 'capture', ARRAY[]::text[], 'trigger');
SELECT function_lang_is('store', 'capture_nested', ARRAY[]::text[], 'c', 'the nested capture trigger is C');

-- Every extension function runs with a fixed search_path.
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
            WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'store')
              AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
              AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
              AND p.oid <> 'store_snapshot_rows(text)'::regprocedure),
          0, 'every SQL and PL/pgSQL function sets search_path = pg_catalog, pg_temp');
-- ... but store_snapshot_rows, which the planner inlines in FROM only without SET (its body names
-- one function, schema-qualified, of its exact argument type).
SELECT is((SELECT p.proconfig IS NULL AND NOT p.proisstrict AND NOT p.prosecdef AND p.provolatile = 's'
                  AND p.prosrc ~ '^ SELECT [a-z_]+\.store_snapshot_chunks\(key\) $'
             FROM pg_proc p WHERE p.oid = 'store_snapshot_rows(text)'::regprocedure),
          true, 'store_snapshot_rows is inlinable SQL: no SET, not STRICT, not SECURITY DEFINER, STABLE');
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
            WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'store') AND p.prosecdef),
          ARRAY['_on_alter_table', '_on_drop', '_on_partition_ddl', '_on_rendering_ddl', '_on_trigger_ddl'], 'only the DDL event-trigger functions are SECURITY DEFINER');
SELECT is((SELECT array_agg(e.evtname::text || ':' || e.evtevent ORDER BY e.evtname) FROM pg_event_trigger e),
          ARRAY['store_alter_table:ddl_command_end', 'store_drop:sql_drop', 'store_partitions:ddl_command_end',
                'store_rendering:ddl_command_end', 'store_triggers:ddl_command_end'],
          'DDL is followed by the store''s event triggers');
SELECT function_returns('store_verify', ARRAY['text'], 'setof record');

-- Privileges: the store tables are not writable by ordinary users; admin functions are not public.
CREATE ROLE store_tap_user;
SELECT table_privs_are('store', 'entries', 'store_tap_user', ARRAY[]::text[], 'ordinary users have no rights on store.entries');
SELECT table_privs_are('store', 'history', 'store_tap_user', ARRAY[]::text[], 'ordinary users have no rights on store.history');
SELECT table_privs_are('store', 'keys', 'store_tap_user', ARRAY[]::text[], 'ordinary users have no rights on store.keys');
SELECT function_privs_are('public', 'store_register', ARRAY['text', 'regclass', 'text[]', 'text', 'text'], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('public', 'store_unregister', ARRAY['text'], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('public', 'store_reload', ARRAY[]::text[], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('public', 'store_reload', ARRAY['text'], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('store', '_note_change', ARRAY['text'], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('store', '_on_alter_table', ARRAY[]::text[], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('store', '_on_drop', ARRAY[]::text[], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('store', '_refresh', ARRAY['text'], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('store', 'capture', ARRAY[]::text[], 'store_tap_user', ARRAY[]::text[],
                          'nobody else can attach the capture trigger');
SELECT function_privs_are('store', 'capture_nested', ARRAY[]::text[], 'store_tap_user', ARRAY[]::text[],
                          'nobody else can attach the nested capture trigger');
SELECT function_privs_are('public', 'store_compact', ARRAY['interval'], 'store_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('public', 'store_changes', ARRAY['text'], 'store_tap_user', ARRAY['EXECUTE']);
SELECT function_privs_are('store', '_visibility_query', ARRAY['oid', 'text'], 'store_tap_user', ARRAY[]::text[],
                          'the readers'' internals (which take a reader argument) are not executable by others');
SELECT hasnt_function('store', '_changes_text', ARRAY['text', 'oid', 'jsonb'],
                      'the feed''s SQL internals are gone: the library reads the history itself');
SELECT hasnt_function('store', '_key_documents', ARRAY['text'], 'the unchecked document reader is gone from SQL');
SELECT hasnt_function('store', '_history_rows', ARRAY['text', 'oid', 'jsonb']);
SELECT function_lang_is('public', 'store_history', ARRAY['text'], 'c', 'store_history is a C gate');
SELECT function_lang_is('public', 'store_get', ARRAY['text', 'text'], 'c', 'store_get is a C gate');
SELECT function_returns('store_changes', ARRAY['text'], 'json');
SELECT function_returns('store_version', ARRAY[]::text[], 'text');
SELECT function_returns('store_snapshot_tag', ARRAY[]::text[], 'text');
SELECT function_returns('store_compact', ARRAY['interval'], 'bigint');
SELECT function_privs_are('public', 'store_snapshot', ARRAY[]::text[], 'store_tap_user', ARRAY['EXECUTE']);
SELECT function_privs_are('public', 'store_describe', ARRAY['text'], 'store_tap_user', ARRAY['EXECUTE']);
SELECT function_privs_are('public', 'store_snapshot_tag', ARRAY[]::text[], 'store_tap_user', ARRAY['EXECUTE']);

-- Registering installs ordinary, clearly named AFTER triggers; unregistering removes them.
CREATE TABLE tap_items (id int PRIMARY KEY, name text);
SELECT store_register('tap_items', 'tap_items');
SELECT triggers_are('public', 'tap_items', ARRAY['store_tap_items', 'store_tap_items_truncate']);
SELECT trigger_is('public', 'tap_items', 'store_tap_items', 'store', 'capture');
SELECT is((SELECT tgtype::int FROM pg_trigger WHERE tgname = 'store_tap_items'),
          1 + 4 + 8 + 16, 'row-level AFTER INSERT OR DELETE OR UPDATE');
SELECT is((SELECT tgtype::int FROM pg_trigger WHERE tgname = 'store_tap_items_truncate'),
          32, 'statement-level AFTER TRUNCATE');
SELECT is((SELECT tgisinternal FROM pg_trigger WHERE tgname = 'store_tap_items'), false,
          'an ordinary trigger, so pg_dump keeps it');
SELECT is((SELECT encode(tgargs, 'escape') FROM pg_trigger WHERE tgname = 'store_tap_items'), E'tap_items\\000',
          'the trigger argument is the key');
SELECT store_unregister('tap_items');
SELECT triggers_are('public', 'tap_items', ARRAY[]::text[], 'unregister removes the triggers');

-- pg_dump keeps registrations, documents, history and store_apply's replay records.
SELECT is((SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_extension e,
                  unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
            WHERE e.extname = 'store'),
          ARRAY['entries', 'history', 'history_seq', 'keys', 'meta', 'mutations'], 'store tables are dumped by pg_dump');

-- The extension is not relocatable and lives in the schema it was created in.
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'store'), false, 'not relocatable');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'store'),
          (SELECT default_version FROM pg_available_extensions WHERE name = 'store'), 'the default version is installed');

SELECT * FROM finish();
ROLLBACK;
