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

// The role the store's tables belong to (the extension owner). Needs no privilege.
Oid StoreOwner();

// Reads the registration of store_key: its source table and column list (*all_columns: NULL,
// meaning every column); false when the key is not registered.
bool ReadRegistration(const char *store_key, Oid *source, Datum *columns, bool *all_columns);

} // namespace store::pg
