// Reading a key's registration: see registration.hpp.
#include "pg/registration.hpp"
#include "pg/sql_names.hpp"
#include "pg/kept_plan.hpp"

namespace store::pg {

namespace {

const Oid kRegistrationArgtypes[1] = {TEXTOID};

// The registration of $1; fully schema-qualified, so it means the same under any search_path.
KeptPlan registration_plan = {sql::kRegistration, 1, kRegistrationArgtypes, nullptr};

} // namespace

bool
ReadRegistration(const char *store_key, Oid *source, Datum *columns, bool *all_columns)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	int rc = ReadLatestKeptPlan(&registration_plan, args);
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
