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

// Room for a short id copied to an aligned address (longer ids go to jsonb_cmp).
struct AlignedId {
	alignas(MAXIMUM_ALIGNOF) char bytes[128];
};

// The jsonb container of an id at an aligned address without allocating: in place for a 4-byte
// header, copied into copy for a short (1-byte) header; NULL when compressed, external or long.
const JsonbContainer *
ContainerOf(Datum id, AlignedId *copy)
{
	auto *value = reinterpret_cast<const struct varlena *>(DatumGetPointer(id));
	if (!VARATT_IS_EXTENDED(value))
		return reinterpret_cast<const JsonbContainer *>(VARDATA(value));
	if (!VARATT_IS_SHORT(value) || VARSIZE_SHORT(value) - VARHDRSZ_SHORT > sizeof copy->bytes)
		return nullptr;
	memcpy(copy->bytes, VARDATA_SHORT(value), VARSIZE_SHORT(value) - VARHDRSZ_SHORT);
	return reinterpret_cast<const JsonbContainer *>(copy->bytes);
}

// The single scalar a raw-scalar jsonb container holds (a one-element array flagged scalar), if
// it is a number or a string.
ScalarId
ScalarOf(const JsonbContainer *root)
{
	if (root == nullptr || !JsonContainerIsScalar(root) || JsonContainerSize(root) != 1)
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
// value, strings in the database collation), everything else by jsonb_cmp itself. Btree calls
// this for every key it passes, so the common case neither detoasts nor allocates.
Datum
IdCompare(FunctionCallInfo fcinfo)
{
	AlignedId copy_a, copy_b;
	ScalarId x = ScalarOf(ContainerOf(PG_GETARG_DATUM(0), &copy_a));
	ScalarId y = ScalarOf(ContainerOf(PG_GETARG_DATUM(1), &copy_b));
	if (x.kind != y.kind || x.kind == ScalarId::kOther)
		return DirectFunctionCall2(jsonb_cmp, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
	if (x.kind == ScalarId::kNumber)
		return DirectFunctionCall2(numeric_cmp, PointerGetDatum(x.data), PointerGetDatum(y.data));
	PG_RETURN_INT32(varstr_cmp(x.data, x.length, y.data, y.length, DEFAULT_COLLATION_OID));
}

} // namespace

STORE_ENTRY(store_id_cmp, IdCompare)
