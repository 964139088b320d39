
-- Documents and ids are now rendered under fixed output settings (canonical text, whoever
-- wrote the row): rebuild every document, and tell clients (one F row) to reload once.
DO $$
BEGIN
    IF EXISTS (SELECT FROM store.keys) THEN
        PERFORM @extschema@.store_reload();
    END IF;
END
$$;
