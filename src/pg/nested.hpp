// Nested keys (issue 11): registration checks, the query rendering their documents, and the
// maintenance in the writing transaction (row triggers record, a deferred trigger flushes).
#pragma once

#include "core/shape_resolve.hpp"
#include "pg/postgres_headers.hpp"

#include <string>
#include <utility>
#include <vector>

namespace store::pg {

// Errors unless every column shape reads, in every table, can be read by the root table's owner
// (SELECT on it, no row-level security applying to it on an embedded table: 42501) and rendered only
// through code that owner trusts (trust.hpp). C++ frame: call where C++ objects may live.
void RequireNestedRenderable(const core::ResolvedShape &shape);

// True when reader may read the documents of a nested key (shape: its store.keys.nested) beyond
// its root table, which the caller checks: reader may use each embedded table's schema and select
// every column the shape reads there, and no row-level security on an embedded table applies to
// reader (one rendering serves everyone). False too when the shape no longer resolves.
bool MayReadNested(Oid root, const char *shape, Oid reader);

// Sets up the pending changes and the key cache; called from _PG_init.
void InitNested();

// Flushes every nested key with pending changes (see nested.cpp); nothing when there are none.
// written, when given, receives the (key, id) of every document whose entry or history row the
// flush changed (ids as jsonb prints them): store_apply lists them in its answer.
void FlushNested(std::vector<std::pair<std::string, std::string>> *written = nullptr);

// True when the transaction recorded changes of nested keys not flushed yet.
bool NestedPending();

// Subtransaction and transaction ends (xact.cpp): merge, forget, clear.
void NestedSubCommit(SubTransactionId sub, SubTransactionId parent);
void NestedSubAbort(SubTransactionId sub) noexcept; // never raises: it runs during the abort
void NestedClear();

} // namespace store::pg
