// Notification off the commit path. With shared_preload_libraries = 'store', a committing writer
// does not NOTIFY itself (PostgreSQL serializes notifying commits: one lock held across the
// commit's WAL flush); it wakes its database's notifier, a background worker started on demand,
// which sends one NOTIFY for every batch of commits it is woken for, in its own transaction.
// Without preloading (no shared memory) writers notify in their own transaction, as before.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// From _PG_init: when preloaded, asks for shared memory and hooks DDL that needs a database
// without other connections (the notifier leaves it).
void InitNotifier();

// At PRE_COMMIT of a transaction that changed the store: true when this database's notifier
// will announce the commit (started if needed), false when the writer must notify itself.
bool ReserveNotifier();

// At COMMIT after ReserveNotifier: wakes the notifier. Never fails.
void WakeNotifier();

// At ABORT after ReserveNotifier: releases the reservation.
void ReleaseNotifier();

} // namespace store::pg
