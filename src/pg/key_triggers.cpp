// Whether a store key's capture triggers work (key_triggers.hpp).
#include "pg/key_triggers.hpp"
#include "pg/signature.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "parser/parse_func.h"
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

} // namespace store::pg
