// SPI plans kept per backend: prepared on first use and again after an invalidation, and run as
// the owner of the store's tables (the caller may hold no privilege on them).
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// One statement kept for the backend's lifetime. Declare it static, with schema-qualified SQL.
struct KeptPlan {
	const char *sql;
	int nargs;
	const Oid *argtypes;
	SPIPlanPtr plan;
};

// Prepares (if needed) and runs plan as the store owner; needs an open SPI connection.
int ExecuteKeptPlan(KeptPlan *plan, Datum *args, bool read_only);

// Runs a read-only kept plan as the store owner in a fresh snapshot: the latest committed state
// (and this transaction's own changes), whatever the transaction's isolation level.
int ReadLatestKeptPlan(KeptPlan *plan, Datum *args);

} // namespace store::pg
