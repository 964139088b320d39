-- store.id_ops orders entry ids exactly as jsonb's own btree class does: store._id_cmp agrees
-- in sign with jsonb_cmp on every pair of a varied set (numbers of every scale and sign, strings
-- the collation orders differently from bytes, and every other kind of jsonb, which it hands to
-- jsonb_cmp), and an index scan of store.entries returns a key's documents in jsonb order.
CREATE EXTENSION store;
CREATE TABLE ids (v jsonb);
INSERT INTO ids VALUES
    ('0'), ('-0.0'), ('1'), ('1.0'), ('1.50'), ('-1'), ('2'), ('10'), ('-10.5'), ('9007199254740993'),
    ('123456789012345678901234567890'), ('0.000001'), ('-0.000001'), ('1e3'), ('999.999'),
    ('""'), ('"a"'), ('"A"'), ('"b"'), ('"B"'), ('"ab"'), ('"a b"'), ('"a-b"'), ('"é"'), ('"e"'),
    ('"z"'), ('"Z"'), ('"10"'), ('"9"'), ('"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'), ('"2021-08-19"'),
    ('true'), ('false'), ('null'), ('[]'), ('[1]'), ('[1, 2]'), ('["a"]'), ('{}'), ('{"a": 1}'),
    ('{"a": 2}'), ('{"b": 1}');
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE sign(store._id_cmp(a.v, b.v)) <> sign(jsonb_cmp(a.v, b.v))) AS disagreements
  FROM ids AS a, ids AS b;

CREATE TABLE things (id text PRIMARY KEY);
INSERT INTO things SELECT v #>> '{}' FROM ids WHERE jsonb_typeof(v) = 'string';
CREATE TABLE amounts (id numeric PRIMARY KEY);
INSERT INTO amounts SELECT DISTINCT (v #>> '{}')::numeric FROM ids WHERE jsonb_typeof(v) = 'number'
    ON CONFLICT DO NOTHING;
SELECT store_register('things', 'things');
SELECT store_register('amounts', 'amounts');
-- snapshots list documents in the order jsonb sorts their ids
SELECT (SELECT array_agg(d ->> 'id') FROM json_array_elements(store_snapshot('things') -> 'things') AS d)
     = (SELECT array_agg(to_jsonb(id) #>> '{}' ORDER BY to_jsonb(id)) FROM things) AS strings_in_jsonb_order;
SELECT (SELECT array_agg((d ->> 'id')::numeric) FROM json_array_elements(store_snapshot('amounts') -> 'amounts') AS d)
     = (SELECT array_agg(id ORDER BY to_jsonb(id)) FROM amounts) AS numbers_in_jsonb_order;
-- lookups by (key, id) find every entry
SELECT count(*) FILTER (WHERE store_get('things', id) IS NULL) AS things_not_found FROM things;
SELECT count(*) FILTER (WHERE store_get('amounts', id::text) IS NULL) AS amounts_not_found FROM amounts;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE ids, things, amounts;
