// Transaction bookkeeping for notifications: at most one NOTIFY per committed transaction
// that changed the store, none for a rollback, savepoint rollbacks forgotten.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// The channel listeners LISTEN on.
constexpr const char *kNotifyChannel = "store";

// Registers the transaction and subtransaction callbacks; called from _PG_init.
void InitXactCallbacks();

// Records that the current subtransaction changed store_key up to version (may throw bad_alloc).
void NoteChange(const char *store_key, int64 version);

} // namespace store::pg
