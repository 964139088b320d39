// Reading registrations and writing store entries and history rows from triggers. Writes run as
// the owner of the store tables, which ordinary users cannot write. Item writes (WriteCreate,
// WriteUpdate, WriteDelete) go directly to the tables; the others need an open SPI connection.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Adds (key, id) with doc and logs 'C'.
void WriteCreate(const char *store_key, Datum id, Datum doc);

// Sets (key, id) to doc and logs 'U'; false (nothing written) when it already holds doc.
bool WriteUpdate(const char *store_key, Datum id, Datum doc);

// Removes (key, id) and logs 'D'.
void WriteDelete(const char *store_key, Datum id);

// Empties key and logs 'U' with item NULL.
void WriteTruncate(const char *store_key);

// Registers the invalidation callback of the per-transaction store lookups; from _PG_init.
void InitStoreObjects();

// The OID of store.entries (looked up once per transaction).
Oid StoreEntries();

// The type of stored documents: json (jsonb while the SQL objects are still version 0.1.0's).
Oid StoredDocType();

// The role the store's tables belong to (the extension owner), looked up once per transaction.
// Needs no privilege.
Oid StoreOwner();

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

// Reads the latest registration of store_key (committed, or this transaction's; never an older
// one a REPEATABLE READ snapshot still sees): its source table and chosen column numbers
// (int2[]; *all_columns: NULL, meaning every column); false when the key is not registered.
bool ReadRegistration(const char *store_key, Oid *source, Datum *columns, bool *all_columns);

} // namespace store::pg
