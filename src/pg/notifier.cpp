// The per-database notifier (see notifier.hpp). Shared memory holds one slot per database with a
// notifier: the worker (attached before it connects, so it can always be found and stopped),
// whether it is ready to announce, the writers between PRE_COMMIT and COMMIT that rely on it, and
// how many commits were handed to it and how many of them it has announced. A commit is handed to
// the notifier only when the notifier is known to be serving; otherwise the writer notifies in its
// own transaction, and the commits a notifier left unannounced are picked up by its relaunch or by
// the next writer. Commands that need the database without connections stop the notifier only
// once the same checks PostgreSQL makes before looking for other connections have passed.
#include "pg/notifier.hpp"
#include "pg/guard.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/xact.hpp"
#include "core/cursor.hpp"
#include "core/payload.hpp"

extern "C" {
#include "catalog/pg_database.h"
#include "catalog/pg_tablespace_d.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include <climits>
#include <csignal>
#include <string>

namespace {

using namespace store;

constexpr int kSlots = 64;                   // databases with a notifier at once
constexpr long kAttachMilliseconds = 10000;  // a launched worker not attached by then is taken as lost
constexpr long kRetryMilliseconds = 1000;    // after a launch failed (no worker slot), none for this long
constexpr long kRestartMilliseconds = 5000;  // after a worker failed to connect, none for this long
constexpr long kStopWaitMilliseconds = 5000; // a command waits this long at most for a stopped notifier
constexpr long kDrainMilliseconds = 1000;    // a terminated notifier waits this long for writers in flight
constexpr int kBatchAttempts = 3;            // a batch failing this often in a row is given up (logged)

int idle_timeout_ms = 30000;    // store.notifier_idle_timeout
double batch_interval_ms = 2.0; // store.notifier_batch_interval

struct Slot {
	Oid database;            // InvalidOid: free
	TimestampTz launched_at; // a worker was launched then and has not attached yet (0: none)
	TimestampTz retry_at;    // no launch before this (a launch or a start failed)
	pid_t pid;               // the worker, attached before it connects (0: none)
	Latch *latch;            // its latch
	bool ready;              // connected and serving: commits may rely on it
	int stoppers;            // commands under way that need the database without the notifier
	bool dropping;           // one of them drops the database: the worker leaves at once
	int writers;             // writers between PRE_COMMIT and COMMIT/ABORT that rely on the worker
	uint64 requested;        // commits handed to the worker (counted at their COMMIT)
	uint64 announced;        // of those, how many the last committed announcement saw
};

struct Shared {
	slock_t mutex;
	Slot slots[kSlots];
};

Shared *shared = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;
ProcessUtility_hook_type previous_utility_hook = nullptr;

// In a writer: the count of handed-over commits its own notification covers (kWriterForPending).
uint64 covered_requests = 0;
// In a backend running a command that stopped a notifier: that database (cleared at exit).
Oid stopping_database = InvalidOid;

// In the worker: its slot once attached, whether it has served, and whether SIGTERM asked it to
// leave after announcing what waits.
Slot *volatile my_slot = nullptr;
volatile sig_atomic_t serving = false;
volatile sig_atomic_t terminate_requested = false;

// Commits handed over and not announced yet; the caller holds the mutex.
bool
Pending(const Slot *slot)
{
	return slot->requested != slot->announced;
}

// A launch that never attached within kAttachMilliseconds (the worker never started or died first).
bool
LaunchLost(const Slot *slot, TimestampTz now)
{
	return slot->launched_at != 0 && TimestampDifferenceExceeds(slot->launched_at, now, kAttachMilliseconds);
}

// Nothing uses slot: no worker, no writer, no command, no work. The caller holds the mutex.
bool
Unused(const Slot *slot, TimestampTz now)
{
	return slot->pid == 0 && (slot->launched_at == 0 || LaunchLost(slot, now)) && slot->writers == 0 &&
	       slot->stoppers == 0 && !Pending(slot);
}

// Frees slot when nothing uses it (kept while a failed launch backs off); the caller holds the mutex.
void
FreeIfUnused(Slot *slot, TimestampTz now)
{
	if (Unused(slot, now) && slot->retry_at <= now)
		*slot = Slot{};
}

// The slot of database (InvalidOid: a free one), or NULL; the caller holds the mutex.
Slot *
FindSlot(Oid database)
{
	for (Slot &slot : shared->slots)
		if (slot.database == database)
			return &slot;
	return nullptr;
}

// The slot of database, taking a free or unused one if it has none; NULL when all 64 are in use.
// The caller holds the mutex.
Slot *
TakeSlot(Oid database, TimestampTz now)
{
	Slot *slot = FindSlot(database);
	if (slot != nullptr)
		return slot;
	slot = FindSlot(InvalidOid);
	for (int i = 0; slot == nullptr && i < kSlots; i++)
		if (Unused(&shared->slots[i], now))
			slot = &shared->slots[i];
	if (slot != nullptr) {
		*slot = Slot{};
		slot->database = database;
	}
	return slot;
}

// Frees the slots of databases that no longer exist and have no worker; needs a transaction.
void
ReclaimDroppedDatabases()
{
	Oid candidates[kSlots];
	int count = 0;
	SpinLockAcquire(&shared->mutex);
	for (const Slot &slot : shared->slots)
		if (OidIsValid(slot.database) && slot.pid == 0 && slot.writers == 0 && slot.stoppers == 0)
			candidates[count++] = slot.database;
	SpinLockRelease(&shared->mutex);
	for (int i = 0; i < count; i++) {
		if (SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(candidates[i])))
			continue;
		SpinLockAcquire(&shared->mutex);
		Slot *slot = FindSlot(candidates[i]);
		if (slot != nullptr && slot->pid == 0 && slot->writers == 0 && slot->stoppers == 0)
			*slot = Slot{};
		SpinLockRelease(&shared->mutex);
	}
}

// Registers the notifier of database with the postmaster; false when no worker slot is free.
bool
RegisterNotifier(Oid database)
{
	BackgroundWorker worker;
	memset(&worker, 0, sizeof worker);
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "store", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "store_notifier_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "store notifier for database %u", database);
	strlcpy(worker.bgw_type, "store notifier", BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(database);
	return RegisterDynamicBackgroundWorker(&worker, nullptr);
}

// Whether slot needs a launch now: no worker attached or on its way, no command stopping it, not
// backing off, and (only_for_work) commits or writers waiting. The caller holds the mutex.
bool
LaunchDue(const Slot *slot, TimestampTz now, bool only_for_work)
{
	return slot->pid == 0 && (slot->launched_at == 0 || LaunchLost(slot, now)) && slot->stoppers == 0 &&
	       slot->retry_at <= now && (!only_for_work || Pending(slot) || slot->writers > 0);
}

// Launches the notifier of database if one is due (see LaunchDue). The caller holds no mutex.
void
LaunchIfDue(Oid database, bool only_for_work)
{
	TimestampTz now = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(database);
	bool due = slot != nullptr && LaunchDue(slot, now, only_for_work);
	if (due)
		slot->launched_at = now;
	SpinLockRelease(&shared->mutex);
	if (!due || RegisterNotifier(database))
		return;
	SpinLockAcquire(&shared->mutex);
	if (slot->database == database && slot->launched_at == now) {
		slot->launched_at = 0;
		slot->retry_at = TimestampTzPlusMilliseconds(now, kRetryMilliseconds);
	}
	SpinLockRelease(&shared->mutex);
}

// Announces one batch: NOTIFY with a version that sees every commit that woke the notifier. Its
// keys are null (a client reads the changes to learn them): reading them from the history cost
// the notifier more CPU than the notify lock cost the writers (BENCHMARKS.md).
void
AnnounceBatch()
{
	pg::SnapshotXids now = pg::LatestSnapshotXids();
	const std::string payload = core::NotifyPayloadWithoutKeys(core::FormatCursor(pg::CurrentCursor(now)));
	pg::PgCall([&] { Async_Notify(pg::kNotifyChannel, payload.c_str()); });
}

// One batch in its own transaction.
void
RunBatch()
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "announcing store changes");
	pg::CallGuarded("store notifier", [] { AnnounceBatch(); });
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, nullptr);
}

// One batch; false when it failed (the error is logged and its transaction rolled back).
bool
TryBatch()
{
	MemoryContext context = CurrentMemoryContext;
	volatile bool ok = true;
	PG_TRY();
	{
		RunBatch();
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortCurrentTransaction();
		FlushErrorState();
		MemoryContextSwitchTo(context);
		pgstat_report_activity(STATE_IDLE, nullptr);
		RESUME_INTERRUPTS();
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

// Whether commits wait to be announced; *target: the count an announcement begun now covers.
bool
WorkWaiting(Slot *slot, uint64 *target)
{
	SpinLockAcquire(&shared->mutex);
	*target = slot->requested;
	bool waiting = Pending(slot);
	SpinLockRelease(&shared->mutex);
	return waiting;
}

// The commits counted up to target are announced (by this worker or by a writer).
void
MarkAnnounced(Slot *slot, uint64 target)
{
	SpinLockAcquire(&shared->mutex);
	if (target > slot->announced)
		slot->announced = target;
	SpinLockRelease(&shared->mutex);
}

// The worker takes no new commits (it is about to leave): writers notify themselves.
void
StopServing(Slot *slot)
{
	SpinLockAcquire(&shared->mutex);
	slot->ready = false;
	SpinLockRelease(&shared->mutex);
}

// Leaves slot when idle (no commit waiting, no writer about to wake it) or when forced (the exit
// callback relaunches for what still waits); true when the worker should exit.
bool
LeaveIfIdle(Slot *slot, bool force)
{
	TimestampTz now = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	bool idle = slot->writers == 0 && !Pending(slot);
	if (idle) {
		slot->pid = 0;
		slot->latch = nullptr;
		slot->ready = false;
		FreeIfUnused(slot, now);
		my_slot = nullptr;
	} else if (force) {
		slot->ready = false;
	}
	SpinLockRelease(&shared->mutex);
	return idle || force;
}

// At any exit of the worker: the slot forgets it. A worker that never served backs off the next
// launch (its database may refuse connections); one that leaves work behind is relaunched (when a
// worker slot is free; otherwise the next writer announces it).
void
DetachNotifier(int, Datum database_datum)
{
	Oid database = DatumGetObjectId(database_datum);
	TimestampTz now = GetCurrentTimestamp();
	bool relaunch = false;
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(database);
	if (slot != nullptr && slot->pid == MyProcPid) {
		slot->pid = 0;
		slot->latch = nullptr;
		slot->ready = false;
		if (!serving && slot->stoppers == 0) // it could not connect (not stopped by a command)
			slot->retry_at = TimestampTzPlusMilliseconds(now, kRestartMilliseconds);
		relaunch = LaunchDue(slot, now, true);
		FreeIfUnused(slot, now);
	}
	my_slot = nullptr;
	SpinLockRelease(&shared->mutex);
	if (relaunch)
		LaunchIfDue(database, true);
}

// Registers this worker in its database's slot before it connects; false when the slot is gone,
// has another worker, or a command is stopping the notifier (then its launch is over: the command
// relaunches when it ends, if commits wait).
bool
AttachNotifier(Oid database)
{
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(database);
	bool attach = slot != nullptr && slot->pid == 0 && slot->stoppers == 0;
	if (slot != nullptr && slot->pid == 0)
		slot->launched_at = 0;
	if (attach) {
		slot->pid = MyProcPid;
		slot->latch = MyLatch;
		my_slot = slot;
	}
	SpinLockRelease(&shared->mutex);
	return attach;
}

// Connected: commits may now rely on this worker; false when a command stops it meanwhile.
bool
StartServing()
{
	SpinLockAcquire(&shared->mutex);
	Slot *slot = my_slot;
	bool ready = slot != nullptr && slot->pid == MyProcPid && slot->stoppers == 0;
	if (ready)
		slot->ready = true;
	SpinLockRelease(&shared->mutex);
	serving = ready;
	return ready;
}

// SIGTERM. A worker not yet serving, or whose database is being dropped, exits at once (die). A
// serving one first announces what waits: a commit handed to it is never lost to a termination.
void
HandleSigterm(SIGNAL_ARGS)
{
	Slot *slot = my_slot;
	if (!serving || (slot != nullptr && slot->dropping)) {
		die(postgres_signal_arg);
		return;
	}
	int save_errno = errno;
	terminate_requested = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

// How long to sleep before the next look, in milliseconds: until the idle timeout, at most a
// second (past the timeout, writers in flight keep the worker: their commit sets its latch).
long
NextWait(TimestampTz last_batch, TimestampTz now)
{
	long left = (long)((TimestampTzPlusMilliseconds(last_batch, idle_timeout_ms) - now) / 1000);
	return left < 1 || left > 1000 ? 1000 : left;
}

// After a batch under load: sleeps out the rest of store.notifier_batch_interval so that the
// commits arriving meanwhile share the next notification.
void
PaceBatches(Slot *slot, TimestampTz started, TimestampTz finished)
{
	long interval = (long)(batch_interval_ms * 1000.0);
	long spent = (long)(finished - started);
	uint64 target;
	if (!terminate_requested && spent < interval && WorkWaiting(slot, &target))
		pg_usleep(interval - spent);
}

// Announces the waiting commits once; a batch failing kBatchAttempts times in a row is given up.
void
AnnounceWaiting(Slot *slot, uint64 target, int *failures)
{
	if (TryBatch()) {
		MarkAnnounced(slot, target);
		*failures = 0;
		return;
	}
	if (++*failures < kBatchAttempts) {
		(void)WaitLatch(nullptr, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kRetryMilliseconds, PG_WAIT_EXTENSION);
		return;
	}
	ereport(WARNING, (errmsg("store notifier gave up announcing commits in database %u after %d failed attempts",
	                         MyDatabaseId, kBatchAttempts),
	                  errhint("Listeners learn of these changes with the next notification or by reading "
	                          "store_history().")));
	MarkAnnounced(slot, target);
	*failures = 0;
}

// The notifier's loop: announce when woken, leave after store.notifier_idle_timeout without
// commits, or after announcing what waits once terminated.
void
ServeNotifications(Slot *slot)
{
	TimestampTz last_batch = GetCurrentTimestamp();
	TimestampTz leave_by = 0;
	int failures = 0;
	for (;;) {
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending) {
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		TimestampTz now = GetCurrentTimestamp();
		if (terminate_requested && leave_by == 0) {
			StopServing(slot);
			leave_by = TimestampTzPlusMilliseconds(now, kDrainMilliseconds);
		}
		uint64 target;
		if (WorkWaiting(slot, &target)) {
			AnnounceWaiting(slot, target, &failures);
			TimestampTz finished = GetCurrentTimestamp();
			PaceBatches(slot, now, finished);
			last_batch = finished;
			continue;
		}
		if (leave_by != 0 ? LeaveIfIdle(slot, now >= leave_by)
		                  : TimestampDifferenceExceeds(last_batch, now, idle_timeout_ms) && LeaveIfIdle(slot, false))
			return;
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                leave_by != 0 ? 10 : NextWait(last_batch, now), PG_WAIT_EXTENSION);
	}
}

// True when the role running the statement owns database.
bool
OwnsDatabase(Oid database)
{
	return pg_database_ownercheck(database, GetUserId());
}

// DROP DATABASE: what dropdb checks before it looks for other connections.
Oid
DropChecked(const DropdbStmt *statement)
{
	Oid database = get_database_oid(statement->dbname, true);
	if (!OidIsValid(database) || database == MyDatabaseId || !OwnsDatabase(database))
		return InvalidOid;
	HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	bool is_template = ((Form_pg_database)GETSTRUCT(tuple))->datistemplate;
	ReleaseSysCache(tuple);
	return is_template ? InvalidOid : database;
}

// ALTER DATABASE ... RENAME TO: what RenameDatabase checks before it looks for other connections.
Oid
RenameChecked(const RenameStmt *statement)
{
	Oid database = get_database_oid(statement->subname, true);
	if (!OidIsValid(database) || database == MyDatabaseId || !OwnsDatabase(database) || !have_createdb_privilege() ||
	    OidIsValid(get_database_oid(statement->newname, true)))
		return InvalidOid;
	return database;
}

// The value of option name among options (a DefElem list), NULL when absent or DEFAULT.
const char *
OptionValue(List *options, const char *name)
{
	ListCell *cell;
	foreach (cell, options) {
		DefElem *option = lfirst_node(DefElem, cell);
		if (strcmp(option->defname, name) == 0 && option->arg != nullptr)
			return defGetString(option);
	}
	return nullptr;
}

// ALTER DATABASE ... SET TABLESPACE: what movedb checks before it looks for other connections
// (no other ALTER DATABASE option needs the database without connections).
Oid
MoveChecked(const AlterDatabaseStmt *statement)
{
	const char *tablespace_name = OptionValue(statement->options, "tablespace");
	if (tablespace_name == nullptr)
		return InvalidOid;
	Oid database = get_database_oid(statement->dbname, true);
	Oid tablespace = get_tablespace_oid(tablespace_name, true);
	if (!OidIsValid(database) || database == MyDatabaseId || !OwnsDatabase(database) || !OidIsValid(tablespace) ||
	    tablespace == GLOBALTABLESPACE_OID ||
	    pg_tablespace_aclcheck(tablespace, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
		return InvalidOid;
	HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid current = ((Form_pg_database)GETSTRUCT(tuple))->dattablespace;
	ReleaseSysCache(tuple);
	return current == tablespace ? InvalidOid : database;
}

// CREATE DATABASE: its template (template1 by default), when createdb's checks before it looks
// for other connections to the template pass.
Oid
CopyChecked(const CreatedbStmt *statement)
{
	if (!have_createdb_privilege() || OidIsValid(get_database_oid(statement->dbname, true)))
		return InvalidOid;
	const char *owner_name = OptionValue(statement->options, "owner");
	if (owner_name != nullptr) {
		Oid owner = get_role_oid(owner_name, true);
		if (!OidIsValid(owner) || !is_member_of_role(GetUserId(), owner))
			return InvalidOid;
	}
	const char *template_name = OptionValue(statement->options, "template");
	Oid database = get_database_oid(template_name != nullptr ? template_name : "template1", true);
	if (!OidIsValid(database))
		return InvalidOid;
	HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	bool is_template = ((Form_pg_database)GETSTRUCT(tuple))->datistemplate;
	ReleaseSysCache(tuple);
	return is_template || OwnsDatabase(database) ? database : InvalidOid;
}

// The database a utility statement will need without other connections (dropped, renamed, moved
// or copied), once PostgreSQL's own checks before that pass; InvalidOid for any other statement or
// one PostgreSQL will refuse. *dropping: the statement drops it.
Oid
DatabaseToStop(Node *statement, bool *dropping)
{
	*dropping = false;
	switch (nodeTag(statement)) {
	case T_DropdbStmt:
		*dropping = true;
		return DropChecked(castNode(DropdbStmt, statement));
	case T_RenameStmt:
		if (castNode(RenameStmt, statement)->renameType != OBJECT_DATABASE)
			return InvalidOid;
		return RenameChecked(castNode(RenameStmt, statement));
	case T_AlterDatabaseStmt:
		return MoveChecked(castNode(AlterDatabaseStmt, statement));
	case T_CreatedbStmt:
		return CopyChecked(castNode(CreatedbStmt, statement));
	default:
		return InvalidOid;
	}
}

// Ends this backend's stop of database's notifier. A dropped database's slot is freed (it has
// nothing left to announce); otherwise a relaunch picks up commits that still wait.
void
EndStop(Oid database, bool dropped)
{
	stopping_database = InvalidOid;
	bool relaunch = false;
	TimestampTz now = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(database);
	if (slot != nullptr && dropped) {
		*slot = Slot{};
	} else if (slot != nullptr) {
		if (--slot->stoppers == 0)
			slot->dropping = false;
		relaunch = LaunchDue(slot, now, true);
		FreeIfUnused(slot, now);
	}
	SpinLockRelease(&shared->mutex);
	if (relaunch)
		LaunchIfDue(database, true);
}

// At the exit of a backend that stopped a notifier (a FATAL error during the command).
void
EndStopAtExit(int, Datum)
{
	if (OidIsValid(stopping_database))
		EndStop(stopping_database, false);
}

// Starts this backend's stop of database's notifier: no worker attaches or is launched until
// EndStop, writers stop relying on it, and the attached one (if any) is sent SIGTERM; *pid: that
// one (0: none). False when no slot was free (no notifier of database runs then): no EndStop.
bool
BeginStop(Oid database, bool dropping, pid_t *pid)
{
	static bool exit_callback_registered = false;
	if (!exit_callback_registered) {
		before_shmem_exit(EndStopAtExit, 0);
		exit_callback_registered = true;
	}
	TimestampTz now = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	Slot *slot = TakeSlot(database, now);
	*pid = 0;
	if (slot != nullptr) {
		slot->stoppers++;
		slot->dropping = slot->dropping || dropping;
		slot->ready = false;
		*pid = slot->pid;
	}
	SpinLockRelease(&shared->mutex);
	if (slot == nullptr)
		return false;
	stopping_database = database;
	if (*pid != 0)
		kill(*pid, SIGTERM);
	return true;
}

// Waits (kStopWaitMilliseconds at most) until the stopped worker pid has left the slot and the
// server, so that the command finds no connection of it.
void
WaitForNotifierToLeave(Oid database, pid_t pid)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kStopWaitMilliseconds);
	while (pid != 0 && GetCurrentTimestamp() < deadline) {
		SpinLockAcquire(&shared->mutex);
		Slot *slot = FindSlot(database);
		bool attached = slot != nullptr && slot->pid == pid;
		SpinLockRelease(&shared->mutex);
		if (!attached && BackendPidGetProc(pid) == nullptr)
			return;
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

void
RequestSharedMemory()
{
	if (previous_request_hook != nullptr)
		previous_request_hook();
	RequestAddinShmemSpace(sizeof(Shared));
}

void
StartSharedMemory()
{
	if (previous_startup_hook != nullptr)
		previous_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bool found;
	shared = static_cast<Shared *>(ShmemInitStruct("store notifier", sizeof(Shared), &found));
	if (!found) {
		SpinLockInit(&shared->mutex);
		for (Slot &slot : shared->slots)
			slot = Slot{};
	}
	LWLockRelease(AddinShmemInitLock);
}

// ProcessUtility hook: a database about to be dropped, renamed, moved or copied loses its notifier
// for the command's duration, once the command's permission checks pass.
void
StopNotifierForUtility(PlannedStmt *statement, const char *query, bool read_only_tree, ProcessUtilityContext context,
                       ParamListInfo params, QueryEnvironment *environment, DestReceiver *destination,
                       QueryCompletion *completion)
{
	ProcessUtility_hook_type next = previous_utility_hook != nullptr ? previous_utility_hook : standard_ProcessUtility;
	bool dropping = false;
	Oid database = shared != nullptr ? DatabaseToStop(statement->utilityStmt, &dropping) : InvalidOid;
	if (!OidIsValid(database)) {
		next(statement, query, read_only_tree, context, params, environment, destination, completion);
		return;
	}
	pid_t worker;
	if (!BeginStop(database, dropping, &worker)) {
		next(statement, query, read_only_tree, context, params, environment, destination, completion);
		return;
	}
	// volatile: read after the longjmp of an error
	volatile Oid stopped = database;
	volatile bool drops = dropping;
	volatile pid_t pid = worker;
	PG_TRY();
	{
		WaitForNotifierToLeave(stopped, pid);
		next(statement, query, read_only_tree, context, params, environment, destination, completion);
	}
	PG_CATCH();
	{
		EndStop(stopped, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	EndStop(stopped, drops);
}

} // namespace

// The notifier's entry point (a dynamic background worker per database). It attaches to its slot
// before connecting, so a failed connection frees the slot and a command can always stop it.
extern "C" PGDLLEXPORT void
store_notifier_main(Datum database_datum)
{
	Oid database = DatumGetObjectId(database_datum);
	pqsignal(SIGTERM, HandleSigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	before_shmem_exit(DetachNotifier, database_datum);
	if (!AttachNotifier(database))
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	// its transactions write nothing durable: a notification need not wait for the WAL flush
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	if (!StartServing())
		proc_exit(0);
	ServeNotifications(my_slot);
	proc_exit(0);
}

namespace store::pg {

void
DefineNotifierSettings()
{
	DefineCustomIntVariable("store.notifier_idle_timeout",
	                        "How long a store notifier waits without commits before it leaves.",
	                        "Only with shared_preload_libraries = 'store'. The next commit starts it again.",
	                        &idle_timeout_ms, 30000, 100, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
	DefineCustomRealVariable("store.notifier_batch_interval",
	                         "Under load, the shortest time between two notifications of a store notifier.",
	                         "Only with shared_preload_libraries = 'store'. Commits arriving meanwhile share the "
	                         "next notification.",
	                         &batch_interval_ms, 2.0, 0.0, 1000.0, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

void
InitNotifier()
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	previous_request_hook = shmem_request_hook;
	shmem_request_hook = RequestSharedMemory;
	previous_startup_hook = shmem_startup_hook;
	shmem_startup_hook = StartSharedMemory;
	previous_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = StopNotifierForUtility;
}

Announcer
ReserveNotifier()
{
	if (shared == nullptr || IsBackgroundWorker)
		return Announcer::kWriter;
	TimestampTz now = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	Slot *slot = TakeSlot(MyDatabaseId, now);
	bool reserved = slot != nullptr && slot->ready && slot->stoppers == 0;
	bool pending = slot != nullptr && Pending(slot);
	if (reserved)
		slot->writers++;
	else if (pending)
		covered_requests = slot->requested;
	SpinLockRelease(&shared->mutex);
	if (reserved)
		return Announcer::kNotifier;
	if (slot == nullptr)
		ReclaimDroppedDatabases(); // the next commit may find a slot
	else
		LaunchIfDue(MyDatabaseId, false);
	return pending ? Announcer::kWriterForPending : Announcer::kWriter;
}

void
WakeNotifier()
{
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(MyDatabaseId);
	Latch *latch = nullptr;
	if (slot != nullptr) {
		slot->writers--;
		slot->requested++;
		latch = slot->latch;
	}
	SpinLockRelease(&shared->mutex);
	if (latch != nullptr)
		SetLatch(latch);
	else if (slot != nullptr)
		LaunchIfDue(MyDatabaseId, true); // the worker died since PRE_COMMIT
}

void
ReleaseNotifier()
{
	TimestampTz now = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(MyDatabaseId);
	if (slot != nullptr) {
		slot->writers--;
		FreeIfUnused(slot, now);
	}
	SpinLockRelease(&shared->mutex);
}

void
SettlePending()
{
	TimestampTz now = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(MyDatabaseId);
	if (slot != nullptr && covered_requests > slot->announced && covered_requests <= slot->requested) {
		slot->announced = covered_requests;
		FreeIfUnused(slot, now);
	}
	SpinLockRelease(&shared->mutex);
}

} // namespace store::pg
