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

-- Composite ids (arrays of scalars) are compared from their elements directly: store._id_cmp
-- agrees in sign with jsonb's own operators on every pair of a few hundred generated ids - single
-- scalars and arrays of 1 to 3 elements mixing numbers of equal value and different scale
-- (1 = 1.0 = 1.00 in jsonb), strings the collation may order differently from bytes, multibyte
-- strings, booleans and nulls, arrays of different lengths (more elements sort after fewer, and
-- [] before every scalar), nested arrays and objects (left to jsonb_cmp), and ids long enough to
-- be stored with a 4-byte header or compressed.
CREATE TABLE elements (e jsonb, pool int); -- pool 1: pairs use it, pool 2: triples too
INSERT INTO elements VALUES
    ('0', 2), ('-0.0', 0), ('1', 2), ('1.0', 1), ('1.00', 0), ('-1', 1), ('-2.5', 0), ('2', 0),
    ('0.001', 0), ('1e20', 0), ('123456789012345678901234567890', 0),
    ('""', 1), ('"a"', 2), ('"A"', 0), ('"b"', 1), ('"B"', 1), ('"a b"', 0), ('"ab"', 0), ('"é"', 0),
    ('"e"', 0), ('"日本"', 0), ('"10"', 0), ('"9"', 0), ('"2024-01-01T00:00:00+00:00"', 0),
    ('true', 2), ('false', 1), ('null', 2),
    ('[]', 0), ('[1]', 1), ('["a", 1]', 0), ('{}', 0), ('{"a": 1}', 1);
CREATE TABLE composite_ids (v jsonb);
INSERT INTO composite_ids SELECT e FROM elements;
INSERT INTO composite_ids SELECT jsonb_build_array(a.e) FROM elements AS a;
INSERT INTO composite_ids SELECT jsonb_build_array(a.e, b.e)
  FROM elements AS a, elements AS b WHERE a.pool >= 1 AND b.pool >= 1;
INSERT INTO composite_ids SELECT jsonb_build_array(a.e, b.e, c.e)
  FROM elements AS a, elements AS b, elements AS c WHERE a.pool = 2 AND b.pool = 2 AND c.pool = 2;
INSERT INTO composite_ids SELECT jsonb_build_array(repeat('x', 200), a.e) FROM elements AS a WHERE a.pool = 2;
INSERT INTO composite_ids SELECT jsonb_build_array(repeat('x', 200) || 'y', 1);
INSERT INTO composite_ids SELECT jsonb_build_array(repeat('ab', 3000), a.e) FROM elements AS a WHERE a.pool = 2;
SELECT count(*) AS ids, count(*) FILTER (WHERE jsonb_typeof(v) = 'array') AS arrays,
       count(*) FILTER (WHERE pg_column_size(v) > 127 AND pg_column_compression(v) IS NULL) AS long_ids,
       count(*) FILTER (WHERE pg_column_compression(v) IS NOT NULL) AS compressed_ids
  FROM composite_ids;
-- the sign jsonb's own operators give, against the stored values (1-byte, 4-byte and compressed
-- headers) and against values built in memory (4-byte headers) on one side or both
CREATE FUNCTION jsonb_sign(a jsonb, b jsonb) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a OPERATOR(pg_catalog.<) b THEN -1 WHEN a OPERATOR(pg_catalog.=) b THEN 0 ELSE 1 END
$$;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE sign(store._id_cmp(a.v, b.v)) <> jsonb_sign(a.v, b.v)) AS stored,
       count(*) FILTER (WHERE sign(store._id_cmp(a.v, b.v::text::jsonb)) <> jsonb_sign(a.v, b.v)) AS mixed,
       count(*) FILTER (WHERE sign(store._id_cmp(a.v::text::jsonb, b.v::text::jsonb)) <> jsonb_sign(a.v, b.v))
           AS in_memory,
       count(*) FILTER (WHERE sign(store._id_cmp(a.v, b.v)) <> sign(jsonb_cmp(a.v, b.v))) AS against_jsonb_cmp
  FROM composite_ids AS a, composite_ids AS b;
-- the pairs whose order the rules above decide (each must be as shown, and as jsonb orders them)
SELECT a::jsonb AS a, b::jsonb AS b, sign(store._id_cmp(a::jsonb, b::jsonb)) AS id_cmp,
       jsonb_sign(a::jsonb, b::jsonb) AS jsonb
  FROM (VALUES ('[1, 2]', '[1.00, 2.0]'), ('[1]', '[1, 0]'), ('[2]', '[1, 0]'), ('[]', 'null'),
               ('[]', '"a"'), ('1', '[1]'), ('1', '[0]'), ('"z"', '[0, 0]'), ('[null]', '[""]'),
               ('["z"]', '[0]'), ('[99]', '[false]'), ('[false]', '[true]'), ('[true, 1]', '[true, "1"]'),
               ('["a", 1]', '["b", 0]'), ('["a", 2]', '["a", 10]'), ('["", 1]', '["a", 0]'),
               ('[-1, "x"]', '[-0.5, "a"]'), ('[null, null]', '[null, null]'), ('[1, [2]]', '[2, [1]]'),
               ('[1, [2]]', '[1, {}]'), ('[[1], 1]', '[[1], 2]'), ('["a", {}]', '["a", 1]')) AS p(a, b);

-- A registered table with a composite primary key: its entries index stays consistent (amcheck
-- verifies every page, every tuple of the heap in the index, and finds each one from the root)
-- through inserts, updates of key and non-key columns and deletes, and an index scan of its
-- documents returns them in jsonb order.
CREATE EXTENSION amcheck;
CREATE TABLE pairs (tenant text, n numeric, flag bool, note text, PRIMARY KEY (tenant, n, flag));
SELECT store_register('pairs', 'pairs');
INSERT INTO pairs SELECT (ARRAY['a', 'B', 'b', '', 'é', 'A b'])[1 + g % 6], (g % 997) * 0.5 - 200, g % 3 = 0, 'x'
  FROM generate_series(1, 6000) AS g ON CONFLICT DO NOTHING;
UPDATE pairs SET note = 'y' WHERE n::int % 2 = 0;
UPDATE pairs SET n = n + 1000.00 WHERE tenant = 'b';
DELETE FROM pairs WHERE n::int % 5 = 0;
INSERT INTO pairs SELECT 'z' || g % 10, g, g % 2 = 0, 'z' FROM generate_series(1, 500) AS g;
SELECT count(*) AS rows, (SELECT count(*) FROM store.entries WHERE key = 'pairs') AS entries FROM pairs;
SELECT bt_index_parent_check('store.entries_key'::regclass, heapallindexed => true, rootdescend => true);
-- snapshots list the documents in index order, which is the order jsonb sorts their ids
SELECT (SELECT array_agg(jsonb_build_array(d ->> 'tenant', (d ->> 'n')::numeric, (d ->> 'flag')::bool) ORDER BY i)
          FROM json_array_elements(store_snapshot('pairs') -> 'pairs') WITH ORDINALITY AS s(d, i))
     = (SELECT array_agg(jsonb_build_array(tenant, n, flag) ORDER BY jsonb_build_array(tenant, n, flag)) FROM pairs)
       AS composite_in_jsonb_order;
SELECT count(*) FILTER (WHERE store_get('pairs', jsonb_build_array(tenant, n, flag)::text) IS NULL) AS pairs_not_found
  FROM pairs;
DROP EXTENSION amcheck;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP TABLE ids, things, amounts, elements, composite_ids, pairs;
DROP FUNCTION jsonb_sign(jsonb, jsonb);
