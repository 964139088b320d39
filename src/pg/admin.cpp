// Administration: store_register, store_unregister, store_reload and store_compact. Each public
// function is a C entry point that checks the calling role's rights (GetUserId(): these are not
// SECURITY DEFINER, so it is the caller) and then runs its internal SQL function (store._register,
// ...) as the store owner. So a role the store owner granted EXECUTE needs no grant on the schema
// store, and may administer only the tables it owns. Only the new SQL (0.3.0) declares these
// entry points; older SQL keeps its PL/pgSQL functions.
//
// What runs as the store owner is the store's own fixed SQL. The table's code (casts to json,
// row-level security policies) still runs as the table's owner (see trust.hpp); the triggers it
// creates call store.capture.
#include "pg/guard.hpp"
#include "pg/registration.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/store_objects.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "utils/acl.h"
}

namespace {

using namespace store;

// The schema-qualified name of relid, quoted where needed, for messages.
char *
QualifiedName(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

// True when role has the privileges of the owner of relid (superusers do); a table that no
// longer exists needs the store owner's privileges instead.
bool
ActsForOwnerOf(Oid role, Oid relid)
{
	Oid owner = pg::RelationOwner(relid);
	return has_privs_of_role(role, OidIsValid(owner) ? owner : pg::StoreOwner());
}

// store_register(key, source, ...): the caller must own source (or be a member of its owner). A
// NULL or missing source is left to store._register, which names the problem.
void
RequireSourceOwner(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(1))
		return;
	Oid source = PG_GETARG_OID(1);
	Oid owner = pg::RelationOwner(source);
	if (OidIsValid(owner) && !has_privs_of_role(GetUserId(), owner))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		                errmsg("must be owner of table %s to register it", QualifiedName(source)),
		                errhint("Registering a table needs its ownership (or membership in its owner role).")));
}

// store_unregister(key) and store_reload(key): the caller must own the key's table (the store
// owner's privileges when the table is gone). NULL and unknown keys are left to the internal
// function (22004, 42704). Needs an open SPI connection.
void
RequireKeyOwner(FunctionCallInfo fcinfo, const char *action)
{
	if (PG_ARGISNULL(0))
		return;
	char *key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid source;
	Datum columns;
	bool all_columns;
	if (!pg::ReadRegistration(key, &source, &columns, &all_columns))
		return;
	if (!ActsForOwnerOf(GetUserId(), source))
		ereport(ERROR,
		        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		         errmsg("must be owner of the table of store key \"%s\" to %s it", key, action),
		         errhint("Only the owner of a key's table (or a member of its owner role) may %s the key.", action)));
}

// store_reload(): rebuilds every key, so the caller must own every registered table. Needs an
// open SPI connection.
void
RequireEveryKeyOwner()
{
	if (has_privs_of_role(GetUserId(), pg::StoreOwner()))
		return;
	pg::SavedUser saved = pg::BecomeStoreOwner();
	int rc = SPI_execute(pg::sql::kAllKeySources, true, 0);
	pg::RestoreUser(saved);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading store.keys failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool is_null;
		Oid source = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &is_null));
		if (!ActsForOwnerOf(GetUserId(), source))
			ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			                errmsg("must be owner of the table of every store key to reload the whole store"),
			                errdetail("The table of store key \"%s\" belongs to another role.",
			                          SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)),
			                errhint("Reload the keys of your own tables one by one: SELECT store_reload('<key>');")));
	}
}

// "SELECT <function>($1, ..., $n)" for the n arguments of the called function.
char *
CallSql(const char *function, int nargs)
{
	StringInfoData sql;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s(", function);
	for (int i = 0; i < nargs; i++)
		appendStringInfo(&sql, "%s$%d", i == 0 ? "" : ", ", i + 1);
	appendStringInfoChar(&sql, ')');
	return sql.data;
}

// Runs function with the called function's arguments (same types, NULLs included) as the store
// owner and returns its result. Needs an open SPI connection; closes it.
Datum
RunAsStoreOwner(FunctionCallInfo fcinfo, const char *function)
{
	Oid *argtypes;
	int nargs;
	get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);
	if (nargs != PG_NARGS())
		elog(ERROR, "store: %s called with %d arguments, declared with %d", function, PG_NARGS(), nargs);
	Datum *args = static_cast<Datum *>(palloc(sizeof(Datum) * (nargs + 1)));
	char *nulls = static_cast<char *>(palloc(nargs + 1));
	for (int i = 0; i < nargs; i++) {
		args[i] = PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	nulls[nargs] = '\0';
	pg::SavedUser saved = pg::BecomeStoreOwner();
	int rc = SPI_execute_with_args(CallSql(function, nargs), nargs, argtypes, args, nulls, false, 0);
	pg::RestoreUser(saved);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: %s failed: %s", function, SPI_result_code_string(rc));
	bool is_null;
	Datum result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null);
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, 0);
	if (!is_null)
		result = SPI_datumTransfer(result, att->attbyval, att->attlen);
	SPI_finish();
	fcinfo->isnull = is_null;
	return result;
}

// store_register(key, source, columns ...): the caller owns source.
Datum
Register(FunctionCallInfo fcinfo)
{
	RequireSourceOwner(fcinfo);
	pg::ConnectSpi();
	return RunAsStoreOwner(fcinfo, pg::sql::kRegister);
}

// store_unregister(key): the caller owns the key's table.
Datum
Unregister(FunctionCallInfo fcinfo)
{
	pg::ConnectSpi();
	RequireKeyOwner(fcinfo, "unregister");
	return RunAsStoreOwner(fcinfo, pg::sql::kUnregister);
}

// store_reload(key) / store_reload(): the caller owns the key's table / every key's table.
Datum
Reload(FunctionCallInfo fcinfo)
{
	pg::ConnectSpi();
	if (PG_NARGS() == 0)
		RequireEveryKeyOwner();
	else
		RequireKeyOwner(fcinfo, "reload");
	return RunAsStoreOwner(fcinfo, pg::sql::kReload);
}

// store_compact(keep): touches no table of anyone's, only the history: EXECUTE, which the store
// owner grants, is the whole decision.
Datum
Compact(FunctionCallInfo fcinfo)
{
	pg::ConnectSpi();
	return RunAsStoreOwner(fcinfo, pg::sql::kCompact);
}

} // namespace

STORE_ENTRY(store_register, Register)
STORE_ENTRY(store_unregister, Unregister)
STORE_ENTRY(store_reload, Reload)
STORE_ENTRY(store_compact, Compact)
