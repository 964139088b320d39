-- The baseline: a careful hand-written PL/pgSQL store (what the issue measured against): row
-- triggers upsert the row's JSON, append a history row and pg_notify, inside the transaction.
CREATE SCHEMA plstore;
CREATE TABLE plstore.entries (key text, id text, doc jsonb, PRIMARY KEY (key, id));
CREATE TABLE plstore.history (
    version bigserial PRIMARY KEY,
    cache_key text, item_id text, state text,
    added_on timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION plstore.capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM plstore.entries WHERE key = k AND id = OLD.id::text;
        INSERT INTO plstore.history (cache_key, item_id, state) VALUES (k, OLD.id::text, 'D');
    ELSE
        INSERT INTO plstore.entries VALUES (k, NEW.id::text, to_jsonb(NEW))
            ON CONFLICT (key, id) DO UPDATE SET doc = EXCLUDED.doc;
        INSERT INTO plstore.history (cache_key, item_id, state)
            VALUES (k, NEW.id::text, CASE TG_OP WHEN 'INSERT' THEN 'C' ELSE 'U' END);
    END IF;
    PERFORM pg_notify('plstore', k);
    RETURN NULL;
END $$;
-- plstore_register(key, table): the baseline's registration.
CREATE FUNCTION plstore_register(k text, t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER plstore AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION plstore.capture(%L)', t, k);
    EXECUTE format('INSERT INTO plstore.entries SELECT %L, t.id::text, to_jsonb(t) FROM %s t', k, t);
END $$;
-- plstore_snapshot(key): the baseline's read path.
CREATE FUNCTION plstore_snapshot(k text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(k, (SELECT coalesce(jsonb_agg(e.doc ORDER BY e.id), '[]') FROM plstore.entries e
                                   WHERE e.key = k),
                              'version', (SELECT max(version) FROM plstore.history))
$$;
