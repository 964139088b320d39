// Reading rights: who may read a store key (reader.hpp). The test itself is store._may_read (SQL,
// one query: the table exists with its registered shape, the reader may select every column the
// documents expose, the key's triggers work); here the registration is looked up and a refusal is
// explained: an unknown key, a key that no longer follows its table, or a lack of privilege.
#include "pg/reader.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

namespace store::pg {

namespace {

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

} // namespace

Oid
ReadableSource(Datum key, bool key_is_null, Oid reader)
{
	if (key_is_null)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	Oid types[2] = {TEXTOID, OIDOID};
	Datum args[2] = {key, ObjectIdGetDatum(reader)};
	int rc = ExecuteForReader(sql::kKeyReadable, 2, types, args, nullptr);
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
