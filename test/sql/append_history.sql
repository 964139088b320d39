-- store._append_history(cache_key, state): the SQL paths' way to the one history appender. It
-- appends whole-key rows (U: the key's documents replaced, D: the key removed) and the
-- whole-store row (F: every key reloaded, cache_key NULL), item NULL; any other state, or a
-- state with the wrong kind of cache_key, is refused (22023) before anything is written.
CREATE EXTENSION store;
CREATE FUNCTION err(cmd text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE cmd;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- accepted (as a superuser: PUBLIC may not execute it)
SELECT store._append_history('k', 'U'), store._append_history('k', 'D'), store._append_history(NULL, 'F');
SELECT cache_key, item, state FROM store.history ORDER BY seq;

-- refused: item-level states (they need an item), unknown states, F for one key, U or D for no key
SELECT c AS cache_key, s AS state, err(format('SELECT store._append_history(%L, %L)', c, s)) AS result
  FROM (VALUES ('k', 'C'), ('k', 'X'), ('k', ''), ('k', 'u'), ('k', 'UU'), ('k', 'F'), (NULL, 'U'),
               (NULL, 'D'), (NULL, 'C'), ('k', NULL)) AS t(c, s);
SELECT count(*) AS history_rows FROM store.history;

-- not for PUBLIC (nor is the schema store)
CREATE ROLE store_append_history_user;
SET ROLE store_append_history_user;
SELECT err($$SELECT store._append_history('k', 'U')$$);
RESET ROLE;
DROP ROLE store_append_history_user;

SET client_min_messages = warning;
DROP EXTENSION store CASCADE;
RESET client_min_messages;
DROP FUNCTION err(text);
