// The per-database notifier (see notifier.hpp). Shared memory holds one slot per database with a
// notifier: the worker's latch, whether commits are waiting to be announced, and how many writers
// are between PRE_COMMIT and COMMIT (the worker never leaves while one is).
#include "pg/notifier.hpp"
#include "pg/guard.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/xact.hpp"
#include "core/cursor.hpp"
#include "core/payload.hpp"

extern "C" {
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include <string>

namespace {

using namespace store;

constexpr int kSlots = 64;                // databases with a notifier at once
constexpr long kIdleMilliseconds = 30000; // a notifier leaves after this long without commits
constexpr long kBatchMicroseconds = 2000; // under load, one batch at most this often: commits
                                          // arriving meanwhile share the next notification

struct Slot {
	Oid database; // InvalidOid: free
	bool started; // a worker was launched for it and has not left
	pid_t pid;    // the worker, once attached
	Latch *latch; // its latch, once attached
	int writers;  // writers between PRE_COMMIT and COMMIT/ABORT
	bool pending; // commits not yet announced
};

struct Shared {
	slock_t mutex;
	Slot slots[kSlots];
};

Shared *shared = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;
ProcessUtility_hook_type previous_utility_hook = nullptr;

// The slot of database (InvalidOid: a free one), or NULL; the caller holds the mutex.
Slot *
FindSlot(Oid database)
{
	for (Slot &slot : shared->slots)
		if (slot.database == database)
			return &slot;
	return nullptr;
}

// Frees slot when nothing needs it any more; the caller holds the mutex.
void
FreeIfUnused(Slot *slot)
{
	if (slot->writers == 0 && !slot->pending && !slot->started)
		*slot = Slot{InvalidOid, false, 0, nullptr, 0, false};
}

// The slot's worker is gone (a writer launches another for what still waits); frees the slot if
// nothing waits. The caller holds the mutex.
void
ForgetWorker(Slot *slot)
{
	slot->started = false;
	slot->pid = 0;
	slot->latch = nullptr;
	FreeIfUnused(slot);
}

// Launches the notifier of database; false when no worker can be started now.
bool
LaunchNotifier(Oid database)
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

// Makes sure slot has a worker, launching one if needed; false when none can be launched now.
// The caller holds no mutex.
bool
EnsureLaunched(Slot *slot, Oid database)
{
	SpinLockAcquire(&shared->mutex);
	bool launch = slot->database == database && !slot->started;
	if (launch)
		slot->started = true;
	SpinLockRelease(&shared->mutex);
	if (!launch || LaunchNotifier(database))
		return true;
	SpinLockAcquire(&shared->mutex);
	if (slot->database == database)
		slot->started = false;
	SpinLockRelease(&shared->mutex);
	return false;
}

// Announces one batch: NOTIFY with a version that sees every commit that woke the notifier. Its
// keys are null (a client reads the changes to learn them): reading them from the history cost
// the notifier more CPU than the notify lock cost the writers (BENCHMARKS.md).
void
AnnounceBatch()
{
	pg::SnapshotXids now = pg::LatestSnapshotXids();
	char store_id[core::kStoreIdLength + 1];
	pg::StoreId(store_id);
	const std::string payload = core::NotifyPayloadWithoutKeys(core::FormatCursor(pg::MakeCursor(now, store_id)));
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

// Takes the pending flag of slot (clearing it); true when commits wait to be announced.
bool
TakePending(Slot *slot)
{
	SpinLockAcquire(&shared->mutex);
	bool pending = slot->pending;
	slot->pending = false;
	SpinLockRelease(&shared->mutex);
	return pending;
}

// True when commits already wait for the next batch (the notifier is under load).
bool
CommitsWaiting(Slot *slot)
{
	SpinLockAcquire(&shared->mutex);
	bool pending = slot->pending;
	SpinLockRelease(&shared->mutex);
	return pending;
}

// Leaves slot when idle: no commits waiting and no writer about to wake it.
bool
LeaveIfIdle(Slot *slot)
{
	SpinLockAcquire(&shared->mutex);
	bool idle = slot->writers == 0 && !slot->pending;
	if (idle)
		ForgetWorker(slot);
	SpinLockRelease(&shared->mutex);
	return idle;
}

// At any exit: the slot forgets this worker (a later writer launches another for what waits).
void
DetachNotifier(int, Datum database)
{
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(DatumGetObjectId(database));
	if (slot != nullptr && slot->pid == MyProcPid)
		ForgetWorker(slot);
	SpinLockRelease(&shared->mutex);
}

// Registers this worker in its database's slot; NULL when the slot is gone.
Slot *
AttachNotifier(Oid database)
{
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(database);
	if (slot != nullptr) {
		slot->pid = MyProcPid;
		slot->latch = MyLatch;
	}
	SpinLockRelease(&shared->mutex);
	return slot;
}

// Stops the notifier of the database named name, if any: DROP DATABASE and the like need it gone.
// A database being dropped has nothing left to announce: its slot is freed when the worker leaves.
void
StopNotifierOf(const char *name, bool dropping)
{
	Oid database = get_database_oid(name, true);
	if (!OidIsValid(database))
		return;
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(database);
	pid_t pid = slot != nullptr ? slot->pid : 0;
	if (slot != nullptr && dropping) {
		slot->pending = false;
		FreeIfUnused(slot);
	}
	SpinLockRelease(&shared->mutex);
	if (pid != 0)
		kill(pid, SIGTERM);
}

// The database a utility statement needs without other connections (NULL: none).
const char *
DatabaseNeedingNoConnections(Node *statement)
{
	if (IsA(statement, DropdbStmt))
		return castNode(DropdbStmt, statement)->dbname;
	if (IsA(statement, AlterDatabaseStmt))
		return castNode(AlterDatabaseStmt, statement)->dbname;
	if (IsA(statement, RenameStmt) && castNode(RenameStmt, statement)->renameType == OBJECT_DATABASE)
		return castNode(RenameStmt, statement)->subname;
	if (IsA(statement, CreatedbStmt)) {
		ListCell *cell;
		foreach (cell, castNode(CreatedbStmt, statement)->options) {
			DefElem *option = lfirst_node(DefElem, cell);
			if (strcmp(option->defname, "template") == 0)
				return defGetString(option);
		}
	}
	return nullptr;
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
			slot = Slot{InvalidOid, false, 0, nullptr, 0, false};
	}
	LWLockRelease(AddinShmemInitLock);
}

// ProcessUtility hook: a database about to be dropped, renamed, moved or copied loses its notifier.
void
StopNotifierForUtility(PlannedStmt *statement, const char *query, bool read_only_tree, ProcessUtilityContext context,
                       ParamListInfo params, QueryEnvironment *environment, DestReceiver *destination,
                       QueryCompletion *completion)
{
	const char *name = DatabaseNeedingNoConnections(statement->utilityStmt);
	if (name != nullptr)
		StopNotifierOf(name, IsA(statement->utilityStmt, DropdbStmt));
	ProcessUtility_hook_type next = previous_utility_hook != nullptr ? previous_utility_hook : standard_ProcessUtility;
	next(statement, query, read_only_tree, context, params, environment, destination, completion);
}

// The notifier's loop: announce when woken, leave after kIdleMilliseconds without commits.
void
ServeNotifications(Slot *slot)
{
	TimestampTz last_batch = GetCurrentTimestamp();
	for (;;) {
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (TakePending(slot)) {
			TimestampTz started = GetCurrentTimestamp();
			RunBatch();
			last_batch = GetCurrentTimestamp();
			long spent = (long)(last_batch - started);
			if (spent < kBatchMicroseconds && CommitsWaiting(slot))
				pg_usleep(kBatchMicroseconds - spent);
		} else if (TimestampDifferenceExceeds(last_batch, GetCurrentTimestamp(), kIdleMilliseconds) &&
		           LeaveIfIdle(slot)) {
			return;
		}
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L, PG_WAIT_EXTENSION);
	}
}

} // namespace

// The notifier's entry point (a dynamic background worker per database).
extern "C" PGDLLEXPORT void
store_notifier_main(Datum database_datum)
{
	Oid database = DatumGetObjectId(database_datum);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	// its transactions write nothing durable: a notification need not wait for the WAL flush
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	Slot *slot = AttachNotifier(database);
	if (slot == nullptr)
		proc_exit(0);
	before_shmem_exit(DetachNotifier, database_datum);
	ServeNotifications(slot);
	proc_exit(0);
}

namespace store::pg {

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

bool
ReserveNotifier()
{
	if (shared == nullptr || IsBackgroundWorker)
		return false;
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(MyDatabaseId);
	if (slot == nullptr && (slot = FindSlot(InvalidOid)) != nullptr)
		slot->database = MyDatabaseId;
	if (slot != nullptr)
		slot->writers++;
	SpinLockRelease(&shared->mutex);
	if (slot == nullptr)
		return false;
	if (EnsureLaunched(slot, MyDatabaseId))
		return true;
	ReleaseNotifier();
	return false;
}

void
WakeNotifier()
{
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(MyDatabaseId);
	Latch *latch = nullptr;
	bool launched = false;
	if (slot != nullptr) {
		slot->writers--;
		slot->pending = true;
		latch = slot->latch;
		launched = slot->started;
	}
	SpinLockRelease(&shared->mutex);
	if (latch != nullptr)
		SetLatch(latch);
	else if (slot != nullptr && !launched)
		(void)EnsureLaunched(slot, MyDatabaseId);
}

void
ReleaseNotifier()
{
	SpinLockAcquire(&shared->mutex);
	Slot *slot = FindSlot(MyDatabaseId);
	if (slot != nullptr) {
		slot->writers--;
		FreeIfUnused(slot);
	}
	SpinLockRelease(&shared->mutex);
}

} // namespace store::pg
