// Reading rights: who may read a store key (reader.hpp). store._may_read (C, MayRead here) is the
// test: the table exists with its registered shape, its key's triggers work, and the reader may
// use its schema and select every column the documents expose; ReadableSource looks the
// registration up and explains a refusal: an unknown key, a key that no longer follows its table,
// or a lack of privilege.
#include "pg/kept_plan.hpp"
#include "pg/key_triggers.hpp"
#include "pg/nested.hpp"
#include "pg/reader.hpp"
#include "pg/roles.hpp"
#include "pg/signature.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/store_objects.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "utils/acl.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
}

namespace store::pg {

namespace {

const Oid kKeyReadableArgtypes[2] = {TEXTOID, OIDOID};

// A key's source and whether a reader may read it (store._may_read decides, on every call): a plan
// kept per backend, so the lookup is not parsed and planned again for each read.
KeptPlan key_readable_plan = {sql::kKeyReadable, 2, kKeyReadableArgtypes, nullptr};

// True when store._trigger_state exists (the 0.3.0 SQL objects) and says one of key's capture
// triggers is missing, disabled or replaced: the key's documents no longer follow its table.
bool
TriggersStopped(Oid source, Datum key)
{
	bool is_null;
	if (!DatumGetBool(SingleValue(ExecuteForReader(sql::kHasTriggerState, 0, nullptr, nullptr, nullptr), &is_null)))
		return false;
	Oid types[2] = {REGCLASSOID, TEXTOID};
	Datum args[2] = {ObjectIdGetDatum(source), key};
	return DatumGetBool(SingleValue(ExecuteForReader(sql::kTriggersStopped, 2, types, args, nullptr), &is_null));
}

// Raises why a registered key may not be read: its triggers stopped (55000), or no privilege (42501).
void
RefuseUnreadable(Oid source, Datum key)
{
	char *name = TextDatumGetCString(key);
	if (TriggersStopped(source, key))
		ereport(ERROR,
		        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		         errmsg("store key \"%s\" does not follow its table: its triggers are missing or disabled", name),
		         errhint("store_verify(%s) shows them; store_reload(%s) reinstalls them.", quote_literal_cstr(name),
		                 quote_literal_cstr(name))));
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for store key \"%s\"", name),
	                errhint("Reading a key needs SELECT on its table, or on each of its stored columns.")));
}

// True when reader may use relid's schema and, in a bulk read (the whole store, the history),
// trusts the table's owner where row-level security applies to it: its policies run as reader,
// who did not name the table (trusted: reader's own role or one it has the privileges of, or the
// store's owner).
bool
MayUseTable(Oid relid, Oid reader, bool bulk)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return false;
	auto *table = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
	Oid schema = table->relnamespace;
	Oid owner = table->relowner;
	ReleaseSysCache(tuple);
	if (pg_namespace_aclcheck(schema, reader, ACL_USAGE) != ACLCHECK_OK)
		return false;
	return !bulk || check_enable_rls(relid, reader, true) != RLS_ENABLED || has_privs_of_role(reader, owner) ||
	       owner == StoreOwner();
}

// True when reader may select relid's column attnum (on the table, or the column; a dropped or
// missing column needs nothing).
bool
MaySelectColumn(Oid relid, AttrNumber attnum, Oid reader)
{
	HeapTuple tuple = SearchSysCacheAttNum(relid, attnum);
	if (!HeapTupleIsValid(tuple))
		return true;
	ReleaseSysCache(tuple);
	return pg_attribute_aclcheck(relid, attnum, reader, ACL_SELECT) == ACLCHECK_OK;
}

// True when reader may select every column the documents expose: the chosen ones (int2[]; all
// when null) and the primary key's.
bool
MaySelectExposedColumns(Oid relid, ArrayType *column_numbers, const AttrNumber *key, int nkeys, Oid reader)
{
	if (pg_class_aclcheck(relid, reader, ACL_SELECT) == ACLCHECK_OK)
		return true;
	for (int i = 0; i < nkeys; i++)
		if (!MaySelectColumn(relid, key[i], reader))
			return false;
	if (column_numbers == nullptr) {
		int natts = TableColumnCount(relid);
		for (AttrNumber attnum = 1; attnum <= natts; attnum++)
			if (!MaySelectColumn(relid, attnum, reader))
				return false;
		return true;
	}
	Datum *numbers;
	bool *nulls;
	int count;
	deconstruct_array(column_numbers, INT2OID, 2, true, TYPALIGN_SHORT, &numbers, &nulls, &count);
	for (int i = 0; i < count; i++)
		if (!nulls[i] && !MaySelectColumn(relid, DatumGetInt16(numbers[i]), reader))
			return false;
	return true;
}

// The registration's field name (NULL: *is_null).
Datum
RegistrationField(HeapTupleHeader registration, const char *name, bool *is_null)
{
	return GetAttributeByName(registration, name, is_null);
}

// A nested key's shape (store.keys.nested, 0.3.0's), or nullptr: a flat key, or older SQL objects.
char *
NestedShapeOf(HeapTupleHeader registration)
{
	TupleDesc desc =
	    lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(registration), HeapTupleHeaderGetTypMod(registration));
	bool has_nested = false;
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
		    strcmp(NameStr(TupleDescAttr(desc, i)->attname), sql::kKeysNested) == 0)
			has_nested = true;
	ReleaseTupleDesc(desc);
	bool is_null = true;
	Datum nested = has_nested ? RegistrationField(registration, sql::kKeysNested, &is_null) : (Datum)0;
	return is_null ? nullptr : TextDatumGetCString(nested);
}

// key's nested shape as committed now (the latest snapshot), palloc'd; nullptr for none. Under
// REPEATABLE READ a shape renamed since the reader's snapshot resolves where the snapshot's (naming
// what the catalog no longer has) does not.
char *
LatestNestedShape(Datum key)
{
	MemoryContext caller = CurrentMemoryContext;
	ConnectSpi();
	Oid types[1] = {TEXTOID};
	Datum args[1] = {key};
	SPIPlanPtr plan = SPI_prepare(sql::kNestedRegistration, 1, types);
	if (plan == nullptr)
		elog(ERROR, "store: preparing the read of a nested key's shape failed: %s", SPI_result_code_string(SPI_result));
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_snapshot(plan, args, nullptr, GetLatestSnapshot(), InvalidSnapshot, true, false, 1);
	RestoreUser(saved);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading a nested key's shape failed: %s", SPI_result_code_string(rc));
	char *text = SPI_processed == 1 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2) : nullptr;
	char *nested = text == nullptr ? nullptr : MemoryContextStrdup(caller, text);
	SPI_freeplan(plan);
	SPI_finish();
	return nested;
}

// store._may_read(registration, reader, bulk): whether reader may read the key (see the top).
Datum
MayReadSql(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_BOOL(false);
	HeapTupleHeader registration = PG_GETARG_HEAPTUPLEHEADER(0);
	bool source_null, key_null, shape_null, columns_null;
	Oid relid = DatumGetObjectId(RegistrationField(registration, sql::kKeysSource, &source_null));
	Datum key = RegistrationField(registration, sql::kKeysKey, &key_null);
	Datum shape = RegistrationField(registration, sql::kKeysShape, &shape_null);
	Datum columns = RegistrationField(registration, sql::kKeysColumnNumbers, &columns_null);
	if (source_null || key_null || shape_null)
		PG_RETURN_BOOL(false);
	Oid reader = PG_GETARG_OID(1);
	ArrayType *column_numbers = columns_null ? nullptr : DatumGetArrayTypeP(columns);
	if (!MayRead(relid, TextDatumGetCString(key), TextDatumGetCString(shape), column_numbers, reader,
	             PG_GETARG_BOOL(2)))
		PG_RETURN_BOOL(false);
	char *nested = NestedShapeOf(registration);
	if (nested == nullptr)
		PG_RETURN_BOOL(true);
	if (!MayReadNested(relid, nested, reader)) {
		char *latest = IsolationUsesXactSnapshot() ? LatestNestedShape(key) : nullptr;
		if (latest == nullptr || strcmp(latest, nested) == 0 || !MayReadNested(relid, latest, reader))
			PG_RETURN_BOOL(false);
		nested = latest;
	}
	PG_RETURN_BOOL(NestedKeyTriggersWork(relid, TextDatumGetCString(key), nested));
}

} // namespace

bool
MayRead(Oid relid, const char *key, const char *shape, ArrayType *column_numbers, Oid reader, bool bulk)
{
	if (!MayUseTable(relid, reader, bulk) || !KeyTriggersWork(relid, key))
		return false;
	int nkeys;
	bool immediate;
	AttrNumber *key_attnums = PrimaryKeyOf(relid, &nkeys, &immediate);
	if (nkeys == 0 || strcmp(DocumentSignature(relid, column_numbers, key_attnums, nkeys), shape) != 0)
		return false;
	return MaySelectExposedColumns(relid, column_numbers, key_attnums, nkeys, reader);
}

Oid
ReadableSource(Datum key, bool key_is_null, Oid reader)
{
	if (key_is_null)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	Datum args[2] = {key, ObjectIdGetDatum(reader)};
	int rc = ExecuteKeptPlan(&key_readable_plan, args, true);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: checking the key failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg("store key \"%s\" is not registered", TextDatumGetCString(key)),
		                errhint("Registered keys are listed in store.keys; register a table with store_register().")));
	bool source_is_null, may_read_is_null;
	Oid source = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &source_is_null));
	Datum may_read = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &may_read_is_null);
	if (may_read_is_null || !DatumGetBool(may_read))
		RefuseUnreadable(source, key);
	return source;
}

void
RequireReadable(Datum key, bool key_is_null)
{
	ConnectSpi();
	(void)ReadableSource(key, key_is_null, GetUserId());
	SPI_finish();
}

} // namespace store::pg

STORE_ENTRY(store_may_read, store::pg::MayReadSql)
