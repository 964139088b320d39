// Notification off the commit path. With shared_preload_libraries = 'store', a committing writer
// does not NOTIFY itself (PostgreSQL serializes notifying commits: one lock held across the
// commit's WAL flush); it wakes its database's notifier, a background worker started on demand,
// which sends one NOTIFY for every batch of commits it is woken for, in its own transaction.
// A commit relies on the notifier only when it is known to be serving; otherwise (starting, not
// startable, stopped for DROP DATABASE and the like) the writer notifies itself, as it always does
// without preloading (no shared memory).
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Who announces a commit, as decided at PRE_COMMIT.
enum class Announcer {
	kWriter,           // the writer, in its own transaction, with its keys
	kWriterForPending, // the writer, with keys null: it also covers commits a notifier left behind
	kNotifier,         // the database's notifier (reserved: WakeNotifier or ReleaseNotifier follows)
};

// Defines store.notifier_idle_timeout and store.notifier_batch_interval (always, so that they can
// be set and shown whether or not the library is preloaded); before the "store" prefix is reserved.
void DefineNotifierSettings();

// From _PG_init: when preloaded, asks for shared memory and hooks DDL that needs a database
// without other connections (the notifier leaves it).
void InitNotifier();

// At PRE_COMMIT of a transaction that changed the store: who announces it. Launches the
// database's notifier when it is not serving (the writer announces this commit meanwhile).
Announcer ReserveNotifier();

// At COMMIT after kNotifier: wakes the notifier. Never fails.
void WakeNotifier();

// At ABORT after kNotifier: releases the reservation.
void ReleaseNotifier();

// At COMMIT after kWriterForPending: the commits the writer's notification covered count as
// announced. Never fails.
void SettlePending();

} // namespace store::pg
