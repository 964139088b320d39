// Whether a store key's capture triggers work (key_triggers.hpp).
#include "pg/key_triggers.hpp"
#include "core/error.hpp"
#include "pg/guard.hpp"
#include "core/reverse_lookup.hpp"
#include "pg/relationships.hpp"
#include "pg/signature.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "parser/parse_func.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/regproc.h"
}

namespace store::pg {

namespace {

// tgtype of the row trigger (AFTER INSERT OR UPDATE OR DELETE, FOR EACH ROW) and of the truncate
// trigger (AFTER TRUNCATE, FOR EACH STATEMENT).
constexpr int16 kRowTriggerType = TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSERT | TRIGGER_TYPE_DELETE | TRIGGER_TYPE_UPDATE;
constexpr int16 kTruncateTriggerType = TRIGGER_TYPE_TRUNCATE;

// The OID of store.capture() (store.capture_nested() with nested; InvalidOid when it is gone).
Oid
CaptureFunction(bool nested = false)
{
	return LookupFuncName(list_make2(makeString(pstrdup(sql::kSchema)),
	                                 makeString(pstrdup(nested ? sql::kCaptureNestedFunction : sql::kCaptureFunction))),
	                      0, nullptr, true);
}

// One of key's trigger names, truncated to a name as SQL's ::name truncates it.
Datum
TriggerName(const char *key, bool truncate)
{
	return DirectFunctionCall1(namein, CStringGetDatum(psprintf("store_%s%s", key, truncate ? "_truncate" : "")));
}

// True when tgargs holds key alone (its bytes and the terminating zero byte).
bool
ArgumentIsKey(HeapTuple tuple, TupleDesc desc, const char *key)
{
	bool is_null;
	Datum args = heap_getattr(tuple, Anum_pg_trigger_tgargs, desc, &is_null);
	if (is_null)
		return false;
	bytea *bytes = DatumGetByteaPP(args);
	size_t length = strlen(key) + 1;
	return VARSIZE_ANY_EXHDR(bytes) == length && memcmp(VARDATA_ANY(bytes), key, length) == 0;
}

// True when tuple is key's trigger of tgtype type as store_register installs it, and enabled.
bool
TriggerWorks(HeapTuple tuple, TupleDesc desc, int16 type, const char *key, Oid capture)
{
	auto *trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
	return trigger->tgfoid == capture && trigger->tgtype == type && trigger->tgnargs == 1 &&
	       ArgumentIsKey(tuple, desc, key) && heap_attisnull(tuple, Anum_pg_trigger_tgqual, desc) &&
	       trigger->tgattr.dim1 == 0 && !OidIsValid(trigger->tgconstraint) &&
	       (trigger->tgenabled == TRIGGER_FIRES_ALWAYS || trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN);
}

// True when relid has key's trigger (row or truncate) and it works.
bool
TriggerOnTableWorks(Relation triggers, Oid relid, const char *key, bool truncate, Oid capture)
{
	ScanKeyData scan_keys[2];
	ScanKeyInit(&scan_keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&scan_keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ, TriggerName(key, truncate));
	SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, ReaderSnapshot(), 2, scan_keys);
	HeapTuple tuple = systable_getnext(scan);
	bool works = tuple != nullptr && TriggerWorks(tuple, RelationGetDescr(triggers),
	                                              truncate ? kTruncateTriggerType : kRowTriggerType, key, capture);
	systable_endscan(scan);
	return works;
}

// True when both of key's triggers work on relid.
bool
BothWork(Relation triggers, Oid relid, const char *key, Oid capture)
{
	return TriggerOnTableWorks(triggers, relid, key, false, capture) &&
	       TriggerOnTableWorks(triggers, relid, key, true, capture);
}

// The direct partitions of relid, read in ReaderSnapshot (as pg_partition_tree in the reader's
// statement would: a partition detached or dropped since is still there, with its triggers).
List *
DirectPartitions(Relation inherits, Oid relid)
{
	List *partitions = NIL;
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_inherits_inhparent, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	SysScanDesc scan = systable_beginscan(inherits, InheritsParentIndexId, true, ReaderSnapshot(), 1, &key);
	for (HeapTuple tuple = systable_getnext(scan); tuple != nullptr; tuple = systable_getnext(scan))
		partitions = lappend_oid(partitions, reinterpret_cast<Form_pg_inherits>(GETSTRUCT(tuple))->inhrelid);
	systable_endscan(scan);
	return partitions;
}

// True when both of key's triggers work on every partition of relid, at every depth.
bool
PartitionsWork(Relation triggers, Oid relid, const char *key, Oid capture)
{
	Relation inherits = table_open(InheritsRelationId, AccessShareLock);
	List *pending = DirectPartitions(inherits, relid);
	bool works = true;
	while (works && pending != NIL) {
		Oid partition = linitial_oid(pending);
		pending = list_delete_first(pending);
		works = BothWork(triggers, partition, key, capture);
		pending = list_concat(pending, DirectPartitions(inherits, partition));
	}
	table_close(inherits, AccessShareLock);
	return works;
}

// The OID of store.flush_nested() (InvalidOid when it is gone).
Oid
FlushFunction()
{
	return LookupFuncName(list_make2(makeString(pstrdup(sql::kSchema)), makeString(pstrdup(sql::kFlushNestedFunction))),
	                      0, nullptr, true);
}

// One of key's trigger names (store_<key>, store_<key>_truncate, store_<key>_flush), as a name.
Datum
NamedTrigger(const char *key, const char *suffix)
{
	return DirectFunctionCall1(namein, CStringGetDatum(psprintf("store_%s%s", key, suffix)));
}

// What store_register installs under one trigger name: its type, function and whether it is a
// deferred constraint trigger (the flush).
struct InstalledTrigger {
	const char *suffix;
	int16 type;
	Oid function;
	bool deferred;
};

// The state of key's trigger tuple (nullptr: none) against what store_register installs: "missing",
// "replaced" (another function, events, WHEN, column list or constraint), else by tgenabled
// "always", "enabled", "replica" or "disabled".
const char *
StateOf(HeapTuple tuple, TupleDesc desc, const char *key, const InstalledTrigger &installed)
{
	if (tuple == nullptr)
		return "missing";
	auto *trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
	bool as_installed = trigger->tgfoid == installed.function && trigger->tgtype == installed.type &&
	                    trigger->tgnargs == 1 && ArgumentIsKey(tuple, desc, key) &&
	                    heap_attisnull(tuple, Anum_pg_trigger_tgqual, desc) && trigger->tgattr.dim1 == 0 &&
	                    OidIsValid(trigger->tgconstraint) == installed.deferred &&
	                    trigger->tgdeferrable == installed.deferred && trigger->tginitdeferred == installed.deferred;
	if (!as_installed)
		return "replaced";
	switch (trigger->tgenabled) {
	case TRIGGER_FIRES_ALWAYS:
		return "always";
	case TRIGGER_FIRES_ON_ORIGIN:
		return "enabled";
	case TRIGGER_FIRES_ON_REPLICA:
		return "replica";
	default:
		return "disabled";
	}
}

// The state of key's trigger installed on relid (see StateOf).
const char *
StateOn(Relation triggers, Oid relid, const char *key, const InstalledTrigger &installed)
{
	ScanKeyData scan_keys[2];
	ScanKeyInit(&scan_keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&scan_keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
	            NamedTrigger(key, installed.suffix));
	SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, ReaderSnapshot(), 2, scan_keys);
	const char *state = StateOf(systable_getnext(scan), RelationGetDescr(triggers), key, installed);
	systable_endscan(scan);
	return state;
}

// True when a trigger in this state captures: store_register's "always", or "enabled".
bool
Works(const char *state)
{
	return strcmp(state, "always") == 0 || strcmp(state, "enabled") == 0;
}

// A nested key's three triggers: store_<key> and store_<key>_truncate (store.capture_nested) and the
// deferred store_<key>_flush (store.flush_nested).
void
NestedTriggers(InstalledTrigger out[3])
{
	Oid capture = CaptureFunction(true);
	out[0] = {"", kRowTriggerType, capture, false};
	out[1] = {"_truncate", kTruncateTriggerType, capture, false};
	out[2] = {"_flush", kRowTriggerType, FlushFunction(), true};
}

// Appends the tables whose changes a nested key's maintenance follows (its reverse lookups' tables,
// as store._nested_tables lists them: the tables that get the key's triggers) to *tables, each once.
// C++ frame: PostgreSQL is called through PgCall only.
void
LookupTables(Oid root, const char *nested, List **tables)
{
	core::Shape shape = core::ParseShape(nested);
	PgCatalog catalog;
	core::ResolvedShape resolved = core::ResolveShape(shape, root, catalog);
	for (const core::ReverseLookup &lookup : core::ReverseLookups(resolved, catalog)) {
		Oid table = lookup.table;
		PgCall([&] { *tables = list_append_unique_oid(*tables, table); });
	}
	PgCall([&] { *tables = list_append_unique_oid(*tables, root); });
}

// The tables a nested key's shape (nested) reaches from root (see LookupTables), root included;
// false when the shape does not resolve (a restore has not created the foreign keys yet, or DDL
// broke it).
bool
NestedTables(Oid root, const char *nested, List **tables)
{
	try {
		LookupTables(root, nested, tables);
		return true;
	} catch (const core::Error &) {
		return false;
	}
}

// The tables holding key's nested triggers (store.capture_nested or store.flush_nested with key as
// argument, not clones), appended to *tables each once: what holds them while the shape does not
// resolve.
void
NestedTriggerTables(Relation triggers, const char *key, const InstalledTrigger nested[3], List **tables)
{
	SysScanDesc scan = systable_beginscan(triggers, InvalidOid, false, ReaderSnapshot(), 0, nullptr);
	for (HeapTuple tuple = systable_getnext(scan); tuple != nullptr; tuple = systable_getnext(scan)) {
		auto *trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
		if (!trigger->tgisinternal && !OidIsValid(trigger->tgparentid) &&
		    (trigger->tgfoid == nested[0].function || trigger->tgfoid == nested[2].function) &&
		    ArgumentIsKey(tuple, RelationGetDescr(triggers), key))
			*tables = list_append_unique_oid(*tables, trigger->tgrelid);
	}
	systable_endscan(scan);
}

// Adds "name": "state" to the JSON object being written in out (a '{' and the pairs so far).
void
AddState(StringInfo out, const char *name, const char *state)
{
	appendStringInfoString(out, out->len > 1 ? ", " : "");
	escape_json(out, name);
	appendStringInfoString(out, ": ");
	escape_json(out, state);
}

// "<trigger> on <table>", the table as regclass prints it.
const char *
OnTable(const char *key, const char *suffix, Oid relid)
{
	return psprintf("%s on %s", DatumGetCString(NamedTrigger(key, suffix)),
	                DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))));
}

// key's nested triggers on every table in tables that are not as installed (the row and truncate
// triggers on tables other than source, the flush trigger on all), added to out; or, out NULL,
// false as soon as one does not work.
bool
NestedStates(Relation triggers, Oid source, const char *key, List *tables, StringInfo out)
{
	InstalledTrigger nested[3];
	NestedTriggers(nested);
	ListCell *cell;
	foreach (cell, tables) {
		Oid relid = lfirst_oid(cell);
		for (const InstalledTrigger &installed : nested) {
			if (!installed.deferred && relid == source)
				continue;
			const char *state = StateOn(triggers, relid, key, installed);
			if (out == nullptr && !Works(state))
				return false;
			if (out != nullptr && strcmp(state, "always") != 0)
				AddState(out, OnTable(key, installed.suffix, relid), state);
		}
	}
	return true;
}

// key's triggers on source's partitions at every depth that are not as installed, added to out.
void
PartitionStates(Relation triggers, Oid source, const char *key, StringInfo out)
{
	Oid capture = CaptureFunction();
	const InstalledTrigger flat[2] = {{"", kRowTriggerType, capture, false},
	                                  {"_truncate", kTruncateTriggerType, capture, false}};
	Relation inherits = table_open(InheritsRelationId, AccessShareLock);
	List *pending = DirectPartitions(inherits, source);
	while (pending != NIL) {
		Oid partition = linitial_oid(pending);
		pending = list_delete_first(pending);
		for (const InstalledTrigger &installed : flat) {
			const char *state = StateOn(triggers, partition, key, installed);
			if (strcmp(state, "always") != 0)
				AddState(out, OnTable(key, installed.suffix, partition), state);
		}
		pending = list_concat(pending, DirectPartitions(inherits, partition));
	}
	table_close(inherits, AccessShareLock);
}

// Other triggers on source running key's store.capture() (renamed, or added by hand): "extra".
void
ExtraStates(Relation triggers, Oid source, const char *key, StringInfo out)
{
	Oid capture = CaptureFunction();
	Datum names[2] = {NamedTrigger(key, ""), NamedTrigger(key, "_truncate")};
	ScanKeyData scan_key;
	ScanKeyInit(&scan_key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(source));
	SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, ReaderSnapshot(), 1, &scan_key);
	for (HeapTuple tuple = systable_getnext(scan); tuple != nullptr; tuple = systable_getnext(scan)) {
		auto *trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
		const char *name = NameStr(trigger->tgname);
		if (trigger->tgfoid == capture && ArgumentIsKey(tuple, RelationGetDescr(triggers), key) &&
		    strcmp(name, DatumGetName(names[0])->data) != 0 && strcmp(name, DatumGetName(names[1])->data) != 0)
			AddState(out, name, "extra");
	}
	systable_endscan(scan);
}

// The nested shape of key (store.keys.nested), palloc'd in the caller's context; nullptr for a
// flat or unknown key. Reads store.keys as the caller.
char *
NestedShapeOfKey(const char *key)
{
	MemoryContext caller = CurrentMemoryContext;
	ConnectSpi();
	Oid types[1] = {TEXTOID};
	Datum args[1] = {CStringGetTextDatum(key)};
	int rc = SPI_execute_with_args(sql::kNestedRegistration, 1, types, args, nullptr, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading a nested key's registration failed: %s", SPI_result_code_string(rc));
	char *nested = nullptr;
	if (SPI_processed == 1) {
		char *text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		nested = text == nullptr ? nullptr : MemoryContextStrdup(caller, text);
	}
	SPI_finish();
	return nested;
}

// The tables whose nested triggers key's state covers: those its shape reaches, or while it does
// not resolve, those holding its triggers.
List *
StateTables(Relation triggers, Oid source, const char *key, const char *nested)
{
	List *tables = NIL;
	if (NestedTables(source, nested, &tables))
		return tables;
	InstalledTrigger installed[3];
	NestedTriggers(installed);
	NestedTriggerTables(triggers, key, installed, &tables);
	return tables;
}

// store._trigger_state(source, key) (30-capture.sql): key's triggers by name with their states (see
// key_triggers.hpp): the root's two, "extra" for other triggers on source running key's capture,
// and "<trigger> on <table>" for those on partitions or, for a nested key, on the tables its
// shape reaches that are not as installed.
Datum
TriggerStateSql(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	Oid source = PG_GETARG_OID(0);
	const char *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const char *nested = NestedShapeOfKey(key);
	Oid capture = CaptureFunction(nested != nullptr);
	const InstalledTrigger root[2] = {{"", kRowTriggerType, capture, false},
	                                  {"_truncate", kTruncateTriggerType, capture, false}};
	StringInfoData out;
	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	Relation triggers = table_open(TriggerRelationId, AccessShareLock);
	for (const InstalledTrigger &installed : root)
		AddState(&out, DatumGetCString(NamedTrigger(key, installed.suffix)), StateOn(triggers, source, key, installed));
	ExtraStates(triggers, source, key, &out);
	if (get_rel_relkind(source) == RELKIND_PARTITIONED_TABLE) // (a legacy inheritance child is no partition)
		PartitionStates(triggers, source, key, &out);
	if (nested != nullptr)
		(void)NestedStates(triggers, source, key, StateTables(triggers, source, key, nested), &out);
	table_close(triggers, AccessShareLock);
	appendStringInfoChar(&out, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
}

} // namespace

bool
KeyTriggersWork(Oid relid, const char *key)
{
	Oid capture = CaptureFunction();
	if (!OidIsValid(capture))
		return false;
	Relation triggers = table_open(TriggerRelationId, AccessShareLock);
	bool works = BothWork(triggers, relid, key, capture) &&
	             (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE || PartitionsWork(triggers, relid, key, capture));
	// a nested key's root (its other tables: store._trigger_state)
	Oid nested = works ? InvalidOid : CaptureFunction(true);
	if (OidIsValid(nested))
		works = BothWork(triggers, relid, key, nested);
	table_close(triggers, AccessShareLock);
	return works;
}

bool
NestedKeyTriggersWork(Oid root, const char *key, const char *nested)
{
	List *tables = NIL;
	if (!NestedTables(root, nested, &tables))
		return false;
	Relation triggers = table_open(TriggerRelationId, AccessShareLock);
	bool works = NestedStates(triggers, root, key, tables, nullptr);
	table_close(triggers, AccessShareLock);
	return works;
}

} // namespace store::pg

STORE_ENTRY(store_trigger_state, store::pg::TriggerStateSql)
