\set ECHO none
-- Checks the nested-document tests share. The pg_regress tests include it as err.sql (see there),
-- at the point from which changes() starts reporting:
--   changes(): the history rows (item, state) logged since the previous call (or the include);
--   check_docs(key): 'ok' when every document of key equals the nested query of its current shape
--     over its root table (whose primary key is the column id) and store_verify() is empty.
CREATE TABLE mark (seq bigint);
INSERT INTO mark SELECT max(seq) FROM store.history;
CREATE FUNCTION changes() RETURNS TABLE (item jsonb, state text) LANGUAGE sql AS $$
    WITH r AS (SELECT h.item, h.state, h.seq FROM store.history AS h, mark AS m WHERE h.seq > m.seq),
         u AS (UPDATE mark SET seq = (SELECT max(seq) FROM store.history) RETURNING 1)
    SELECT r.item, r.state FROM r LEFT JOIN (SELECT count(*) FROM u) AS x ON true ORDER BY r.seq
$$;
CREATE FUNCTION check_docs(key text DEFAULT 'o') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    wrong bigint;
    unverified bigint;
    registration record;
BEGIN
    SELECT k.source, k.nested INTO STRICT registration FROM store.keys AS k WHERE k.key = check_docs.key;
    EXECUTE format('SELECT count(*) FROM (SELECT to_jsonb(t.id) AS id, (%s)::text AS doc FROM %s AS t) AS q
                      FULL JOIN (SELECT e.id, e.doc::text AS doc FROM store.entries AS e WHERE e.key = %L) AS e
                        ON e.id = q.id WHERE e.doc IS DISTINCT FROM q.doc',
                   store._shape_query(registration.source, registration.nested, 't'), registration.source, key)
        INTO wrong;
    SELECT count(*) INTO unverified FROM store_verify();
    RETURN CASE WHEN wrong = 0 AND unverified = 0 THEN 'ok'
                ELSE format('%s documents differ, store_verify: %s rows', wrong, unverified) END;
END
$$;
\set ECHO all
