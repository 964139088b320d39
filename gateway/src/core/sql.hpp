// The SQL texts store-http runs, in one place; %s stands for the store extension's quoted schema.
#pragma once

#include <string>

namespace gw::sql {

// Every read request: one REPEATABLE READ transaction, so the version and the data share a snapshot.
inline const char *const begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
// The request's role and claims, transaction-local (PostgREST-style; values are bound, never spliced).
inline const char *const set_request =
    "SELECT pg_catalog.set_config('role', $1, true), pg_catalog.set_config('request.jwt.claims', $2, true), "
    "pg_catalog.set_config('request.method', $3, true), pg_catalog.set_config('request.path', $4, true)";
// The same for a read in a pipeline's implicit transaction, made read-only (the guard BEGIN ... READ ONLY gave).
inline const char *const set_read_request =
    "SELECT pg_catalog.set_config('role', $1, true), pg_catalog.set_config('request.jwt.claims', $2, true), "
    "pg_catalog.set_config('request.method', $3, true), pg_catalog.set_config('request.path', $4, true), "
    "pg_catalog.set_config('transaction_read_only', 'on', true)";
inline const char *const commit = "COMMIT";
// Every write: one transaction at the database's default isolation.
inline const char *const begin_write = "BEGIN";
inline const char *const apply = "SELECT %s.store_apply($1::pg_catalog.jsonb)::text";
inline const char *const rollback = "ROLLBACK";
inline const char *const version = "SELECT %s.store_version()";
// GET /store/: the version and what the caller's documents depend on (NULL: not to be cached).
inline const char *const version_tag = "SELECT %s.store_version(), %s.store_snapshot_tag()";
inline const char *const tag = "SELECT %s.store_snapshot_tag()";
inline const char *const snapshot_rows = "SELECT c FROM %s.store_snapshot_rows() c";
// The whole reads: (answer, the answer's own version or NULL, the snapshot's version), in one snapshot.
inline const char *const key_snapshot = "SELECT %s.store_snapshot($1)::text, NULL::text, %s.store_version()";
inline const char *const get = "SELECT %s.store_get($1, $2)::text, NULL::text, %s.store_version()";
inline const char *const describe = "SELECT %s.store_describe()::text, NULL::text, %s.store_version()";
inline const char *const history = "SELECT pg_catalog.row_to_json(h)::text, h.version FROM %s.store_history($1) h";
inline const char *const changes =
    "SELECT c::text, c OPERATOR(pg_catalog.->>) 'version', %s.store_version() FROM %s.store_changes($1) c";
inline const char *const changes_paged = "SELECT c::text, c OPERATOR(pg_catalog.->>) 'version', %s.store_version() "
                                         "FROM %s.store_changes($1, $2::pg_catalog.int4) c";
// Whether changes exist after a resume point, as the caller sees them: one row (version, keys, any key-less row).
inline const char *const events_since =
    "SELECT h.version, pg_catalog.array_to_json(pg_catalog.array_agg(DISTINCT h.cache_key) FILTER (WHERE h.cache_key "
    "IS NOT NULL))::text, pg_catalog.bool_or(h.cache_key IS NULL) FROM %s.store_history($1) h GROUP BY h.version";

// A statement with the schema put in for each %s.
inline std::string
with_schema(const char *text, const std::string &schema)
{
	std::string s = text;
	for (auto p = s.find("%s"); p != std::string::npos; p = s.find("%s", p + schema.size()))
		s.replace(p, 2, schema);
	return s;
}

} // namespace gw::sql
