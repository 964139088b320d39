-- store: a materialized JSON store of registered tables, kept current by triggers in the writing
-- transaction, with a version history and a NOTIFY per committed change.
--
-- The install script of the version in development, built by the Makefile from sql/src/*.sql (one
-- file per concern, in file-name order). This file and 90-event-triggers.sql create what cannot be
-- created twice (the schema, tables, event triggers); every other file only declares functions
-- (CREATE OR REPLACE), so an update script may include it again (see sql/update/).
\echo Use "CREATE EXTENSION store" to load this file. \quit

-- Internal objects live in schema "store", created here so nobody else can own it.
-- The user-facing functions (store_register, store_snapshot, ...) go to the extension's schema.
CREATE SCHEMA store;
COMMENT ON SCHEMA store IS 'internal tables and helpers of the store extension';

-- This store's identity (its "origin", see README): a hash of the cluster, its timeline, the
-- database and the history table. Stamped on history rows, so rows restored from another store
-- (a dump, a promotion, a point-in-time recovery) are never mistaken for this store's.
CREATE FUNCTION store._origin() RETURNS int4
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_origin';

-- One row per store key: which table it serializes, which columns (NULL: all), and the type of
-- its primary key (record for a composite key). column_numbers follows the chosen columns through
-- renames; shape is the signature of the document (column names and types, primary key) that DDL
-- handling compares; filter is the rows the key stores, filter_node the same expression checked
-- and analyzed (nodeToString), which the capture trigger evaluates. nested is a nested key's shape
-- (PostgREST select syntax, canonical text; NULL for a flat key): its columns and column_numbers
-- are then the root columns the shape reads, so DDL handling protects them.
CREATE TABLE store.keys (
    key text PRIMARY KEY,
    source regclass NOT NULL,
    columns text[],
    column_numbers int2[],
    id_type regtype NOT NULL,
    shape text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    filter text,
    filter_node text,
    nested text
);
COMMENT ON TABLE store.keys IS 'registered store keys: key -> source table, chosen columns, primary-key type';
COMMENT ON COLUMN store.keys.filter IS 'the rows the key stores (NULL: every row), as SQL over its table''s columns';
COMMENT ON COLUMN store.keys.nested IS 'a nested key''s shape (canonical text; NULL: a flat key)';

-- Entries are found by (key, id) on every write and read in id order by every snapshot. jsonb's
-- own btree comparison walks both values with iterators; store.id_ops orders ids exactly as
-- jsonb does (same operators) but compares single numbers and strings, and arrays of them
-- (composite ids), from their elements directly.
CREATE FUNCTION store._id_cmp(jsonb, jsonb) RETURNS int4
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'store_id_cmp';
CREATE OPERATOR CLASS store.id_ops FOR TYPE jsonb USING btree AS
    OPERATOR 1 pg_catalog.< (jsonb, jsonb),
    OPERATOR 2 pg_catalog.<= (jsonb, jsonb),
    OPERATOR 3 pg_catalog.= (jsonb, jsonb),
    OPERATOR 4 pg_catalog.>= (jsonb, jsonb),
    OPERATOR 5 pg_catalog.> (jsonb, jsonb),
    FUNCTION 1 store._id_cmp(jsonb, jsonb);

-- The materialized documents: one JSON text per row of each registered table, rendered once by
-- the capture trigger (to_json: keys in column order, no whitespace). id is the primary key value
-- as jsonb (a JSON array for a composite key), so ORDER BY id follows the key's order. The key is
-- compared bytewise (text_pattern_ops); a unique index cannot be the primary key with these
-- operator classes, so it is the replica identity instead.
CREATE TABLE store.entries (
    key text NOT NULL,
    id jsonb NOT NULL,
    doc json NOT NULL
);
CREATE UNIQUE INDEX entries_key ON store.entries (key pg_catalog.text_pattern_ops, id store.id_ops);
ALTER TABLE store.entries REPLICA IDENTITY USING INDEX entries_key;
COMMENT ON TABLE store.entries IS 'store documents (JSON text), kept current by the store_<key> triggers';

-- The change log. xid is the writing top-level transaction: a version (cursor) is an MVCC
-- snapshot, and the changes after it are exactly this store's rows whose xid it does not see.
-- seq orders the rows of one answer; cursors never use it.
CREATE SEQUENCE store.history_seq;
CREATE TABLE store.history (
    seq bigint NOT NULL DEFAULT pg_catalog.nextval('store.history_seq'),
    origin int4 NOT NULL DEFAULT store._origin(),
    xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    cache_key text,
    item jsonb,
    state text NOT NULL, -- C, U, D or F; only the store writes it (no CHECK: it cost 17% of every write)
    added_on timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE store.history_seq OWNED BY store.history.seq;
CREATE INDEX history_xid_idx ON store.history (origin, xid);
COMMENT ON TABLE store.history IS
    'store change log: C create, U update (item NULL: whole key), D delete (item NULL: key removed), F full reload';

-- Retention state: per origin, the newest transaction whose history store_compact() removed.
CREATE TABLE store.meta (
    origin int4 NOT NULL,
    compacted_xid xid8 NOT NULL
);

-- pg_dump keeps registrations, documents, history and retention state.
SELECT pg_catalog.pg_extension_config_dump('store.keys', '');
SELECT pg_catalog.pg_extension_config_dump('store.entries', '');
SELECT pg_catalog.pg_extension_config_dump('store.history', '');
SELECT pg_catalog.pg_extension_config_dump('store.history_seq', '');
SELECT pg_catalog.pg_extension_config_dump('store.meta', '');

-- Only the extension owner writes these tables (the triggers switch to that role to write).
REVOKE ALL ON store.keys, store.entries, store.history, store.history_seq, store.meta FROM PUBLIC;


-- store_apply's replays: per role and client, the last mutationId it applied (written as the store
-- owner in the applying transaction). Per role, so that a role knowing another's clientId cannot
-- make that client's replays count as duplicates; by the role's name, which pg_dump keeps (an oid
-- would not survive a restore). pg_dump keeps the table, so a restored store still refuses old
-- replays.
CREATE TABLE store.mutations (
    role text NOT NULL,
    client_id text NOT NULL,
    last_mutation bigint NOT NULL,
    applied_at timestamptz,
    PRIMARY KEY (role, client_id)
);
COMMENT ON TABLE store.mutations IS 'store_apply: the last applied mutationId per role and clientId (replays of it or older ones write nothing)';
COMMENT ON COLUMN store.mutations.role IS 'the role that ran store_apply (current_user), by name: a dump restores it to the role of that name';
SELECT pg_catalog.pg_extension_config_dump('store.mutations', '');
REVOKE ALL ON store.mutations FROM PUBLIC;
