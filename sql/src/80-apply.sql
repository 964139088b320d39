
-- Writes through the store (store_apply): an @ngrx/data ChangeSet applied as the calling role
-- (SECURITY INVOKER: GRANTs, row-level security, constraints and triggers apply), in one
-- internal subtransaction; see README "Writing: store_apply".
CREATE OR REPLACE FUNCTION @extschema@.store_apply(changeset jsonb) RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'store_apply';
COMMENT ON FUNCTION @extschema@.store_apply(jsonb) IS
    'applies an @ngrx/data ChangeSet as the calling role, all or nothing: {"applied": true, "ids": ..., "documents": ...}, a conflict {"applied": false, "conflicts": [...]}, or a replay {"applied": true, "duplicate": true}';
CREATE OR REPLACE FUNCTION @extschema@.store_forget_client(client_id text) RETURNS boolean
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'store_forget_client';
COMMENT ON FUNCTION @extschema@.store_forget_client(text) IS
    'forgets the last mutationId store_apply recorded for your role and this clientId (its replays apply again); true when there was one';
