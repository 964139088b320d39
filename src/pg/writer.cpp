// Store reads and writes from triggers: cached SPI plans, executed as the store tables' owner.
#include "pg/writer.hpp"

namespace store::pg {

namespace {

enum PlanKind { kUpsertPlan, kDeletePlan, kTruncatePlan, kColumnsPlan, kPlanCount };

// Fully schema-qualified statements: they mean the same under any search_path.
const char *const kPlanSql[kPlanCount] = {
    "WITH e AS (INSERT INTO store.entries AS e (key, id, doc) VALUES ($1, $2, $3)"
    " ON CONFLICT (key, id) DO UPDATE SET doc = EXCLUDED.doc)"
    " INSERT INTO store.history (cache_key, item_id, state)"
    " VALUES ($1, $2 OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[], $4) RETURNING version",
    "WITH e AS (DELETE FROM store.entries AS e"
    " WHERE e.key OPERATOR(pg_catalog.=) $1 AND e.id OPERATOR(pg_catalog.=) $2)"
    " INSERT INTO store.history (cache_key, item_id, state)"
    " VALUES ($1, $2 OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[], 'D') RETURNING version",
    "WITH e AS (DELETE FROM store.entries AS e WHERE e.key OPERATOR(pg_catalog.=) $1)"
    " INSERT INTO store.history (cache_key, item_id, state) VALUES ($1, NULL, 'U') RETURNING version",
    "SELECT k.columns FROM store.keys AS k WHERE k.key OPERATOR(pg_catalog.=) $1",
};
const int kPlanNargs[kPlanCount] = {4, 2, 1, 1};
const Oid kPlanArgtypes[kPlanCount][4] = {
    {TEXTOID, JSONBOID, JSONBOID, TEXTOID}, {TEXTOID, JSONBOID}, {TEXTOID}, {TEXTOID}};

SPIPlanPtr plans[kPlanCount];
Oid store_owner = InvalidOid;

// The owner of store.history: the role the extension's tables belong to.
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

// The kept plan of kind, prepared again (with the owner looked up again) once invalidated.
SPIPlanPtr
GetPlan(PlanKind kind)
{
	if (plans[kind] != nullptr && SPI_plan_is_valid(plans[kind]))
		return plans[kind];
	if (plans[kind] != nullptr)
		SPI_freeplan(plans[kind]);
	plans[kind] = nullptr;
	SPIPlanPtr plan = SPI_prepare(kPlanSql[kind], kPlanNargs[kind], const_cast<Oid *>(kPlanArgtypes[kind]));
	if (plan == nullptr)
		elog(ERROR, "store: preparing a store write failed: %s", SPI_result_code_string(SPI_result));
	store_owner = LookupStoreOwner();
	SPI_keepplan(plan);
	plans[kind] = plan;
	return plan;
}

// Runs a plan as the store owner (the caller may lack any privilege on the store tables).
int
ExecuteAsOwner(PlanKind kind, Datum *args, bool read_only)
{
	SPIPlanPtr plan = GetPlan(kind);
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(store_owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	int rc = SPI_execute_plan(plan, args, nullptr, read_only, 0);
	SetUserIdAndSecContext(saved_user, saved_context);
	return rc;
}

// Runs a write plan as the store owner and returns the history version it logged.
int64
ExecuteWrite(PlanKind kind, Datum *args)
{
	int rc = ExecuteAsOwner(kind, args, false);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "store: writing the store failed: %s", SPI_result_code_string(rc));
	bool is_null;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null));
}

} // namespace

int64
WriteUpsert(const char *store_key, Datum id, Datum doc, const char *state)
{
	Datum args[4] = {CStringGetTextDatum(store_key), id, doc, CStringGetTextDatum(state)};
	return ExecuteWrite(kUpsertPlan, args);
}

int64
WriteDelete(const char *store_key, Datum id)
{
	Datum args[2] = {CStringGetTextDatum(store_key), id};
	return ExecuteWrite(kDeletePlan, args);
}

bool
ReadKeyColumns(const char *store_key, Datum *columns, bool *all_columns)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	int rc = ExecuteAsOwner(kColumnsPlan, args, true);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading store.keys failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		return false;
	*columns = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, all_columns);
	return true;
}

int64
WriteTruncate(const char *store_key)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	return ExecuteWrite(kTruncatePlan, args);
}

} // namespace store::pg
