// Store reads and writes from triggers: cached SPI plans, executed as the store tables' owner.
#include "pg/writer.hpp"

namespace store::pg {

namespace {

enum PlanKind { kUpsertPlan, kDeletePlan, kTruncatePlan, kRegistrationPlan, kPlanCount };

// Fully schema-qualified statements: they mean the same under any search_path.
const char *const kPlanSql[kPlanCount] = {
    "WITH e AS (INSERT INTO store.entries AS e (key, id, doc) VALUES ($1, $2, $3)"
    " ON CONFLICT (key, id) DO UPDATE SET doc = EXCLUDED.doc)"
    " INSERT INTO store.history (cache_key, item, state) VALUES ($1, $2, $4)",
    "WITH e AS (DELETE FROM store.entries AS e"
    " WHERE e.key OPERATOR(pg_catalog.=) $1 AND e.id OPERATOR(pg_catalog.=) $2)"
    " INSERT INTO store.history (cache_key, item, state) VALUES ($1, $2, 'D')",
    "WITH e AS (DELETE FROM store.entries AS e WHERE e.key OPERATOR(pg_catalog.=) $1)"
    " INSERT INTO store.history (cache_key, item, state) VALUES ($1, NULL, 'U')",
    "SELECT k.source::pg_catalog.oid, k.columns FROM store.keys AS k WHERE k.key OPERATOR(pg_catalog.=) $1",
};
const int kPlanNargs[kPlanCount] = {4, 2, 1, 1};
const Oid kPlanArgtypes[kPlanCount][4] = {
    {TEXTOID, JSONBOID, JSONBOID, TEXTOID}, {TEXTOID, JSONBOID}, {TEXTOID}, {TEXTOID}};

SPIPlanPtr plans[kPlanCount];
Oid store_owner = InvalidOid;

// The owner of store.history: the role the extension's tables belong to. Needs no privilege.
Oid
LookupStoreOwner()
{
	Oid schema = get_namespace_oid("store", false);
	Oid history = get_relname_relid("history", schema);
	if (!OidIsValid(history))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("store.history does not exist"),
		                errhint("Is the store extension installed in this database?")));
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(history));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "store: cache lookup failed for relation %u", history);
	Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

// True when the kept plan of kind can be used as it is.
bool
PlanIsReady(PlanKind kind)
{
	return plans[kind] != nullptr && SPI_plan_is_valid(plans[kind]);
}

// The kept plan of kind, prepared (again) when missing or invalidated. Runs as the store owner.
SPIPlanPtr
GetPlan(PlanKind kind)
{
	if (PlanIsReady(kind))
		return plans[kind];
	if (plans[kind] != nullptr)
		SPI_freeplan(plans[kind]);
	plans[kind] = nullptr;
	SPIPlanPtr plan = SPI_prepare(kPlanSql[kind], kPlanNargs[kind], const_cast<Oid *>(kPlanArgtypes[kind]));
	if (plan == nullptr)
		elog(ERROR, "store: preparing a store statement failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	plans[kind] = plan;
	return plan;
}

// Prepares (if needed) and runs a plan as the store owner: the caller may lack any privilege on
// the store's schema and tables. An error in between leaves the user to transaction abort,
// which restores it.
int
ExecuteAsOwner(PlanKind kind, Datum *args, bool read_only)
{
	if (!PlanIsReady(kind) || !OidIsValid(store_owner))
		store_owner = LookupStoreOwner();
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(store_owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	int rc = SPI_execute_plan(GetPlan(kind), args, nullptr, read_only, 0);
	SetUserIdAndSecContext(saved_user, saved_context);
	return rc;
}

// Runs a write plan as the store owner; it inserts exactly one history row.
void
ExecuteWrite(PlanKind kind, Datum *args)
{
	int rc = ExecuteAsOwner(kind, args, false);
	if (rc != SPI_OK_INSERT || SPI_processed != 1)
		elog(ERROR, "store: writing the store failed: %s", SPI_result_code_string(rc));
}

} // namespace

Oid
StoreOwner()
{
	return LookupStoreOwner();
}

void
WriteUpsert(const char *store_key, Datum id, Datum doc, const char *state)
{
	Datum args[4] = {CStringGetTextDatum(store_key), id, doc, CStringGetTextDatum(state)};
	ExecuteWrite(kUpsertPlan, args);
}

void
WriteDelete(const char *store_key, Datum id)
{
	Datum args[2] = {CStringGetTextDatum(store_key), id};
	ExecuteWrite(kDeletePlan, args);
}

void
WriteTruncate(const char *store_key)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	ExecuteWrite(kTruncatePlan, args);
}

bool
ReadRegistration(const char *store_key, Oid *source, Datum *columns, bool *all_columns)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	int rc = ExecuteAsOwner(kRegistrationPlan, args, true);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading store.keys failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		return false;
	bool is_null;
	*source = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null));
	*columns = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, all_columns);
	return true;
}

} // namespace store::pg
