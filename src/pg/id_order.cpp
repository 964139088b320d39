// The btree order of entry ids: store._id_cmp, the comparison function of operator class
// store.id_ops, which indexes store.entries. It orders jsonb exactly as jsonb_cmp does (the class
// reuses jsonb's own <, =, > operators), but compares the ids a store holds - single numbers or
// single strings - directly, without jsonb_cmp's iterators; anything else goes to jsonb_cmp.
#include "pg/guard.hpp"

extern "C" {
#include "catalog/pg_collation.h"
#include "utils/varlena.h"
}

namespace {

// What a jsonb id holds, when it is a single number or string.
struct ScalarId {
	enum Kind { kOther, kNumber, kString } kind;
	const char *data; // the numeric, or the string's bytes
	int length;       // the string's length
};

// The single scalar a raw-scalar jsonb holds (a one-element array flagged scalar), if it is a
// number or a string.
ScalarId
ScalarOf(const Jsonb *id)
{
	const JsonbContainer *root = &id->root;
	if (!JsonContainerIsScalar(root) || JsonContainerSize(root) != 1)
		return {ScalarId::kOther, nullptr, 0};
	JEntry entry = root->children[0];
	const char *data = reinterpret_cast<const char *>(&root->children[1]);
	if (JBE_ISSTRING(entry))
		return {ScalarId::kString, data, static_cast<int>(JBE_OFFLENFLD(entry))};
	if (JBE_ISNUMERIC(entry))
		return {ScalarId::kNumber, data, 0};
	return {ScalarId::kOther, nullptr, 0};
}

// Compares two ids as jsonb_cmp does: same-kind scalars as jsonb compares them (numbers by
// value, strings in the database collation), everything else by jsonb_cmp itself.
Datum
IdCompare(FunctionCallInfo fcinfo)
{
	Jsonb *a = PG_GETARG_JSONB_P(0);
	Jsonb *b = PG_GETARG_JSONB_P(1);
	ScalarId x = ScalarOf(a);
	ScalarId y = ScalarOf(b);
	if (x.kind != y.kind || x.kind == ScalarId::kOther)
		return DirectFunctionCall2(jsonb_cmp, JsonbPGetDatum(a), JsonbPGetDatum(b));
	if (x.kind == ScalarId::kNumber)
		return DirectFunctionCall2(numeric_cmp, PointerGetDatum(x.data), PointerGetDatum(y.data));
	PG_RETURN_INT32(varstr_cmp(x.data, x.length, y.data, y.length, DEFAULT_COLLATION_OID));
}

} // namespace

STORE_ENTRY(store_id_cmp, IdCompare)
