// Reading registrations and writing store entries and history rows from triggers, through SPI
// plans prepared once per backend.
// Writes run as the owner of the store tables, which ordinary users cannot write.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Upserts (key, id) with doc and logs state ('C' or 'U'); returns the new history version.
int64 WriteUpsert(const char *store_key, Datum id, Datum doc, const char *state);

// Removes (key, id) and logs 'D'; returns the new history version.
int64 WriteDelete(const char *store_key, Datum id);

// Empties key and logs 'U' with item_id NULL; returns the new history version.
int64 WriteTruncate(const char *store_key);

// Reads the registered column list of store_key into *columns (*all_columns: NULL, meaning all);
// false when the key is not registered. Needs an open SPI connection.
bool ReadKeyColumns(const char *store_key, Datum *columns, bool *all_columns);

} // namespace store::pg
