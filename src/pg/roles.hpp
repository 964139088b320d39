// Role switching: the store's own work runs as the owner of its tables (BecomeStoreOwner), a
// table's documents are rendered as that table's owner (BecomeRole with RelationOwner).
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// The owner of relation relid; InvalidOid when it does not exist.
Oid RelationOwner(Oid relid);

// The user and security context a role switch saved.
struct SavedUser {
	Oid user;
	int context;
};

// Runs as role from now on, in a security-restricted operation (plus extra_flags). An error
// before RestoreUser leaves the switch to (sub)transaction abort, which undoes it.
SavedUser BecomeRole(Oid role, int extra_flags = 0);

// Runs as the store owner: the caller may lack any privilege on the store's tables.
SavedUser BecomeStoreOwner();

// Returns to the user a role switch saved.
void RestoreUser(SavedUser saved);

} // namespace store::pg
