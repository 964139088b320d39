// Transaction bookkeeping for notifications: at most one NOTIFY per committed transaction
// that changed the store, none for a rollback, savepoint rollbacks forgotten.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// store.notify: whether committing a store change NOTIFYs listeners (on by default).
extern bool notify_enabled;

// The channel listeners LISTEN on.
constexpr const char *kNotifyChannel = "store";

// Defines store.notify and registers the transaction callbacks; called from _PG_init.
void InitXactCallbacks();

// Records that the current subtransaction changed store_key (NULL: changed the store without
// a key of its own, e.g. a reload of an empty store). May throw bad_alloc.
void NoteChange(const char *store_key);

// True when the current transaction has changed the store (and not rolled that part back).
bool TransactionChangedStore();

} // namespace store::pg
