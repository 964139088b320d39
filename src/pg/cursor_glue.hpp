// Versions from PostgreSQL's point of view: the store's identity and the 64-bit transaction ids
// of a snapshot, gathered into plain data before the C++ core turns them into a cursor.
#pragma once

#include "pg/postgres_headers.hpp"
#include "core/cursor.hpp"

namespace store::pg {

// A snapshot's transaction ids, widened to 64 bits (xid8); palloc'd, no destructor.
struct SnapshotXids {
	uint64 xmin;
	uint64 xmax;
	uint64 own;      // the current transaction's top-level xid, 0 when it has none
	uint64 next_xid; // the next transaction id to be assigned
	int count;
	uint64 *running;
};

// The active snapshot (what the calling statement reads), for a version handed to a client: the
// WAL is flushed first, so that no transaction it counts as finished can be undone by a crash and
// no transaction id it names can be assigned again after one.
SnapshotXids ActiveSnapshotXids();

// A snapshot taken now (for a committing transaction's notification). Not flushed: a
// notification's version is a hint, never adopted by clients.
SnapshotXids LatestSnapshotXids();

// The identity of this store (its "origin"): a hash of the cluster's system identifier and
// timeline, the database and the store's history table. A restore into another database or
// cluster, a re-created extension, a promotion or a point-in-time recovery all give a new one,
// so versions and history rows from before are recognised as foreign.
uint32 StoreOrigin();

// The origin as the 8 hex digits that begin every version.
void StoreId(char (&id)[core::kStoreIdLength + 1]);

// The cursor of a snapshot (C++ only: no PostgreSQL call).
core::Cursor MakeCursor(const SnapshotXids &snapshot, const char *store_id, core::Own own_is = core::Own::kRunning);

// The cursor of a snapshot of this store (StoreId, then MakeCursor): the one home of "the current
// version". The caller picks the snapshot (ActiveSnapshotXids flushes the WAL, LatestSnapshotXids
// does not). It calls PostgreSQL before the cursor exists: call it where no C++ object is alive.
core::Cursor CurrentCursor(const SnapshotXids &snapshot, core::Own own_is = core::Own::kRunning);

} // namespace store::pg
