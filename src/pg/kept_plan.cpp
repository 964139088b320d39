// SPI plans kept per backend: see kept_plan.hpp.
#include "pg/kept_plan.hpp"
#include "pg/roles.hpp"

extern "C" {
#include "utils/snapmgr.h"
}

namespace store::pg {

namespace {

// True when the kept plan can be used as it is.
bool
PlanIsReady(const KeptPlan *kept)
{
	return kept->plan != nullptr && SPI_plan_is_valid(kept->plan);
}

// The kept plan, prepared (again) when missing or invalidated. Runs as the store owner.
SPIPlanPtr
GetPlan(KeptPlan *kept)
{
	if (PlanIsReady(kept))
		return kept->plan;
	if (kept->plan != nullptr)
		SPI_freeplan(kept->plan);
	kept->plan = nullptr;
	SPIPlanPtr plan =
	    SPI_prepare_cursor(kept->sql, kept->nargs, const_cast<Oid *>(kept->argtypes), kept->cursor_options);
	if (plan == nullptr)
		elog(ERROR, "store: preparing a store statement failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	kept->plan = plan;
	return plan;
}

} // namespace

int
ExecuteKeptPlan(KeptPlan *plan, Datum *args, bool read_only)
{
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_plan(GetPlan(plan), args, nullptr, read_only, 0);
	RestoreUser(saved);
	return rc;
}

int
ExecuteKeptPlanWithNulls(KeptPlan *plan, Datum *args, const char *nulls, bool read_only)
{
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_plan(GetPlan(plan), args, nulls, read_only, 0);
	RestoreUser(saved);
	return rc;
}

Portal
OpenKeptCursor(KeptPlan *plan, Datum *args, const char *nulls)
{
	return SPI_cursor_open(nullptr, GetPlan(plan), args, nulls, true);
}

int
ReadLatestKeptPlan(KeptPlan *plan, Datum *args)
{
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_snapshot(GetPlan(plan), args, nullptr, GetLatestSnapshot(), InvalidSnapshot, true, false, 0);
	RestoreUser(saved);
	return rc;
}

} // namespace store::pg
