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
	int cursor_options; // SPI_prepare_cursor's (0: the plan cache chooses custom or generic plans)
};

// Prepares (if needed) and runs plan as the store owner; needs an open SPI connection.
int ExecuteKeptPlan(KeptPlan *plan, Datum *args, bool read_only);

// The same with nulls (' ' or 'n' per argument; nullptr: none).
int ExecuteKeptPlanWithNulls(KeptPlan *plan, Datum *args, const char *nulls, bool read_only);

// Opens a read-only cursor over plan as the current user: the caller becomes the store owner around
// it and its fetches (the query runs in every fetch).
Portal OpenKeptCursor(KeptPlan *plan, Datum *args, const char *nulls);

// Runs a read-only kept plan as the store owner in a fresh snapshot: the latest committed state
// (and this transaction's own changes), whatever the transaction's isolation level.
int ReadLatestKeptPlan(KeptPlan *plan, Datum *args);

} // namespace store::pg
