// store_apply's kept plans: see apply_plans.hpp.
#include "pg/apply_plans.hpp"

extern "C" {
#include "common/hashfn.h"
}

namespace store::pg {

namespace {

constexpr int kMaxKeptArgs = 8;     // statements with more parameters are planned per use
constexpr long kMaxKeptPlans = 128; // past this, the kept plans are freed before the next call

// A kept plan's identity: the user it was analysed as, its parameter types and its text's hash
// (the text itself is compared on a match). Zeroed before it is filled: hashed as bytes.
struct ApplyPlanKey {
	Oid user;
	int nargs;
	Oid types[kMaxKeptArgs];
	uint64 text_hash;
};

struct ApplyPlanEntry {
	ApplyPlanKey key;
	char *sql;       // in TopMemoryContext
	SPIPlanPtr plan; // kept (SPI_keepplan)
};

HTAB *apply_plans = nullptr;
int apply_depth = 0;      // store_apply calls running (a trigger of a batch's statement may call it)
bool apply_stale = false; // a role's membership or attributes changed: no kept plan serves until freed

// A change in pg_authid or pg_auth_members: what parse analysis checked for a role may not hold.
void
InvalidateApplyPlans(Datum, int, uint32)
{
	apply_stale = true;
}

// Frees every kept plan (none runs: called between store_apply calls only).
void
FreeApplyPlans()
{
	HASH_SEQ_STATUS scan;
	hash_seq_init(&scan, apply_plans);
	ApplyPlanEntry *entry;
	while ((entry = static_cast<ApplyPlanEntry *>(hash_seq_search(&scan))) != nullptr) {
		SPI_freeplan(entry->plan);
		pfree(entry->sql);
		hash_search(apply_plans, &entry->key, HASH_REMOVE, nullptr);
	}
	apply_stale = false;
}

} // namespace

void
EnterApplyPlans()
{
	if (apply_plans == nullptr) {
		HASHCTL control = {};
		control.keysize = sizeof(ApplyPlanKey);
		control.entrysize = sizeof(ApplyPlanEntry);
		control.hcxt = TopMemoryContext;
		apply_plans = hash_create("store_apply plans", 64, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterSyscacheCallback(AUTHOID, InvalidateApplyPlans, (Datum)0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, InvalidateApplyPlans, (Datum)0);
	}
	if (apply_depth == 0 && (apply_stale || hash_get_num_entries(apply_plans) >= kMaxKeptPlans))
		FreeApplyPlans();
	apply_depth++;
}

void
LeaveApplyPlans()
{
	if (apply_depth > 0)
		apply_depth--;
}

SPIPlanPtr
ApplyPlan(const char *sql, int nargs, Oid *argtypes)
{
	bool keep = apply_plans != nullptr && !apply_stale && nargs <= kMaxKeptArgs;
	ApplyPlanKey key;
	memset(&key, 0, sizeof(key));
	if (keep) {
		key.user = GetUserId();
		key.nargs = nargs;
		for (int i = 0; i < nargs; i++)
			key.types[i] = argtypes[i];
		key.text_hash = hash_bytes_extended(reinterpret_cast<const unsigned char *>(sql), (int)strlen(sql), 0);
		auto *found = static_cast<ApplyPlanEntry *>(hash_search(apply_plans, &key, HASH_FIND, nullptr));
		if (found != nullptr && strcmp(found->sql, sql) == 0)
			return found->plan;
		// another text with the same hash, or no room: planned for this use only
		keep = found == nullptr && hash_get_num_entries(apply_plans) < kMaxKeptPlans;
	}
	// a kept plan is generic (its values are parameters of a jsonb record: planning for them
	// would choose the same plan); a plan for one use is planned with its values
	SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, argtypes, keep ? CURSOR_OPT_GENERIC_PLAN : 0);
	if (plan == nullptr)
		elog(ERROR, "store_apply: preparing a statement failed: %s", SPI_result_code_string(SPI_result));
	if (!keep)
		return plan;
	char *text = MemoryContextStrdup(TopMemoryContext, sql);
	SPI_keepplan(plan);
	auto *entry = static_cast<ApplyPlanEntry *>(hash_search(apply_plans, &key, HASH_ENTER, nullptr));
	entry->sql = text;
	entry->plan = plan;
	return plan;
}

} // namespace store::pg
