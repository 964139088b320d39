-- store_apply refuses malformed change sets cleanly: several hundred generated ones (bad shapes,
-- ops, keys, fields, ids, temporary ids, replay members), alone and after valid changes of the
-- same batch, each raise 22023, 42704 or 42703, and the tables, the store's documents, history
-- and replay records are exactly as before.
CREATE EXTENSION store;
CREATE TABLE m_orders (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'x', qty int, hidden text);
CREATE TABLE m_lines (order_id int REFERENCES m_orders, line_no int, qty int, PRIMARY KEY (order_id, line_no));
INSERT INTO m_orders (name, qty) VALUES ('a', 1), ('b', 2);
INSERT INTO m_lines VALUES (1, 1, 5), (1, 2, 6);
SELECT store_register('m_orders', 'm_orders', ARRAY['id', 'name', 'qty']);
SELECT store_register('m_lines', 'm_lines');

-- Everything a failed batch could have touched, as one text (not the sequence behind m_orders.id:
-- a rolled-back insert consumes its values, as sequences do).
CREATE FUNCTION m_state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM m_orders AS t),
        (SELECT string_agg(t::text, ',' ORDER BY order_id, line_no) FROM m_lines AS t),
        (SELECT string_agg(key || id::text || doc::text, ',' ORDER BY key, id) FROM store.entries),
        (SELECT count(*) FROM store.history),
        (SELECT string_agg(m::text, ',') FROM store.mutations AS m)))
$$;

CREATE TABLE m_results (n int, changeset text, sqlstate text, message text, changed bool);

DO $$
DECLARE
    -- Whole change sets that are malformed at the top level.
    whole text[] := ARRAY[
        'null', '1', '"x"', '[]', '[{"op":"add"}]', '{}', '{"change":[]}', '{"changes":null}', '{"changes":{}}',
        '{"changes":"[]"}', '{"changes":1}', '{"changes":[],"extra":1}', '{"changes":[],"clientId":"c"}',
        '{"changes":[],"mutationId":1}', '{"changes":[],"clientId":1,"mutationId":1}',
        '{"changes":[],"clientId":"","mutationId":1}', '{"changes":[],"clientId":"c","mutationId":"1"}',
        '{"changes":[],"clientId":"c","mutationId":-1}', '{"changes":[],"clientId":"c","mutationId":1.5}',
        '{"changes":[],"clientId":"c","mutationId":1.0}', '{"changes":[],"clientId":"c","mutationId":null}',
        '{"changes":[],"clientId":"c","mutationId":99999999999999999999}', '{"changes":[],"clientId":null,"mutationId":1}',
        '{"Changes":[]}', '{"changes":[],"TAG":1}'];
    -- Changes that are malformed (each is tried alone and after valid changes).
    bad text[] := ARRAY[
        -- the change itself
        'null', '1', '"add"', '[]', '{}', '{"op":"add"}', '{"op":"add","entityName":"m_orders"}',
        '{"op":"add","entities":[]}', '{"entityName":"m_orders","entities":[]}',
        '{"op":"add","entityName":"m_orders","entities":[],"x":1}',
        '{"op":"add","entityName":"m_orders","entities":{}}', '{"op":"add","entityName":"m_orders","entities":null}',
        '{"op":"add","entityName":"m_orders","entities":"[]"}',
        -- ops
        '{"op":"insert","entityName":"m_orders","entities":[]}', '{"op":"","entityName":"m_orders","entities":[]}',
        '{"op":null,"entityName":"m_orders","entities":[]}', '{"op":1,"entityName":"m_orders","entities":[]}',
        '{"op":["add"],"entityName":"m_orders","entities":[]}', '{"op":"add ","entityName":"m_orders","entities":[]}',
        '{"op":"remove","entityName":"m_orders","entities":[]}', '{"op":"UpsertMany","entityName":"m_orders","entities":[]}',
        -- keys
        '{"op":"add","entityName":"","entities":[]}', '{"op":"add","entityName":null,"entities":[]}',
        '{"op":"add","entityName":1,"entities":[]}', '{"op":"add","entityName":"nope","entities":[]}',
        '{"op":"add","entityName":"M_ORDERS","entities":[]}', '{"op":"delete","entityName":"m_order","entities":[1]}',
        '{"op":"update","entityName":"m_orders ","entities":[]}', '{"op":"add","entityName":"store","entities":[]}',
        -- add entities
        '{"op":"add","entityName":"m_orders","entities":[1]}', '{"op":"add","entityName":"m_orders","entities":[null]}',
        '{"op":"add","entityName":"m_orders","entities":[[]]}', '{"op":"add","entityName":"m_orders","entities":["x"]}',
        '{"op":"add","entityName":"m_orders","entities":[{"nope":1}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"hidden":"h"}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":"n","NAME":"m"}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":"n","lines":[]}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":"n","$expect":{}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":1}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":""}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":"t","x":1}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":{"$tmp":"t"}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":"t"},"qty":{"$tmp":"u"}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":"t"}},{"id":{"$tmp":"t"}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":"t"},"name":{"$ref":"t"}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":{"$ref":"zz"}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":{"$ref":1}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":{"$ref":"t","y":2}}]}',
        '{"op":"add","entityName":"m_orders","entities":[{"name":[{"$tmp":"t"}]}]}',
        '{"op":"add","entityName":"m_lines","entities":[{"id":[1]}]}',
        '{"op":"add","entityName":"m_lines","entities":[{"id":[1,2,3]}]}',
        '{"op":"add","entityName":"m_lines","entities":[{"id":5}]}',
        '{"op":"add","entityName":"m_lines","entities":[{"id":[1,[2]]}]}',
        '{"op":"add","entityName":"m_lines","entities":[{"id":[1,9],"order_id":1}]}',
        '{"op":"add","entityName":"m_lines","entities":[{"order_id":1,"line_no":9,"price":3}]}',
        '{"op":"add","entityName":"m_lines","entities":[{"order_id":{"$ref":"later"},"line_no":1}]},{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":"later"}}]}',
        -- upsert entities
        '{"op":"upsert","entityName":"m_orders","entities":[{"name":"no id"}]}',
        '{"op":"upsert","entityName":"m_orders","entities":[{"id":{"$tmp":"t"}}]}',
        '{"op":"upsert","entityName":"m_orders","entities":[{"id":1,"nope":1}]}',
        '{"op":"upsert","entityName":"m_orders","entities":[{"id":1,"$expect":{"qty":1}}]}',
        '{"op":"upsert","entityName":"m_orders","entities":[{"id":[1,2]}]}',
        '{"op":"upsert","entityName":"m_orders","entities":[{"id":null}]}',
        '{"op":"upsert","entityName":"m_orders","entities":[{"id":{"a":1}}]}',
        '{"op":"upsert","entityName":"m_lines","entities":[{"order_id":1}]}',
        '{"op":"upsert","entityName":"m_lines","entities":[{"id":[1,1],"hidden":1}]}',
        '{"op":"upsert","entityName":"m_orders","entities":[7]}',
        -- update entities
        '{"op":"update","entityName":"m_orders","entities":[1]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"changes":{"qty":1}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":null}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":[]}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{},"extra":1}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"nope":1}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"hidden":"x"}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"id":5}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"qty":1},"$expect":1}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"qty":1},"$expect":[]}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"qty":1},"$expect":{"nope":1}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"qty":1},"$expect":{"hidden":null}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":null,"changes":{"qty":1}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":[1],"changes":{"qty":1}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":{"$ref":"nope"},"changes":{"qty":1}}]}',
        '{"op":"update","entityName":"m_orders","entities":[{"id":{"$tmp":"t"},"changes":{"qty":1}}]}',
        '{"op":"update","entityName":"m_lines","entities":[{"id":1,"changes":{"qty":1}}]}',
        '{"op":"update","entityName":"m_lines","entities":[{"id":[1,1],"changes":{"line_no":3}}]}',
        '{"op":"update","entityName":"m_lines","entities":[{"id":[1,1],"changes":{"qty":{"$ref":"x"}}}]}',
        -- delete entities
        '{"op":"delete","entityName":"m_orders","entities":[null]}', '{"op":"delete","entityName":"m_orders","entities":[[1]]}',
        '{"op":"delete","entityName":"m_orders","entities":[{"x":1}]}',
        '{"op":"delete","entityName":"m_orders","entities":[{"id":1,"changes":{}}]}',
        '{"op":"delete","entityName":"m_orders","entities":[{"id":1,"$expect":"x"}]}',
        '{"op":"delete","entityName":"m_orders","entities":[{"id":1,"$expect":{"nope":1}}]}',
        '{"op":"delete","entityName":"m_orders","entities":[{"$ref":"nope"}]}',
        '{"op":"delete","entityName":"m_orders","entities":[{"$tmp":"t"}]}',
        '{"op":"delete","entityName":"m_orders","entities":[{"id":{}}]}',
        '{"op":"delete","entityName":"m_lines","entities":[1]}', '{"op":"delete","entityName":"m_lines","entities":[[1]]}',
        '{"op":"delete","entityName":"m_lines","entities":[[1,2,3]]}', '{"op":"delete","entityName":"m_lines","entities":[[1,null]]}',
        '{"op":"delete","entityName":"m_lines","entities":[[1,{"a":1}]]}'];
    -- Valid changes put before a bad one: their writes must be rolled back with the batch.
    prefixes text[] := ARRAY[
        '',
        '{"op":"add","entityName":"m_orders","entities":[{"id":{"$tmp":"o"},"name":"new"}]},{"op":"add","entityName":"m_lines","entities":[{"order_id":{"$ref":"o"},"line_no":1,"qty":1}]},',
        '{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"qty":42}}]},{"op":"delete","entityName":"m_lines","entities":[[1,2]]},'];
    before text := m_state();
    cs text;
    n int := 0;
    state text;
    msg text;
BEGIN
    FOR i IN 1 .. array_length(whole, 1) LOOP
        n := n + 1;
        cs := whole[i];
        BEGIN
            PERFORM store_apply(cs::jsonb);
            INSERT INTO m_results VALUES (n, cs, 'none', 'applied', m_state() <> before);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            INSERT INTO m_results VALUES (n, cs, state, msg, m_state() <> before);
        END;
    END LOOP;
    FOR p IN 1 .. array_length(prefixes, 1) LOOP
        FOR i IN 1 .. array_length(bad, 1) LOOP
            n := n + 1;
            cs := '{"clientId":"m","mutationId":' || n || ',"changes":[' || prefixes[p] || bad[i] || ']}';
            BEGIN
                PERFORM store_apply(cs::jsonb);
                INSERT INTO m_results VALUES (n, cs, 'none', 'applied', m_state() <> before);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
                INSERT INTO m_results VALUES (n, cs, state, msg, m_state() <> before);
            END;
        END LOOP;
    END LOOP;
END
$$;

-- How many were tried, and their SQLSTATEs (all 22023, 42704 or 42703).
SELECT count(*) AS change_sets, count(*) FILTER (WHERE sqlstate IN ('22023', '42704', '42703')) AS clean_errors,
       count(*) FILTER (WHERE changed) AS left_something
  FROM m_results;
SELECT sqlstate, count(*) FROM m_results GROUP BY sqlstate ORDER BY sqlstate;
-- Anything else (none expected): shown with its change set.
SELECT n, changeset, sqlstate, message FROM m_results WHERE sqlstate NOT IN ('22023', '42704', '42703') OR changed ORDER BY n;
-- Every message names where it went wrong: the change (and the entity) or the member.
SELECT count(*) AS messages_without_a_place FROM m_results
 WHERE message !~ '(change \d+|member|"changes"|"clientId"|"mutationId"|JSON object|invalid JSON)';
-- The same valid batch applies afterwards (nothing was left half-done, and no replay recorded).
SELECT store_apply('{"clientId":"m","mutationId":1,"changes":[{"op":"update","entityName":"m_orders","entities":[{"id":1,"changes":{"qty":42}}]},{"op":"delete","entityName":"m_lines","entities":[[1,2]]}]}') -> 'documents';

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
DROP TABLE m_lines, m_orders, m_results;
DROP FUNCTION m_state();
