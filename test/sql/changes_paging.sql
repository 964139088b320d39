-- store_changes in pages: store_changes(after, max_changes) answers with about max_changes history
-- rows' worth of changes, cut at transaction boundaries, and "more": true while changes remain.
-- Followed page by page, a client ends with exactly the copy and the version that the unpaged
-- answer gives; rows it may not read make no page; reload and "nothing yet" answers are unchanged.
CREATE EXTENSION store;
\getenv abs_srcdir PG_ABS_SRCDIR
\set err_sql :abs_srcdir '/sql/include/err.sql'
\i :err_sql
-- A client's copy of the store: {"<key>": {"<id as JSON text>": doc}} (the tables' keys are "id").
-- copy_of(snapshot): the copy a snapshot gives.
CREATE FUNCTION copy_of(snapshot jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT coalesce(jsonb_object_agg(k.key, (SELECT coalesce(jsonb_object_agg((d -> 'id')::text, d), '{}')
                                               FROM jsonb_array_elements(k.value) AS d)), '{}')
      FROM jsonb_each(snapshot - 'version') AS k
$$;
-- applied(copy, delta): the copy after applying a delta, as README's client does.
CREATE FUNCTION applied(copy jsonb, delta jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    key text;
    change jsonb;
    doc jsonb;
    id jsonb;
BEGIN
    FOR key, change IN SELECT * FROM jsonb_each(delta -> 'changes') LOOP
        IF (change ->> 'replaced')::bool OR NOT copy ? key THEN
            copy := jsonb_set(copy, ARRAY[key], '{}');
        END IF;
        IF (change ->> 'removed')::bool THEN
            copy := copy - key;
            CONTINUE;
        END IF;
        FOR doc IN SELECT * FROM jsonb_array_elements(change -> 'upserted') LOOP
            copy := jsonb_set(copy, ARRAY[key, (doc -> 'id')::text], doc);
        END LOOP;
        FOR id IN SELECT * FROM jsonb_array_elements(change -> 'deleted') LOOP
            copy := copy #- ARRAY[key, id::text];
        END LOOP;
    END LOOP;
    RETURN copy;
END $$;
-- follow(copy, version, page_size): follows the pages after version, applying each to copy, while
-- they say "more"; returns the number of pages, the history rows each delivered, the final copy,
-- and whether the last page's version is the version of the snapshot it was read in (compared in
-- the same statement: other transactions, autovacuum's, may end between two statements).
CREATE FUNCTION follow(copy jsonb, version text, page_size int,
                       OUT pages int, OUT page_rows int[], OUT final_copy jsonb, OUT ends_at_now bool)
LANGUAGE plpgsql AS $$
DECLARE
    delta jsonb;
    rows_before bigint;
BEGIN
    pages := 0;
    page_rows := '{}';
    LOOP
        rows_before := (SELECT count(*) FROM store_history(version));
        SELECT c::jsonb, c ->> 'version' = store_version() INTO delta, ends_at_now
          FROM store_changes(version, page_size) AS c;
        copy := applied(copy, delta);
        page_rows := page_rows || (rows_before - (SELECT count(*) FROM store_history(delta ->> 'version')))::int;
        version := delta ->> 'version';
        pages := pages + 1;
        EXIT WHEN NOT coalesce((delta ->> 'more')::bool, false) OR pages > 100;
    END LOOP;
    final_copy := copy;
END $$;

CREATE TABLE items (id int PRIMARY KEY, name text);
CREATE TABLE tags (id text PRIMARY KEY, label text);
INSERT INTO items VALUES (1, 'one');
INSERT INTO tags VALUES ('a', 'A');
SELECT store_register('items', 'items');
SELECT store_register('tags', 'tags');
SELECT store_snapshot()::jsonb AS s0 \gset
SELECT :'s0'::jsonb ->> 'version' AS v0 \gset

-- Eight transactions after v0, of 3, 1, 2, 8, 2, 1, 2 and 1 history rows.
INSERT INTO items VALUES (2, 'two'), (3, 'three'), (4, 'four');
UPDATE items SET name = 'ONE' WHERE id = 1;
BEGIN; INSERT INTO tags VALUES ('b', 'B'); DELETE FROM items WHERE id = 2; COMMIT;
INSERT INTO items SELECT g, 'bulk ' || g FROM generate_series(10, 17) AS g;
UPDATE items SET id = 30 WHERE id = 3;
SELECT store_reload('tags');
BEGIN; DELETE FROM items WHERE id = 10; INSERT INTO tags VALUES ('c', 'C'); COMMIT;
UPDATE items SET name = 'eleven' WHERE id = 11;
SELECT count(*) AS history_rows_after_v0 FROM store_history(:'v0');

-- The unpaged answer (one page of at most 1000 rows): the client's copy equals a snapshot now.
SELECT store_changes(:'v0', 1000)::jsonb - 'version' AS unpaged;
SELECT copy_of(store_snapshot()::jsonb) AS now_copy \gset
SELECT applied(copy_of(:'s0'), store_changes(:'v0', 1000)::jsonb) = :'now_copy'::jsonb AS unpaged_gives_now,
       store_changes(:'v0', 1000) ->> 'version' = store_version() AS unpaged_version_is_now;

-- Page by page, for every page size: whole transactions, each page at most max_changes rows
-- unless one transaction alone is larger; the same copy and version at the end.
SELECT n AS max_changes, f.pages, f.page_rows,
       f.final_copy = :'now_copy'::jsonb AS same_copy,
       f.ends_at_now
  FROM generate_series(1, 9) AS n, follow(copy_of(:'s0'), :'v0', n) AS f
 ORDER BY n;
SELECT f.pages, f.final_copy = :'now_copy'::jsonb AS same_copy, f.ends_at_now
  FROM follow(copy_of(:'s0'), :'v0', 10000) AS f;

-- The pages of three rows, as a client receives them.
SELECT store_changes(:'v0', 3)::jsonb - 'version' AS page_1;
SELECT store_changes(:'v0', 3) ->> 'version' AS p1 \gset
SELECT store_changes(:'p1', 3)::jsonb - 'version' AS page_2;
SELECT store_changes(:'p1', 3) ->> 'version' AS p2 \gset
SELECT store_changes(:'p2', 3)::jsonb - 'version' AS page_3;
SELECT store_changes(:'p2', 3) ->> 'version' AS p3 \gset
SELECT store_changes(:'p3', 3)::jsonb - 'version' AS page_4;
SELECT store_changes(:'p3', 3) ->> 'version' AS p4 \gset
SELECT store_changes(:'p4', 3)::jsonb - 'version' AS page_5;
SELECT store_changes(:'p4', 3) ->> 'version' = store_version() AS last_page_version_is_now;
-- What a page delivered is what the history holds between its versions.
SELECT cache_key, item_id, state FROM store_history(:'p1') EXCEPT ALL SELECT cache_key, item_id, state FROM store_history(:'p2')
 ORDER BY 1, 2, 3;

-- From "0", the whole retained history in pages: the same copy and version as one answer.
SELECT f.pages, f.page_rows, f.final_copy = :'now_copy'::jsonb AS same_copy,
       f.ends_at_now
  FROM follow('{}', '0', 4) AS f;

-- The one-argument call pages at 10000 history rows: three transactions of 4000 make two pages.
SELECT store_version() AS v1 \gset
INSERT INTO items SELECT g, 'many' FROM generate_series(1000, 4999) AS g;
UPDATE items SET name = 'many again' WHERE id >= 1000;
DELETE FROM items WHERE id >= 1000;
SELECT (store_changes(:'v1')::jsonb ->> 'more')::bool AS first_has_more,
       jsonb_array_length(store_changes(:'v1')::jsonb #> '{changes,items,upserted}') AS first_upserted,
       jsonb_array_length(store_changes(:'v1')::jsonb #> '{changes,items,deleted}') AS first_deleted;
SELECT store_changes(:'v1') ->> 'version' AS v1_next \gset
SELECT store_changes(:'v1_next')::jsonb ? 'more' AS second_has_more,
       jsonb_array_length(store_changes(:'v1_next')::jsonb #> '{changes,items,deleted}') AS second_deleted,
       store_changes(:'v1_next') ->> 'version' = store_version() AS second_version_is_now;
SELECT store_changes(:'v1', 100000)::jsonb ? 'more' AS unpaged_has_more;

-- Row-level security and unreadable keys: a reader's pages count only the rows it may see. Rows
-- of a key it may not read make no page; a key under RLS comes back whole, its visible rows only.
CREATE TABLE secrets (id int PRIMARY KEY, secret text);
CREATE TABLE notes (id int PRIMARY KEY, author text, body text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON notes FOR SELECT USING (author = current_user);
CREATE ROLE store_paging_reader;
GRANT SELECT ON items, notes TO store_paging_reader;
SELECT store_register('secrets', 'secrets');
SELECT store_register('notes', 'notes');
SET ROLE store_paging_reader;
SELECT store_snapshot()::jsonb AS rs0 \gset
RESET ROLE;
INSERT INTO secrets VALUES (1, 's1');
INSERT INTO notes VALUES (1, 'store_paging_reader', 'mine'), (2, 'someone else', 'theirs');
INSERT INTO secrets VALUES (2, 's2');
INSERT INTO secrets VALUES (3, 's3');
UPDATE items SET name = 'read by the reader' WHERE id = 1;
INSERT INTO secrets VALUES (4, 's4');
INSERT INTO notes VALUES (3, 'store_paging_reader', 'mine too');
SET ROLE store_paging_reader;
SELECT store_changes(:'rs0'::jsonb ->> 'version', 1)::jsonb - 'version' AS reader_first_page;
SELECT copy_of(store_snapshot()::jsonb) AS reader_now \gset
SELECT f.pages, f.final_copy = :'reader_now'::jsonb AS same_copy, f.ends_at_now,
       f.final_copy -> 'notes' AS notes_seen, f.final_copy ? 'secrets' AS sees_secrets
  FROM follow(copy_of(:'rs0'), :'rs0'::jsonb ->> 'version', 1) AS f;
SELECT applied(copy_of(:'rs0'), store_changes(:'rs0'::jsonb ->> 'version', 1000)::jsonb) = :'reader_now'::jsonb
       AS reader_unpaged_same_copy;
RESET ROLE;

-- A version ahead of the reader's snapshot (here: one that counts the reader's own transaction
-- as finished) is answered with nothing yet and the same version, without "more".
BEGIN;
SELECT pg_current_xact_id()::text::bigint AS own \gset
SELECT split_part(store_version(), ':', 1) || ':' || (:own + 1) || ':' || (:own + 1) || ':' AS ahead \gset
SELECT store_changes(:'ahead', 1)::jsonb - 'version' AS ahead_delta,
       store_changes(:'ahead', 1) ->> 'version' = :'ahead' AS ahead_version_kept;
COMMIT;

-- A version older than the retained history is told to reload, page size or not.
SELECT store_compact('0 seconds') > 0 AS compacted;
SELECT store_changes(:'v0', 1)::jsonb - 'version' AS too_old;
SELECT store_changes('0', 1)::jsonb - 'version' AS from_zero_after_compaction;
SELECT store_changes(:'v0')::jsonb - 'version' AS too_old_one_argument;

-- Bad page sizes and versions.
SELECT err(format('SELECT store_changes(%L, NULL)', :'v0'));
SELECT err(format('SELECT store_changes(%L, 0)', :'v0'));
SELECT err(format('SELECT store_changes(%L, -1)', :'v0'));
SELECT err($$SELECT store_changes(NULL, 10)$$);
SELECT err($$SELECT store_changes('nope', 10)$$);
-- In a transaction that changed the store, no version is handed out.
BEGIN;
INSERT INTO items VALUES (99, 'uncommitted');
SELECT err(format('SELECT store_changes(%L, 10)', :'v0'));
ROLLBACK;

DROP TABLE items, tags, secrets, notes CASCADE;
DROP OWNED BY store_paging_reader;
DROP ROLE store_paging_reader;
SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP FUNCTION err(text), copy_of(jsonb), applied(jsonb, jsonb), follow(jsonb, text, int);
