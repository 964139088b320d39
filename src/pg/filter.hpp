// Partial keys: a registered key's filter, an SQL boolean expression over its table's columns
// restricted as PostgreSQL 15 restricts publication row filters (plain columns, built-in types,
// collations and operators, immutable built-in functions; no subqueries, aggregates, window or
// set-returning functions, system columns). Parsed and checked at registration, stored as a node
// tree (store.keys.filter_node) with its canonical text (store.keys.filter), and evaluated by
// the capture trigger per row, as the table's owner under canonical settings.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

struct DocShape;

// A key's filter prepared for evaluation; lives in its shape's memory context.
struct Filter {
	ExprState *qual;      // the filter, as ExecQual evaluates it (NULL counts as false)
	ExprContext *context; // its evaluation context (per-row memory reset before each row)
	TupleTableSlot *slot; // holds the row being tested
};

// The filter of store_key on rel, prepared in context; nullptr when the key has none (or the
// store's tables predate filters). Errors when the filter no longer fits the table's columns.
// Needs an open SPI connection.
Filter *LoadFilter(Relation rel, const char *store_key, MemoryContext context);

// Sets *old_row and *new_row (each may be nullptr) to nullptr when the row does not match shape's
// filter. Call it between BeginRendering and EndRendering: the filter runs as the table's owner
// under canonical settings, as its documents render. No filter: nothing changes.
void KeepMatchingRows(const DocShape *shape, HeapTuple *old_row, HeapTuple *new_row);

} // namespace store::pg
