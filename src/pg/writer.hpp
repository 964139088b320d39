// Writing store entries and history rows through SPI plans prepared once per backend.
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

} // namespace store::pg
