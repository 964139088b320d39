// Writing store entries and history rows. Item writes (WriteCreate, WriteUpdate, WriteDelete)
// and history rows go directly to the tables, as the owner of the store tables, which ordinary
// users cannot write; WriteTruncate needs an open SPI connection.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Registers the transaction callbacks of the executor state one statement's item writes share;
// called from _PG_init.
void InitDirectWrites();

// Adds (key, id) with doc and logs 'C'.
void WriteCreate(const char *store_key, Datum id, Datum doc);

// Sets (key, id) to doc and logs 'U'; false (nothing written) when it already holds doc.
bool WriteUpdate(const char *store_key, Datum id, Datum doc);

// Removes (key, id) and logs 'D'.
void WriteDelete(const char *store_key, Datum id);

// Empties key and logs 'U' with item NULL.
void WriteTruncate(const char *store_key);

// A reload's pass over one key's entries (see BeginReload): what it found and wrote, and the
// entries it keeps, so that the rest can be removed at the end.
struct ReloadPass;

// Starts a reload of key's entries: every document of the key's table is then given to
// ReloadEntries, and EndReload removes the entries no document came for. No history row is
// written (the caller logs the whole key). For READ COMMITTED, under a lock that keeps the key's
// writers out: entries are looked up as they are now (waiting for a writer still at one).
ReloadPass *BeginReload(const char *store_key);

// Brings count entries (ids[i], docs[i]) level: an entry that already holds the document is left
// as it is (nothing written), one that holds another is updated, a missing one is inserted.
void ReloadEntries(ReloadPass *pass, const Datum *ids, const Datum *docs, int count);

// Deletes the key's entries that no document came for, frees the pass; the number of entries
// written (inserted, updated, deleted).
int64 EndReload(ReloadPass *pass);

// Appends one history row (state, this transaction's xid and origin) for key (NULL: the whole
// store) and item (NULL: the whole key): the one appender every path uses.
void AppendHistoryRow(const char *store_key, Datum item, bool item_is_null, const char *state);

} // namespace store::pg
