// Xact/SubXact callbacks and the single place that publishes a change notification.
#include "pg/xact.hpp"
#include "pg/cursor_glue.hpp"
#include "pg/guard.hpp"
#include "pg/nested.hpp"
#include "pg/notifier.hpp"
#include "core/changes.hpp"
#include "core/payload.hpp"

#include <string>

namespace {

using store::pg::CallGuarded;

// The current transaction's changes; created once in _PG_init, never destroyed (no static
// destructor runs at exit), so no callback below allocates it.
store::core::TransactionChanges *changes = nullptr;

// Tells listeners that a new version exists: one that sees this transaction's commit. With
// keys_unknown its keys are null: it also covers commits of other transactions (left behind by a
// notifier), whose keys it does not know.
void
PublishChanges(bool keys_unknown)
{
	store::pg::SnapshotXids now = store::pg::LatestSnapshotXids();
	const std::string version = store::core::FormatCursor(store::pg::CurrentCursor(now, store::core::Own::kFinished));
	const std::string payload = keys_unknown ? store::core::NotifyPayloadWithoutKeys(version)
	                                         : store::core::NotifyPayload(version, changes->Keys());
	store::pg::PgCall([&] { Async_Notify(store::pg::kNotifyChannel, payload.c_str()); });
}

// Refuses PREPARE TRANSACTION for store writes: a prepared transaction cannot NOTIFY.
void
RefusePrepare()
{
	ereport(ERROR,
	        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("cannot PREPARE a transaction that changed the store"),
	         errdetail("Store changes notify listeners at commit, which prepared transactions cannot do.")));
}

using store::pg::Announcer;

// Between PRE_COMMIT and COMMIT/ABORT: who announces this commit (kWriter: nothing to settle).
Announcer announcer = Announcer::kWriter;

// Publishes at PRE_COMMIT (or leaves it to the notifier), forgets on abort.
void
PublishAtPreCommit()
{
	if (store::pg::notify_enabled) {
		announcer = store::pg::ReserveNotifier();
		if (announcer != Announcer::kNotifier)
			CallGuarded("store commit", [] { PublishChanges(announcer == Announcer::kWriterForPending); });
	}
	changes->Clear();
}

// After the commit or the abort of a transaction whose announcement involves the notifier's slot.
void
SettleNotifier(XactEvent event)
{
	Announcer settled = announcer;
	announcer = Announcer::kWriter;
	if (settled == Announcer::kNotifier && event == XACT_EVENT_COMMIT)
		store::pg::WakeNotifier();
	else if (settled == Announcer::kNotifier)
		store::pg::ReleaseNotifier();
	else if (event == XACT_EVENT_COMMIT)
		store::pg::SettlePending();
}

} // namespace

// Top-level transaction events.
extern "C" void
store_on_xact_event(XactEvent event, void *)
{
	if (announcer != Announcer::kWriter && (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT))
		SettleNotifier(event);
	if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PARALLEL_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE)
		store::pg::NestedClear(); // nested keys' pending changes end with the transaction
	if (changes->Empty())
		return;
	switch (event) {
	case XACT_EVENT_PRE_COMMIT:
	case XACT_EVENT_PARALLEL_PRE_COMMIT:
		PublishAtPreCommit();
		break;
	case XACT_EVENT_PRE_PREPARE:
		RefusePrepare();
		break;
	case XACT_EVENT_ABORT:
	case XACT_EVENT_PARALLEL_ABORT:
	case XACT_EVENT_PREPARE:
	case XACT_EVENT_COMMIT:
	case XACT_EVENT_PARALLEL_COMMIT:
		changes->Clear();
		break;
	}
}

// Subtransaction events: merge into the parent before commit, drop on rollback.
extern "C" void
store_on_subxact_event(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *)
{
	if (event == SUBXACT_EVENT_PRE_COMMIT_SUB)
		CallGuarded("store subtransaction commit", [&] { store::pg::NestedSubCommit(sub, parent); });
	else if (event == SUBXACT_EVENT_ABORT_SUB)
		store::pg::NestedSubAbort(sub); // never raises: an error here would abort the abort
	if (changes->Empty())
		return;
	if (event == SUBXACT_EVENT_PRE_COMMIT_SUB)
		CallGuarded("store subtransaction commit", [&] { changes->CommitSub(sub, parent); });
	else if (event == SUBXACT_EVENT_ABORT_SUB)
		changes->AbortSub(sub);
}

namespace store::pg {

bool notify_enabled = true;

void
InitXactCallbacks()
{
	DefineCustomBoolVariable("store.notify", "Notify listeners on channel \"store\" when a store change commits.",
	                         "Off: clients learn of changes by polling store_history(); notifying commits are "
	                         "serialized by PostgreSQL, so writers without it commit faster.",
	                         &notify_enabled, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineNotifierSettings();
	MarkGUCPrefixReserved("store");
	CallGuarded("store initialisation", [] { changes = new core::TransactionChanges(); });
	RegisterXactCallback(store_on_xact_event, nullptr);
	RegisterSubXactCallback(store_on_subxact_event, nullptr);
}

bool
TransactionChangedStore()
{
	return !changes->Empty() || NestedPending(); // (nested keys' changes are written at commit)
}

void
NoteChange(const char *store_key)
{
	SubTransactionId sub = GetCurrentSubTransactionId();
	if (store_key == nullptr)
		changes->Mark(sub);
	else
		changes->Touch(sub, store_key);
}

} // namespace store::pg
