// Versions from PostgreSQL's point of view: store identity and snapshot transaction ids.
#include "pg/cursor_glue.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "common/hashfn.h"
#include "utils/snapmgr.h"
}

namespace store::pg {

namespace {

// Widens a 32-bit xid of a live snapshot to 64 bits, relative to the next transaction id.
uint64
Widen(FullTransactionId next, TransactionId xid)
{
	int32 distance = (int32)(XidFromFullTransactionId(next) - xid);
	return U64FromFullTransactionId(next) - distance;
}

// Gathers a snapshot's xids, widened, into palloc'd plain data.
SnapshotXids
XidsOf(Snapshot snapshot)
{
	FullTransactionId next = ReadNextFullTransactionId();
	SnapshotXids xids;
	xids.xmin = Widen(next, snapshot->xmin);
	xids.xmax = Widen(next, snapshot->xmax);
	FullTransactionId own = GetTopFullTransactionIdIfAny();
	xids.own = FullTransactionIdIsValid(own) ? U64FromFullTransactionId(own) : 0;
	xids.next_xid = U64FromFullTransactionId(next);
	// A hot standby's snapshot keeps every running xid (top-level or not) in subxip; a superset of
	// the running top-level xids is still exact for history rows, which carry top-level xids.
	TransactionId *running = snapshot->takenDuringRecovery ? snapshot->subxip : snapshot->xip;
	xids.count = snapshot->takenDuringRecovery ? (int)snapshot->subxcnt : (int)snapshot->xcnt;
	xids.running = static_cast<uint64 *>(palloc(sizeof(uint64) * Max(xids.count, 1)));
	for (int i = 0; i < xids.count; i++)
		xids.running[i] = Widen(next, running[i]);
	return xids;
}

// Makes the end of every transaction the active snapshot counts as finished durable, before a
// version built from it is handed out. Aborts and asynchronous commits leave their WAL record in
// the WAL buffers; were it lost in a crash, recovery would set the next transaction id back below
// the version's xmax and reuse ids the version counts as finished (their new changes would never be
// delivered), and an asynchronous commit the client already has would be undone. Every such
// record was inserted before the snapshot saw its transaction end, so flushing up to the current
// end of WAL covers them; recovery then advances the next id past them (xact_redo_abort/commit).
// Free when the WAL is already flushed (synchronous commits, no writes since); a standby writes
// no WAL and cannot flush.
void
FlushFinishedTransactions()
{
	if (RecoveryInProgress())
		return;
	XLogRecPtr end = GetXLogInsertEndRecPtr();
	if (XLogNeedsFlush(end))
		XLogFlush(end);
}

} // namespace

SnapshotXids
ActiveSnapshotXids()
{
	if (!ActiveSnapshotSet())
		elog(ERROR, "store: no active snapshot");
	SnapshotXids xids = XidsOf(GetActiveSnapshot());
	FlushFinishedTransactions();
	return xids;
}

// (Not flushed: notifications carry this version as a hint that clients never adopt.)
SnapshotXids
LatestSnapshotXids()
{
	return XidsOf(GetLatestSnapshot());
}

// The timeline this server is on: the one it writes, or on a standby the one it replays.
TimeLineID
CurrentTimeline()
{
	if (!RecoveryInProgress())
		return GetWALInsertionTimeLine();
	TimeLineID replayed = 0;
	GetXLogReplayRecPtr(&replayed);
	return replayed;
}

uint32
StoreOrigin()
{
	struct {
		uint64 system;
		TimeLineID timeline;
		Oid database;
		Oid history;
	} identity;
	memset(&identity, 0, sizeof identity);
	identity.system = GetSystemIdentifier();
	identity.timeline = CurrentTimeline();
	identity.database = MyDatabaseId;
	identity.history = get_relname_relid(sql::kHistoryTable, get_namespace_oid(sql::kSchema, false));
	return hash_bytes(reinterpret_cast<const unsigned char *>(&identity), sizeof identity);
}

void
StoreId(char (&id)[core::kStoreIdLength + 1])
{
	snprintf(id, sizeof id, "%08x", StoreOrigin());
}

core::Cursor
MakeCursor(const SnapshotXids &snapshot, const char *store_id, core::Own own_is)
{
	std::vector<std::uint64_t> running(snapshot.running, snapshot.running + snapshot.count);
	return core::CursorOfSnapshot(store_id, snapshot.xmin, snapshot.xmax, std::move(running), snapshot.own, own_is);
}

// (The store id is read before any C++ object is alive in this frame.)
core::Cursor
CurrentCursor(const SnapshotXids &snapshot, core::Own own_is)
{
	char store_id[core::kStoreIdLength + 1];
	StoreId(store_id);
	return MakeCursor(snapshot, store_id, own_is);
}

} // namespace store::pg
