// Plans of store_apply's statements, kept per backend by (current user, SQL text, parameter
// types): an entity's statement is parsed and planned once per shape (table, operation, column
// set), not once per entity. What a kept plan may not serve stale:
// - DDL on what it reads (ALTER TABLE ADD/DROP COLUMN, policies, a dropped and re-created table):
//   PostgreSQL's plan cache plans it again on the next use (relcache invalidation); a changed
//   column type or key changes the statement's text (ApplyTable holds the types);
// - privileges on the table and its columns: checked by the executor on every execution;
// - row-level security: the plan cache plans again for another role (and the key holds the user);
// - what parse analysis alone checks (USAGE on the schemas the text names): a GRANT or REVOKE on a
//   schema resets every cached plan (pg_namespace invalidation); a change of role membership or
//   of a role's attributes (superuser) drops every kept plan here before the next store_apply.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Marks the start (enter) and end (leave) of a store_apply call; plans are freed only between
// calls (never under a running statement: store_apply may run inside a trigger of one).
void EnterApplyPlans();
void LeaveApplyPlans();

// The plan of sql with argtypes for the current user: kept (prepared now and kept, or prepared
// earlier), or, when it cannot be kept (the cache is full or invalidated during a nested call,
// too many parameters), prepared for this SPI connection only. Needs SPI; PostgreSQL calls only.
SPIPlanPtr ApplyPlan(const char *sql, int nargs, Oid *argtypes);

} // namespace store::pg
