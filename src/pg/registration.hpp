// Reading a key's registration (store.keys) from C, through a plan kept per backend.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Reads the latest registration of store_key (committed, or this transaction's; never an older
// one a REPEATABLE READ snapshot still sees): its source table and chosen column numbers
// (int2[]; *all_columns: NULL, meaning every column); false when the key is not registered.
// Needs an open SPI connection.
bool ReadRegistration(const char *store_key, Oid *source, Datum *columns, bool *all_columns);

} // namespace store::pg
