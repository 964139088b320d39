// Keeping nested documents exact in the writing transaction.
//
// store.capture_nested('<key>') runs AFTER each row change (and TRUNCATE) of every table a nested
// key's shape reaches: it only records, per occurrence of the table in the shape, the values of
// the columns the occurrence's reverse lookup takes (old and new row; binary send form), in
// core::PendingChanges under the current subtransaction (xact.cpp merges or forgets them at
// subtransaction end). An UPDATE that changes none of the occurrence's watched columns records
// nothing. TRUNCATE marks the key whole.
//
// store.flush_nested('<key>') is a DEFERRABLE INITIALLY DEFERRED constraint trigger on the same
// tables: its first firing at commit (or at SET CONSTRAINTS ... IMMEDIATE) flushes everything
// pending, of every key; later firings find nothing. A flush, per key: the lookups map the recorded
// values to root ids (as the root table's owner); the entries of those ids are locked in id order
// (SELECT ... FOR UPDATE as the store owner: concurrent flushes of one document serialize, and
// under REPEATABLE READ a concurrently updated entry is a 40001); the documents are rendered by
// the key's source query (a new statement: under READ COMMITTED it sees what committed meanwhile)
// as the root table's owner in a security-restricted operation under canonical output settings;
// each is compared with its entry and with the history row earlier flushes of this transaction
// wrote (core::DecideFlush: at most one row per transaction, key and document, the net change).
// A key marked whole is rebuilt set-based under the key's lock, in the latest snapshot, with a
// key-level U (FlushWholeKey). Every flush first takes the key's lock (LockKey: an advisory tag no
// SQL function can take), keys in name order. Before DDL that PostgreSQL refuses on a table with
// pending trigger events (TRUNCATE, ALTER TABLE, ...), a ProcessUtility hook fires the pending
// flush events (DrainFlushEvents).
#include "core/error.hpp"
#include "core/net_change.hpp"
#include "core/pending.hpp"
#include "core/reverse_lookup.hpp"
#include "pg/canonical.hpp"
#include "pg/guard.hpp"
#include "pg/kept_plan.hpp"
#include "pg/nested.hpp"
#include "pg/relationships.hpp"
#include "pg/roles.hpp"
#include "pg/shape_resolve.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/writer.hpp"
#include "pg/xact.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "tcop/utility.h"
#include "utils/fmgroids.h"
#include "common/hashfn.h"
#include "storage/lock.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace store;

// One occurrence of a table in a key's shape, as capture and flush use it.
struct Occurrence {
	Oid table = InvalidOid;
	std::vector<int> columns; // the lookup's columns (attnums of table)
	std::vector<Oid> types;   // their types

	// their types' send functions (fn_extra in TopMemoryContext), looked up once
	mutable std::vector<FmgrInfo> send;

	std::vector<int> watched; // columns whose change can alter a document
	std::string sql;          // the lookup
};

// What a key's maintenance needs, built from its latest registration.
struct KeyInfo {
	bool registered = false;
	Oid root = InvalidOid;
	bool filtered = false; // a filter on root rows: every root UPDATE is recorded
	std::vector<Occurrence> occurrences;
	std::vector<Oid> relations;       // the root and every table the shape reaches (junctions too)
	mutable std::string render_query; // store._nested_render_query's, read on first use
};

core::PendingChanges *pending = nullptr;
std::map<std::string, std::shared_ptr<const KeyInfo>> *key_infos = nullptr;
uint64 key_infos_epoch = 0; // counts invalidations: a KeyInfo built across one is not kept
bool flushing = false;
// Set when a row trigger recorded a change in this transaction, so its flush events may be pending
// (see DrainFlushEvents); cleared with the transaction.
bool flush_events_queued = false;
ProcessUtility_hook_type previous_utility_hook = nullptr;
// While DrainFlushEvents fires the flush events (as the bootstrap superuser, see there): the role
// and security context of the command that drains, which the flush runs as.
bool draining = false;
Oid drain_user = InvalidOid;
int drain_context = 0;

// Forgets the KeyInfos that use relid after its relcache invalidation (DDL, re-registration:
// triggers change; a foreign key added to or from a table the shape reaches), every one when relid
// is InvalidOid (a cache reset). An invalidation of an unrelated table (a temporary table created)
// keeps them. No PostgreSQL calls, nothing allocated.
void
InvalidateKeyInfos(Datum, Oid relid)
{
	key_infos_epoch++;
	if (key_infos == nullptr)
		return;
	if (relid == InvalidOid) {
		key_infos->clear();
		return;
	}
	for (auto entry = key_infos->begin(); entry != key_infos->end();) {
		const std::vector<Oid> &relations = entry->second->relations;
		bool uses =
		    !entry->second->registered || std::find(relations.begin(), relations.end(), relid) != relations.end();
		entry = uses ? key_infos->erase(entry) : std::next(entry);
	}
}

// The same after a change of casts, functions, types or roles.
void
InvalidateKeyInfosSyscache(Datum, int, uint32)
{
	InvalidateKeyInfos((Datum)0, InvalidOid);
}

int ExecuteLatest(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args, int cursor_options = 0);

// The registration of key: (source, nested, filtered); false when it is no nested key. Needs SPI.
// Read in the latest snapshot, as the lookups and renders are and as the catalog is: under
// REPEATABLE READ a shape renamed since the snapshot is the one that resolves.
bool
ReadNestedRegistration(const char *key, Oid *source, char **nested, bool *filtered)
{
	Oid types[1] = {TEXTOID};
	Datum args[1] = {CStringGetTextDatum(key)};
	pg::SavedUser saved = pg::BecomeStoreOwner();
	SPIPlanPtr plan = nullptr; // read when a KeyInfo is built: not kept (freed by SPI_finish)
	int rc = ExecuteLatest(&plan, pg::sql::kNestedRegistration, 1, types, args);
	pg::RestoreUser(saved);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading a nested key's registration failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	bool is_null;
	*source = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null));
	*nested = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	*filtered = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &is_null));
	return true;
}

// Looks up type's binary send function into send, once per KeyInfo instead of once per captured
// value (fn_extra in TopMemoryContext: a KeyInfo outlives statements). PostgreSQL calls only.
void
SendFunctionOf(Oid type, FmgrInfo *send)
{
	Oid function;
	bool varlena;
	getTypeBinaryOutputInfo(type, &function, &varlena);
	fmgr_info_cxt(function, send, TopMemoryContext);
}

// Builds key's KeyInfo from its registration.
KeyInfo
BuildKeyInfo(const char *key)
{
	KeyInfo info;
	Oid source = InvalidOid;
	char *nested = nullptr;
	bool filtered = false, found = false;
	pg::PgCall([&] {
		pg::ConnectSpi();
		found = ReadNestedRegistration(key, &source, &nested, &filtered);
		if (found)
			nested = MemoryContextStrdup(TopTransactionContext, nested);
		SPI_finish();
	});
	if (!found)
		return info;
	info.registered = true;
	info.root = source;
	info.filtered = filtered;
	info.relations.push_back(source);
	core::Shape shape = core::ParseShape(nested);
	pg::PgCatalog catalog;
	core::ResolvedShape resolved = core::ResolveShape(shape, source, catalog);
	for (core::ReverseLookup &lookup : core::ReverseLookups(resolved, catalog)) {
		Occurrence occurrence;
		occurrence.table = lookup.table;
		occurrence.columns = lookup.columns;
		occurrence.watched = lookup.watched;
		occurrence.sql = std::move(lookup.sql);
		for (int attnum : occurrence.columns) {
			Oid type = InvalidOid;
			FmgrInfo send = {};
			pg::PgCall([&] {
				type = get_atttype(occurrence.table, (AttrNumber)attnum);
				SendFunctionOf(type, &send);
			});
			occurrence.types.push_back(type);
			occurrence.send.push_back(send);
		}
		info.relations.push_back(occurrence.table);
		info.occurrences.push_back(std::move(occurrence));
	}
	return info;
}

// key's KeyInfo, built on first use after an invalidation (shared: an invalidation while it is
// used drops the cache's copy only).
std::shared_ptr<const KeyInfo>
KeyInfoFor(const char *key)
{
	auto found = key_infos->find(key);
	if (found != key_infos->end())
		return found->second;
	uint64 epoch = key_infos_epoch;
	auto info = std::make_shared<const KeyInfo>(BuildKeyInfo(key));
	if (epoch == key_infos_epoch)
		(*key_infos)[key] = info;
	return info;
}

// The send form of column attnum of row (nullopt: NULL), by its type's send function.
std::optional<std::string>
ColumnValue(HeapTuple row, TupleDesc desc, int attnum, FmgrInfo *send)
{
	bool is_null = true;
	bytea *sent = nullptr;
	pg::PgCall([&] {
		Datum value = heap_getattr(row, attnum, desc, &is_null);
		if (is_null)
			return;
		sent = SendFunctionCall(send, value);
	});
	if (is_null)
		return std::nullopt;
	return std::string(VARDATA_ANY(sent), VARSIZE_ANY_EXHDR(sent));
}

// The lookup values of row for occurrence.
core::LookupValues
RowValues(const Occurrence &occurrence, HeapTuple row, TupleDesc desc)
{
	core::LookupValues values;
	for (size_t i = 0; i < occurrence.columns.size(); i++)
		values.push_back(ColumnValue(row, desc, occurrence.columns[i], &occurrence.send[i]));
	return values;
}

// True when an UPDATE from old_row to new_row changed one of the watched columns (binary
// inequality: a conservative test).
bool
WatchedChanged(const std::vector<int> &watched, HeapTuple old_row, HeapTuple new_row, TupleDesc desc)
{
	bool changed = false;
	pg::PgCall([&] {
		for (int attnum : watched) {
			bool old_null, new_null;
			Datum a = heap_getattr(old_row, attnum, desc, &old_null);
			Datum b = heap_getattr(new_row, attnum, desc, &new_null);
			Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
			if (old_null != new_null || (!old_null && !datumIsEqual(a, b, att->attbyval, att->attlen))) {
				changed = true;
				return;
			}
		}
	});
	return changed;
}

void LockKey(const std::string &key_name);
void FlushWholeKey(const std::string &key_name, Datum key);

// Checks that PostgreSQL called a nested trigger function as store_register installs it.
TriggerData *
CheckNestedTriggerCall(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
		        (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED), errmsg("%s must be called as a trigger", name)));
	auto *data = reinterpret_cast<TriggerData *>(fcinfo->context);
	if (!TRIGGER_FIRED_AFTER(data->tg_event) || data->tg_trigger->tgnargs != 1)
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("%s must be an AFTER trigger with the store key as its argument", name),
		                errhint("Use store_register() to install store triggers.")));
	return data;
}

// store.capture_nested(): records the changed row's lookup values per occurrence of its table.
Datum
CaptureNested(FunctionCallInfo fcinfo)
{
	TriggerData *data = CheckNestedTriggerCall(fcinfo, "store.capture_nested()");
	const char *key = data->tg_trigger->tgargs[0];
	SubTransactionId sub = GetCurrentSubTransactionId();
	if (TRIGGER_FIRED_BY_TRUNCATE(data->tg_event)) {
		// no row events follow, so no deferred flush would: rebuild the key now (key-level U)
		Datum key_text = 0;
		pg::PgCall([&] {
			key_text = CStringGetTextDatum(key);
			pg::ConnectSpi();
		});
		FlushWholeKey(key, key_text);
		pg::PgCall([] { SPI_finish(); });
		pg::NoteChange(key);
		return PointerGetDatum(nullptr);
	}
	flush_events_queued = true; // this row's flush event is queued with it
	std::shared_ptr<const KeyInfo> shared = KeyInfoFor(key);
	const KeyInfo &info = *shared;
	if (!info.registered)
		return PointerGetDatum(nullptr);
	Oid relid = RelationGetRelid(data->tg_relation);
	TupleDesc desc = RelationGetDescr(data->tg_relation);
	bool inserted = TRIGGER_FIRED_BY_INSERT(data->tg_event);
	bool deleted = TRIGGER_FIRED_BY_DELETE(data->tg_event);
	HeapTuple old_row = inserted ? nullptr : data->tg_trigtuple;
	HeapTuple new_row = inserted ? data->tg_trigtuple : deleted ? nullptr : data->tg_newtuple;
	for (size_t i = 0; i < info.occurrences.size(); i++) {
		const Occurrence &occurrence = info.occurrences[i];
		if (occurrence.table != relid)
			continue;
		if (old_row != nullptr && new_row != nullptr) {
			bool root_filtered = info.filtered && relid == info.root;
			if (!root_filtered && !WatchedChanged(occurrence.watched, old_row, new_row, desc))
				continue;
			pending->RecordUpdate(sub, key, (int)i, RowValues(occurrence, old_row, desc),
			                      RowValues(occurrence, new_row, desc));
		} else {
			pending->Record(sub, key, (int)i, RowValues(occurrence, old_row != nullptr ? old_row : new_row, desc));
		}
	}
	return PointerGetDatum(nullptr);
}

// An array (of type's array type) of one lookup column's recorded values, read back with the
// type's receive function.
Datum
ValuesArray(const std::set<core::LookupValues> &rows, size_t column, Oid type)
{
	Datum result = 0;
	std::vector<const std::optional<std::string> *> cells;
	for (const core::LookupValues &row : rows)
		cells.push_back(&row[column]);
	pg::PgCall([&] {
		int count = (int)cells.size();
		Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, 1)));
		bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * Max(count, 1)));
		Oid receive, param;
		getTypeBinaryInputInfo(type, &receive, &param);
		int16 typlen;
		bool typbyval;
		char typalign;
		get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
		for (int i = 0; i < count; i++) {
			nulls[i] = !cells[i]->has_value();
			values[i] = 0;
			if (nulls[i])
				continue;
			const std::string &bytes = **cells[i];
			StringInfoData buffer;
			initStringInfo(&buffer);
			appendBinaryStringInfo(&buffer, bytes.data(), (int)bytes.size());
			values[i] = OidReceiveFunctionCall(receive, &buffer, param, -1);
		}
		int dims[1] = {count};
		int lbs[1] = {1};
		result = PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type, typlen, typbyval, typalign));
	});
	return result;
}

// The first two columns' text of the rows SPI_tuptable holds (b NULL with one column), copied into
// context: plain palloc'd data, so that the C++ containers are filled outside PgCall (a C++
// exception must never leave a PG_TRY block).
struct TextRows {
	uint64 count;
	char **a;
	char **b;
};

TextRows
CollectTextRows(int columns, MemoryContext context)
{
	TextRows rows = {SPI_processed, nullptr, nullptr};
	rows.a = static_cast<char **>(MemoryContextAllocZero(context, sizeof(char *) * Max(rows.count, uint64{1})));
	rows.b = static_cast<char **>(MemoryContextAllocZero(context, sizeof(char *) * Max(rows.count, uint64{1})));
	for (uint64 i = 0; i < rows.count; i++) {
		char *a = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char *b = columns > 1 ? SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2) : nullptr;
		rows.a[i] = MemoryContextStrdup(context, a == nullptr ? "" : a);
		rows.b[i] = MemoryContextStrdup(context, b == nullptr ? "" : b);
	}
	return rows;
}

// Runs a query in the latest snapshot (what committed until now, and this transaction's own
// changes), whatever the isolation level: lookups and renders follow the data as it is when the
// flush holds its locks (after waiting for the key's lock, READ COMMITTED's statement snapshot
// could be older; REPEATABLE READ's transaction snapshot is). Conflicts of REPEATABLE READ are the
// entries' (their lock in the transaction snapshot: 40001). *plan: the kept plan of sql, or
// nullptr: then sql is prepared into *plan (not kept: see KeepQuery) with cursor_options
// (CURSOR_OPT_*). Needs SPI; PostgreSQL calls only.
int
ExecuteLatest(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args, int cursor_options)
{
	// operators and functions named without a schema resolve in pg_catalog only, whatever the
	// writer's search_path: the query runs as the root table's owner (a kept plan is planned
	// again when the search path differs from its own: the same override every time)
	OverrideSearchPath catalog_only = {};
	catalog_only.schemas = list_make1_oid(PG_CATALOG_NAMESPACE);
	PushOverrideSearchPath(&catalog_only);
	if (*plan == nullptr)
		*plan = SPI_prepare_cursor(sql, nargs, types, cursor_options);
	if (*plan == nullptr)
		elog(ERROR, "store: preparing a nested key's query failed: %s", SPI_result_code_string(SPI_result));
	int rc = SPI_execute_snapshot(*plan, args, nullptr, GetLatestSnapshot(), InvalidSnapshot, false, false, 0);
	PopOverrideSearchPath();
	return rc;
}

// The plans of the flush's queries (lookups, renders, entry checks), kept for the backend by
// their text and parameter types: a key's queries are planned once, not on every flush. A shape's
// text changes with the catalog (KeyInfo is rebuilt), so a stale text is never asked for again;
// the plan cache plans a kept plan again when a table it reads changes.
using QueryId = std::tuple<std::string, std::vector<Oid>, int>; // sql, types, cursor options
std::map<QueryId, SPIPlanPtr> *kept_queries = nullptr;
constexpr size_t kMaxKeptQueries = 64; // past this, the kept plans are freed (stale texts pile up)
constexpr size_t kHashedAnyMin = 9;    // = ANY over this many constants is hashed (PostgreSQL 14+)

// The kept plan of sql with types (and cursor options), or nullptr.
SPIPlanPtr
KeptQuery(const char *sql, int nargs, const Oid *types, int cursor_options = 0)
{
	auto found = kept_queries->find(QueryId(sql, std::vector<Oid>(types, types + nargs), cursor_options));
	return found == kept_queries->end() ? nullptr : found->second;
}

// Frees every kept query plan (none of them runs: flushes do not nest).
void
FreeKeptQueries()
{
	for (auto &[id, plan] : *kept_queries) {
		SPIPlanPtr freed = plan;
		pg::PgCall([&] { SPI_freeplan(freed); });
	}
	kept_queries->clear();
}

// Remembers plan (prepared by ExecuteLatest and kept with SPI_keepplan) as sql's with types.
void
KeepQuery(const char *sql, int nargs, const Oid *types, SPIPlanPtr plan, int cursor_options = 0)
{
	if (kept_queries->size() >= kMaxKeptQueries)
		FreeKeptQueries();
	(*kept_queries)[QueryId(sql, std::vector<Oid>(types, types + nargs), cursor_options)] = plan;
}

// Runs occurrence's lookup over rows as the root's owner under canonical output; adds the ids
// (jsonb text) to ids.
void
LookUp(const KeyInfo &info, const Occurrence &occurrence, const std::set<core::LookupValues> &rows,
       std::set<std::string> *ids)
{
	size_t n = occurrence.columns.size();
	std::vector<Datum> args(n);
	std::vector<Oid> types(n);
	for (size_t j = 0; j < n; j++) {
		args[j] = ValuesArray(rows, j, occurrence.types[j]);
		pg::PgCall([&] { types[j] = get_array_type(occurrence.types[j]); });
	}
	TextRows found = {0, nullptr, nullptr};
	SPIPlanPtr plan = KeptQuery(occurrence.sql.c_str(), (int)n, types.data());
	bool fresh = plan == nullptr;
	pg::PgCall([&] {
		MemoryContext caller = CurrentMemoryContext;
		pg::ConnectSpi();
		int nest_level = pg::EnterCanonicalOutput();
		pg::SavedUser saved = pg::BecomeRole(pg::RelationOwner(info.root), SECURITY_NOFORCE_RLS);
		int rc = ExecuteLatest(&plan, occurrence.sql.c_str(), (int)n, types.data(), args.data());
		pg::RestoreUser(saved);
		pg::LeaveCanonicalOutput(nest_level);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "store: a nested key's lookup failed: %s", SPI_result_code_string(rc));
		found = CollectTextRows(1, caller);
		if (fresh)
			SPI_keepplan(plan);
		SPI_finish();
	});
	if (fresh)
		KeepQuery(occurrence.sql.c_str(), (int)n, types.data(), plan);
	for (uint64 i = 0; i < found.count; i++)
		if (found.a[i][0] != '\0')
			ids->insert(found.a[i]);
}

// A text[] datum of strings.
Datum
TextArrayOf(const std::vector<std::string> &items)
{
	Datum result = 0;
	pg::PgCall([&] {
		Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * Max(items.size(), size_t{1})));
		for (size_t i = 0; i < items.size(); i++)
			values[i] = PointerGetDatum(cstring_to_text_with_len(items[i].data(), (int)items[i].size()));
		result = PointerGetDatum(construct_array(values, (int)items.size(), TEXTOID, -1, false, TYPALIGN_INT));
	});
	return result;
}

// The kept plan of one of the flush's fixed statements (sql: a constant of sql_names.hpp, told
// apart by address; at most 3 parameters), prepared on first use for this backend.
pg::KeptPlan *
KeptPlanFor(const char *sql, int nargs, const Oid *types)
{
	constexpr int kSlots = 12;
	static pg::KeptPlan plans[kSlots];
	static Oid plan_types[kSlots][3];
	for (int i = 0; i < kSlots; i++) {
		if (plans[i].sql == sql)
			return &plans[i];
		if (plans[i].sql != nullptr)
			continue;
		for (int j = 0; j < nargs && j < 3; j++)
			plan_types[i][j] = types[j];
		plans[i] = {sql, nargs, plan_types[i], nullptr};
		return &plans[i];
	}
	elog(ERROR, "store: too many nested statements");
	return nullptr;
}

// Runs sql (args: $1 key text, $2 ids text[], more as given) as the store owner through a kept
// plan; each row's (text, text) pair into rows when given. Needs SPI.
void
RunAsStore(const char *sql, int nargs, Oid *types, Datum *args, const char *nulls, bool read_only,
           std::vector<std::pair<std::string, std::string>> *rows)
{
	TextRows got = {0, nullptr, nullptr};
	pg::PgCall([&] {
		int rc = pg::ExecuteKeptPlan(KeptPlanFor(sql, nargs, types), args, read_only);
		if (rc < 0)
			elog(ERROR, "store: writing a nested key failed: %s", SPI_result_code_string(rc));
		if (rows == nullptr || SPI_tuptable == nullptr)
			return;
		got = CollectTextRows(2, CurrentMemoryContext);
	});
	if (rows == nullptr)
		return;
	rows->clear();
	for (uint64 i = 0; i < got.count; i++)
		rows->emplace_back(got.a[i], got.b[i]);
}

// The documents of ids rendered now (id text -> doc text), as the root's owner in a
// security-restricted operation under canonical settings, in a new statement.
std::map<std::string, std::string>
RenderDocuments(const KeyInfo &info, Datum key, Datum ids, size_t count)
{
	if (info.render_query.empty()) {
		char *text = nullptr;
		pg::PgCall([&] {
			Oid types[1] = {TEXTOID};
			Datum args[1] = {key};
			pg::SavedUser saved = pg::BecomeStoreOwner();
			int rc = SPI_execute_with_args(pg::sql::kNestedRenderQuery, 1, types, args, nullptr, true, 1);
			pg::RestoreUser(saved);
			if (rc != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "store: reading a nested key's query failed");
			text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		});
		info.render_query = text;
	}
	const char *query = info.render_query.c_str();
	TextRows rows = {0, nullptr, nullptr};
	Oid render_types[1] = {TEXTARRAYOID};
	// many ids: planned for each flush's ids (a generic plan compares each row's id with every one
	// of them: = ANY over a parameter is not hashed, over 9 or more constants it is); the text is
	// parsed once all the same. A few ids: the plan cache may settle on a generic plan.
	int options = count >= kHashedAnyMin ? CURSOR_OPT_CUSTOM_PLAN : 0;
	SPIPlanPtr plan = KeptQuery(query, 1, render_types, options);
	bool fresh = plan == nullptr;
	pg::PgCall([&] {
		Datum render_args[1] = {ids};
		int nest_level = pg::EnterCanonicalOutput();
		pg::SavedUser saved = pg::BecomeRole(pg::RelationOwner(info.root), SECURITY_NOFORCE_RLS);
		int rc = ExecuteLatest(&plan, query, 1, render_types, render_args, options);
		pg::RestoreUser(saved);
		pg::LeaveCanonicalOutput(nest_level);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "store: rendering nested documents failed: %s", SPI_result_code_string(rc));
		rows = CollectTextRows(2, CurrentMemoryContext);
		if (fresh)
			SPI_keepplan(plan);
	});
	if (fresh)
		KeepQuery(query, 1, render_types, plan, options);
	std::map<std::string, std::string> documents;
	for (uint64 i = 0; i < rows.count; i++)
		documents.emplace(rows.a[i], rows.b[i]);
	return documents;
}

using pg::sql::kChangeNestedHistory;
using pg::sql::kDeleteNestedEntry;
using pg::sql::kInsertNestedEntry;
using pg::sql::kLockNestedEntries;
using pg::sql::kNestedWrittenStates;
using pg::sql::kRemoveNestedHistory;
using pg::sql::kUpdateNestedEntry;

// Applies one document's decision: entry and history row. Needs SPI.
void
ApplyDecision(const char *key_text, Datum key, const std::string &id, const std::string &doc,
              const core::FlushDecision &decision, bool stored_present)
{
	Datum id_text = 0, doc_text = 0, state = 0;
	pg::PgCall([&] {
		id_text = PointerGetDatum(cstring_to_text_with_len(id.data(), (int)id.size()));
		doc_text = PointerGetDatum(cstring_to_text_with_len(doc.data(), (int)doc.size()));
		state = CStringGetTextDatum(core::NetOpName(decision.state));
	});
	Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	// the document passed as json: json_build_object rendered it, so the cast does not parse it again
	Oid entry_types[3] = {TEXTOID, TEXTOID, JSONOID};
	Datum args[3] = {key, id_text, doc_text};
	if (decision.entry == core::EntryWrite::kUpsert)
		RunAsStore(stored_present ? kUpdateNestedEntry : kInsertNestedEntry, 3, entry_types, args, nullptr, false,
		           nullptr);
	else if (decision.entry == core::EntryWrite::kDelete)
		RunAsStore(kDeleteNestedEntry, 2, types, args, nullptr, false, nullptr);
	args[2] = state;
	if (decision.history == core::HistoryWrite::kInsert) {
		const char *letter = core::NetOpName(decision.state);
		pg::PgCall([&] {
			Datum item = DirectFunctionCall1(jsonb_in, CStringGetDatum(id.c_str()));
			pg::AppendHistoryRow(key_text, item, false, letter);
		});
	} else if (decision.history == core::HistoryWrite::kChange) {
		RunAsStore(kChangeNestedHistory, 3, types, args, nullptr, false, nullptr);
	} else if (decision.history == core::HistoryWrite::kRemove) {
		RunAsStore(kRemoveNestedHistory, 2, types, args, nullptr, false, nullptr);
	}
}

// The state letter's NetOp.
core::NetOp
NetOpOf(const std::string &letter)
{
	if (letter == pg::sql::kStateCreated)
		return core::NetOp::kCreate;
	if (letter == pg::sql::kStateDeleted)
		return core::NetOp::kDelete;
	return letter == pg::sql::kStateUpdated ? core::NetOp::kUpdate : core::NetOp::kNone;
}

// Runs sql ($1: key) as the store owner in the latest snapshot, whatever the isolation level: the
// whole-key rebuild deletes the entries as they are now and renders what committed until now, as
// every flush renders (under REPEATABLE READ, rendering the transaction's snapshot left documents
// without changes committed since, a renamed to-one target for one). The key's lock orders it with
// the other flushes of the key. Needs SPI; a rare path: prepared each time.
void
RunLatestAsStore(const char *sql, Datum key)
{
	pg::PgCall([&] {
		Oid types[1] = {TEXTOID};
		Datum args[1] = {key};
		SPIPlanPtr plan = SPI_prepare(sql, 1, types);
		if (plan == nullptr)
			elog(ERROR, "store: preparing a nested key's rebuild failed: %s", SPI_result_code_string(SPI_result));
		pg::SavedUser saved = pg::BecomeStoreOwner();
		int rc = SPI_execute_snapshot(plan, args, nullptr, GetLatestSnapshot(), InvalidSnapshot, false, true, 0);
		pg::RestoreUser(saved);
		SPI_freeplan(plan);
		if (rc < 0)
			elog(ERROR, "store: rebuilding a nested key failed: %s", SPI_result_code_string(rc));
	});
}

// Rebuilds all of key's documents (TRUNCATE, or too many rows): set-based, a key-level U. It takes
// the key's lock like every flush (so it waits for the flushes of the key in flight to commit and
// renders after them, and later ones wait for it) and no table lock: store._rebuild's SHARE ROW
// EXCLUSIVE on the root, taken at commit, deadlocked with any other writer of the root that did
// the same. Needs SPI.
void
FlushWholeKey(const std::string &key_name, Datum key)
{
	LockKey(key_name);
	RunLatestAsStore(pg::sql::kDeleteNestedKeyEntries, key);
	RunLatestAsStore(pg::sql::kInsertNestedKeyEntries, key);
	Oid types[1] = {TEXTOID};
	Datum args[1] = {key};
	RunAsStore(pg::sql::kLogNestedKey, 1, types, args, nullptr, false, nullptr);
}

// The key lock's advisory tag: class 0x53544f52 ("STOR") and the hash of the key's name, with a
// fourth field no SQL-level advisory function uses (they use 1 and 2), so no role can take, hold
// or release this lock with pg_advisory_lock and the like (pg_locks shows it as an advisory lock,
// objsubid 21332).
constexpr uint32 kKeyLockClass = 1398034258;
constexpr uint16 kKeyLockField4 = 21332;

// Locks key for this transaction, exclusively (released with it, or with the subtransaction that
// took it): a flush waits for every concurrent flush of the key to commit, so its lookups (a new
// statement, READ COMMITTED) see the rows they linked, and a later flush renders a changed row that
// documents reach through a to-one or many-to-many edge (whose writer locks none of those
// documents). (A shared lock for flushes without such rows, upgraded later in the transaction,
// deadlocked.) Flushes take keys in name order, so they cannot deadlock on these locks.
void
LockKey(const std::string &key_name)
{
	pg::PgCall([&] {
		LOCKTAG tag;
		uint32 hash =
		    DatumGetUInt32(hash_any(reinterpret_cast<const unsigned char *>(key_name.data()), (int)key_name.size()));
		SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kKeyLockClass, hash, kKeyLockField4);
		(void)LockAcquire(&tag, ExclusiveLock, false, false);
	});
}

// REPEATABLE READ: errors (40001) when one of the entries (ids: text[] of jsonb) exists in the
// latest snapshot though the transaction's snapshot has none: another transaction created it since,
// and writing it would either fail or lose that transaction's document.
void
RequireNoNewEntries(Datum key, Datum ids)
{
	bool found = false;
	pg::PgCall([&] {
		Oid types[2] = {TEXTOID, TEXTARRAYOID};
		Datum args[2] = {key, ids};
		SPIPlanPtr plan = nullptr; // rare (REPEATABLE READ, an entry not found): not kept
		pg::SavedUser saved = pg::BecomeStoreOwner();
		int rc = ExecuteLatest(&plan, pg::sql::kNestedEntriesExist, 2, types, args);
		pg::RestoreUser(saved);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "store: reading nested entries failed: %s", SPI_result_code_string(rc));
		found = SPI_processed > 0;
	});
	if (found)
		pg::PgCall([] {
			ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			                errmsg("could not serialize access due to concurrent update of a store document"),
			                errdetail("Another transaction created the document since this transaction's snapshot."),
			                errhint("Retry the transaction.")));
		});
}

// Documents the lock found no entry for but the render found (a root row created by a transaction
// that committed in between, READ COMMITTED) may have got their entry from that transaction's
// flush meanwhile: their entries are locked too (a new statement sees them) and, for those that
// appeared, the documents rendered again after the lock, so they are updated, never inserted twice.
void
LockAppearedEntries(const KeyInfo &info, Datum key, std::map<std::string, std::string> &now,
                    std::map<std::string, std::string> *stored)
{
	for (int round = 0; round < 3; round++) {
		std::vector<std::string> unlocked;
		for (const auto &[id, doc] : now)
			if (stored->count(id) == 0)
				unlocked.push_back(id);
		if (unlocked.empty())
			return;
		Datum unlocked_array = TextArrayOf(unlocked);
		Oid types[2] = {TEXTOID, TEXTARRAYOID};
		Datum args[2] = {key, unlocked_array};
		std::vector<std::pair<std::string, std::string>> appeared;
		RunAsStore(kLockNestedEntries, 2, types, args, nullptr, false, &appeared);
		if (appeared.empty() && IsolationUsesXactSnapshot())
			RequireNoNewEntries(key, unlocked_array);
		if (appeared.empty())
			return;
		std::vector<std::string> again;
		for (const auto &[id, doc] : appeared) {
			(*stored)[id] = doc;
			again.push_back(id);
			now.erase(id);
		}
		for (const auto &[id, doc] : RenderDocuments(info, key, TextArrayOf(again), again.size()))
			now[id] = doc;
	}
}

// Flushes one key's changes (see the top); adds the documents it changed to *written when given.
void
FlushKey(const std::string &key_name, const core::KeyChanges &changes,
         std::vector<std::pair<std::string, std::string>> *written_ids)
{
	std::shared_ptr<const KeyInfo> shared = KeyInfoFor(key_name.c_str());
	const KeyInfo &info = *shared;
	if (!info.registered)
		return;
	Datum key = 0;
	pg::PgCall([&] { key = PointerGetDatum(cstring_to_text_with_len(key_name.data(), (int)key_name.size())); });
	if (changes.whole_key) {
		pg::PgCall([] { pg::ConnectSpi(); });
		FlushWholeKey(key_name, key);
		pg::PgCall([] { SPI_finish(); });
		pg::NoteChange(key_name.c_str());
		return;
	}
	LockKey(key_name);
	std::set<std::string> id_set;
	for (const auto &[index, rows] : changes.rows)
		if (index >= 0 && (size_t)index < info.occurrences.size() && !rows.empty())
			LookUp(info, info.occurrences[(size_t)index], rows, &id_set);
	if (id_set.empty())
		return;
	std::vector<std::string> ids(id_set.begin(), id_set.end());
	Datum id_array = TextArrayOf(ids);
	Oid types[2] = {TEXTOID, TEXTARRAYOID};
	Datum args[2] = {key, id_array};
	std::vector<std::pair<std::string, std::string>> stored_rows, written_rows;
	pg::PgCall([] { pg::ConnectSpi(); });
	RunAsStore(kLockNestedEntries, 2, types, args, nullptr, false, &stored_rows);
	RunAsStore(kNestedWrittenStates, 2, types, args, nullptr, true, &written_rows);
	std::map<std::string, std::string> now = RenderDocuments(info, key, id_array, ids.size());
	// ids as the database prints them (the lookups' and the renderer's agree: both jsonb_out)
	std::map<std::string, std::string> stored(stored_rows.begin(), stored_rows.end());
	std::map<std::string, std::string> written(written_rows.begin(), written_rows.end());
	LockAppearedEntries(info, key, now, &stored);
	bool changed = false;
	for (const std::string &id : ids) {
		auto s = stored.find(id);
		auto n = now.find(id);
		auto w = written.find(id);
		core::DocState stored_state = s == stored.end() ? core::DocState::Absent() : core::DocState::Present(s->second);
		core::DocState now_state = n == now.end() ? core::DocState::Absent() : core::DocState::Present(n->second);
		core::NetOp written_op = w == written.end() ? core::NetOp::kNone : NetOpOf(w->second);
		core::FlushDecision decision = core::DecideFlush(written_op, stored_state, now_state);
		if (decision.entry == core::EntryWrite::kKeep && decision.history == core::HistoryWrite::kKeep)
			continue;
		ApplyDecision(key_name.c_str(), key, id, now_state.text, decision, stored_state.present);
		changed = true;
		if (written_ids != nullptr)
			written_ids->emplace_back(key_name, id);
	}
	pg::PgCall([] { SPI_finish(); });
	if (changed)
		pg::NoteChange(key_name.c_str());
}

// store.flush_nested(): the deferred trigger; flushes whatever is pending.
Datum
FlushNestedTrigger(FunctionCallInfo fcinfo)
{
	(void)CheckNestedTriggerCall(fcinfo, "store.flush_nested()");
	Oid user = InvalidOid;
	int context = 0;
	GetUserIdAndSecContext(&user, &context);
	if (draining)
		SetUserIdAndSecContext(drain_user, drain_context); // as at commit: never as the superuser
	pg::FlushNested();
	SetUserIdAndSecContext(user, context);
	return PointerGetDatum(nullptr);
}

// Resets the flushing flag on every exit of a flush.
struct FlushingScope {
	FlushingScope() { flushing = true; }
	~FlushingScope() { flushing = false; }
};

// True for the commands PostgreSQL refuses on a table with pending trigger events in this
// transaction (CheckTableNotInUse: "cannot TRUNCATE ... because it has pending trigger events").
bool
ChecksPendingEvents(Node *statement)
{
	switch (nodeTag(statement)) {
	case T_TruncateStmt:
	case T_AlterTableStmt:
	case T_IndexStmt:
	case T_ClusterStmt:
	case T_ReindexStmt:
	case T_DropStmt:
	case T_DropOwnedStmt: // drops the role's tables, reached ones included
	case T_RenameStmt:
		return true;
	default:
		return false;
	}
}

// The OID of store.flush_nested() (InvalidOid when it is gone), looked up without a privilege check:
// the writer who drains needs no USAGE on the schema store (LookupFuncName would demand it).
Oid
FlushFunctionOid()
{
	Oid schema = get_namespace_oid(pg::sql::kSchema, true);
	if (!OidIsValid(schema))
		return InvalidOid;
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(pg::sql::kFlushNestedFunction),
	                       PointerGetDatum(buildoidvector(nullptr, 0)), ObjectIdGetDatum(schema));
}

// True when every constraint named name in the schema is a flush trigger's (flush_constraints):
// SET CONSTRAINTS by name takes all of them, and a user's own deferred constraint trigger of that
// name (on another table of the schema) must neither fire early nor run as the drainer's superuser.
bool
OnlyFlushConstraintsNamed(const char *name, Oid schema, List *flush_constraints)
{
	Relation constraints = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], Anum_pg_constraint_conname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum(name));
	ScanKeyInit(&keys[1], Anum_pg_constraint_connamespace, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(schema));
	SysScanDesc scan = systable_beginscan(constraints, ConstraintNameNspIndexId, true, nullptr, 2, keys);
	bool only = true;
	HeapTuple tuple;
	while (only && HeapTupleIsValid(tuple = systable_getnext(scan)))
		only = list_member_oid(flush_constraints, ((Form_pg_constraint)GETSTRUCT(tuple))->oid);
	systable_endscan(scan);
	table_close(constraints, AccessShareLock);
	return only;
}

// The store's own pending flush events, fired now: every flush trigger (store.flush_nested) on a
// table with pending events is set IMMEDIATE, which fires its events (the first one flushes all
// pending nested changes, as at commit), then DEFERRED again, as installed. Only these triggers:
// a user's deferred trigger keeps its events and its mode. The constraint names are looked up
// (schema-qualified: the table's schema) as the bootstrap superuser, which needs no USAGE on that
// schema; a name that another constraint of the schema also has is left alone (SET CONSTRAINTS
// would fire that one too). The flush itself runs as the command's role (FlushNestedTrigger), then
// switches to the roles it renders and writes as. PostgreSQL calls only.
void
DrainFlushEvents()
{
	Oid flush = FlushFunctionOid();
	if (!OidIsValid(flush))
		return;
	List *constraints = NIL;
	Relation triggers = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData scan_key;
	ScanKeyInit(&scan_key, Anum_pg_trigger_tgfoid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(flush));
	SysScanDesc scan = systable_beginscan(triggers, InvalidOid, false, nullptr, 1, &scan_key);
	HeapTuple tuple;
	List *flush_constraints = NIL; // of every flush trigger
	List *candidates = NIL;        // the flush triggers with pending events
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		Form_pg_trigger trigger = (Form_pg_trigger)GETSTRUCT(tuple);
		if (!trigger->tgdeferrable || !OidIsValid(trigger->tgconstraint))
			continue;
		flush_constraints = lappend_oid(flush_constraints, trigger->tgconstraint);
		if (AfterTriggerPendingOnRel(trigger->tgrelid))
			candidates = lappend(candidates, heap_copytuple(tuple));
	}
	systable_endscan(scan);
	table_close(triggers, AccessShareLock);
	ListCell *cell;
	foreach (cell, candidates) {
		Form_pg_trigger trigger = (Form_pg_trigger)GETSTRUCT((HeapTuple)lfirst(cell));
		Oid schema_oid = get_rel_namespace(trigger->tgrelid);
		char *schema = get_namespace_name(schema_oid);
		if (schema != nullptr && OnlyFlushConstraintsNamed(NameStr(trigger->tgname), schema_oid, flush_constraints))
			constraints = lappend(constraints, makeRangeVar(schema, pstrdup(NameStr(trigger->tgname)), -1));
	}
	if (constraints == NIL)
		return;
	// registrations read afresh: a key forgotten in this transaction (store_unregister, whose DROP
	// TRIGGER comes here) has nothing left to flush
	InvalidateKeyInfos((Datum)0, InvalidOid);
	GetUserIdAndSecContext(&drain_user, &drain_context);
	ConstraintsSetStmt *set = makeNode(ConstraintsSetStmt);
	set->constraints = constraints;
	PG_TRY();
	{
		draining = true;
		SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, drain_context | SECURITY_LOCAL_USERID_CHANGE);
		set->deferred = false;
		AfterTriggerSetState(set);
		set->deferred = true;
		AfterTriggerSetState(set);
	}
	PG_FINALLY();
	{
		draining = false;
		SetUserIdAndSecContext(drain_user, drain_context);
	}
	PG_END_TRY();
}

// ProcessUtility hook: before a command that PostgreSQL refuses on a table with pending trigger
// events, fires the store's pending flush events (DrainFlushEvents), so that writing to a reached
// table, then TRUNCATE or ALTER TABLE of it, works in one transaction.
void
DrainBeforeUtility(PlannedStmt *statement, const char *query, bool read_only_tree, ProcessUtilityContext context,
                   ParamListInfo params, QueryEnvironment *environment, DestReceiver *destination,
                   QueryCompletion *completion)
{
	if (flush_events_queued && !flushing && IsTransactionState() && ChecksPendingEvents(statement->utilityStmt))
		DrainFlushEvents();
	ProcessUtility_hook_type next = previous_utility_hook != nullptr ? previous_utility_hook : standard_ProcessUtility;
	next(statement, query, read_only_tree, context, params, environment, destination, completion);
}

} // namespace

namespace store::pg {

void
FlushNested(std::vector<std::pair<std::string, std::string>> *written)
{
	if (pending == nullptr || flushing || !pending->HasPending())
		return;
	if (pending->Lost())
		throw core::Error("53200", "store: out of memory while a savepoint rolled back its nested documents",
		                  "Roll back the transaction and retry it: its nested documents cannot be made exact.");
	FlushingScope scope;
	std::map<std::string, core::KeyChanges> all = pending->Flush(GetCurrentSubTransactionId());
	for (const auto &[key, changes] : all)
		FlushKey(key, changes, written);
}

bool
NestedPending()
{
	return pending != nullptr && pending->HasPending();
}

void
NestedSubCommit(SubTransactionId sub, SubTransactionId parent)
{
	if (pending != nullptr)
		pending->CommitSub(sub, parent);
}

void
NestedSubAbort(SubTransactionId sub) noexcept
{
	if (pending != nullptr)
		pending->AbortSub(sub); // never throws (see PendingChanges::AbortSub)
}

void
NestedClear()
{
	if (pending != nullptr)
		pending->Clear();
	flushing = false;
	flush_events_queued = false;
}

void
InitNested()
{
	CallGuarded("store initialisation", [] {
		pending = new core::PendingChanges();
		key_infos = new std::map<std::string, std::shared_ptr<const KeyInfo>>();
		kept_queries = new std::map<QueryId, SPIPlanPtr>();
	});
	CacheRegisterRelcacheCallback(InvalidateKeyInfos, (Datum)0);
	// who renders (casts, functions, types, roles) decides whether a cached render query may run
	const int caches[] = {CASTSOURCETARGET, PROCOID, TYPEOID, AUTHOID, AUTHMEMROLEMEM};
	for (int cache : caches)
		CacheRegisterSyscacheCallback(cache, InvalidateKeyInfosSyscache, (Datum)0);
	previous_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = DrainBeforeUtility;
}

} // namespace store::pg

STORE_ENTRY(store_capture_nested, CaptureNested)
STORE_ENTRY(store_flush_nested, FlushNestedTrigger)
