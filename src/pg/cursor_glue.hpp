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
	uint64 own; // the current transaction's top-level xid, 0 when it has none
	int count;
	uint64 *running;
};

// The active snapshot (what the calling statement reads).
SnapshotXids ActiveSnapshotXids();

// A snapshot taken now (for a committing transaction's notification).
SnapshotXids LatestSnapshotXids();

// Writes the 8-hex-digit id of this store: a hash of the cluster, the database and the store's
// history table, so versions from another database, cluster or installation are recognised.
void StoreId(char (&id)[core::kStoreIdLength + 1]);

// The cursor of a snapshot (C++ only: no PostgreSQL call).
core::Cursor MakeCursor(const SnapshotXids &snapshot, const char *store_id);

} // namespace store::pg
