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

// Appends one history row (state, this transaction's xid and origin) for key (NULL: the whole
// store) and item (NULL: the whole key): the one appender every path uses.
void AppendHistoryRow(const char *store_key, Datum item, bool item_is_null, const char *state);

} // namespace store::pg
