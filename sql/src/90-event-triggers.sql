
---------------------------------------------------------------------------------------------
-- Event triggers: DDL on registered tables, and on what renders their documents, is followed or
-- refused in the DDL's own transaction. ENABLE ALWAYS: they also fire where
-- session_replication_role = replica (restores and loads that set it).
---------------------------------------------------------------------------------------------

-- ALTER TABLE on a registered table: refresh its registration (store._on_alter_table).
CREATE EVENT TRIGGER store_alter_table ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION store._on_alter_table();
ALTER EVENT TRIGGER store_alter_table ENABLE ALWAYS;

-- A registered table, or its key's triggers, dropped (store._on_drop).
CREATE EVENT TRIGGER store_drop ON sql_drop EXECUTE FUNCTION store._on_drop();
ALTER EVENT TRIGGER store_drop ENABLE ALWAYS;

-- New casts and changed functions or types: refused when they would render a registered table's
-- documents through code its owner does not trust (store._on_rendering_ddl).
CREATE EVENT TRIGGER store_rendering ON ddl_command_end
    WHEN TAG IN ('CREATE CAST', 'ALTER FUNCTION', 'ALTER ROUTINE', 'ALTER TYPE')
    EXECUTE FUNCTION store._on_rendering_ddl();
ALTER EVENT TRIGGER store_rendering ENABLE ALWAYS;

-- Partitions created, attached or detached under a registered root (store._on_partition_ddl).
CREATE EVENT TRIGGER store_partitions ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE')
    EXECUTE FUNCTION store._on_partition_ddl();
ALTER EVENT TRIGGER store_partitions ENABLE ALWAYS;

-- A registered key's triggers disabled, renamed or replaced: refused (store._on_trigger_ddl).
CREATE EVENT TRIGGER store_triggers ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER TRIGGER', 'CREATE TRIGGER')
    EXECUTE FUNCTION store._on_trigger_ddl();
ALTER EVENT TRIGGER store_triggers ENABLE ALWAYS;
