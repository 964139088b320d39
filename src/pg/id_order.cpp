// The btree order of entry ids: store._id_cmp, the comparison function of operator class
// store.id_ops, which indexes store.entries. It orders jsonb exactly as jsonb_cmp does (the class
// reuses jsonb's own <, =, > operators), but compares the ids a store holds - single numbers or
// strings, and arrays of scalars for composite keys - directly from their JEntry arrays, without
// jsonb_cmp's iterators; ids holding objects or nested arrays go to jsonb_cmp.
//
// jsonb_cmp (compareJsonbContainers in jsonb_util.c) walks both values in step. For two arrays -
// a single scalar is a one-element "raw scalar" array - it first compares the array headers (a raw
// scalar sorts before a real array, but a differing element count overrides that: more elements
// sort after fewer), then the elements in storage order: scalars of different types by type
// (null < string < number < boolean), scalars of one type by compareJsonbScalarValue.
#include "pg/guard.hpp"

extern "C" {
#include "catalog/pg_collation.h"
#include "utils/varlena.h"
}

namespace {

// Room for a short id copied to an aligned address (a 1-byte header holds at most 126 bytes).
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

// The order of two array headers as compareJsonbContainers decides it at WJB_BEGIN_ARRAY: a raw
// scalar sorts before a real array, unless the element counts differ (the count wins, so [] < 1).
int
CompareArrayHeaders(const JsonbContainer *a, const JsonbContainer *b)
{
	int order = 0;
	if (JsonContainerIsScalar(a) != JsonContainerIsScalar(b))
		order = JsonContainerIsScalar(a) ? -1 : 1;
	if (JsonContainerSize(a) != JsonContainerSize(b))
		order = JsonContainerSize(a) > JsonContainerSize(b) ? 1 : -1;
	return order;
}

// A scalar element of an array id: its JEntry and its bytes (a string's or a numeric's).
struct Element {
	JEntry entry;
	const char *data;
	int length; // the string's length
};

// A position in an array id's elements, read in storage order without allocating.
struct ElementCursor {
	const JsonbContainer *array;
	const char *base; // the elements' data, after the JEntry array
	uint32 offset;    // the next element's data offset from base
	int index;        // the next element
};

// A cursor at the first element of array.
ElementCursor
ElementsOf(const JsonbContainer *array)
{
	return {array, reinterpret_cast<const char *>(&array->children[JsonContainerSize(array)]), 0, 0};
}

// The cursor's element, then steps past it: its data starts at offset (a numeric at the next int
// boundary, as fillJsonbValue reads it) and ends at the JEntry's end offset or after its length.
Element
NextElement(ElementCursor *cursor)
{
	JEntry entry = cursor->array->children[cursor->index++];
	uint32 start = cursor->offset;
	JBE_ADVANCE_OFFSET(cursor->offset, entry);
	uint32 data_start = JBE_ISNUMERIC(entry) ? INTALIGN(start) : start;
	return {entry, cursor->base + data_start, static_cast<int>(cursor->offset - start)};
}

// The rank of a scalar element's type in jsonb's order (enum jbvType: null, string, numeric, bool).
int
TypeRank(JEntry entry)
{
	if (JBE_ISNULL(entry))
		return 0;
	if (JBE_ISSTRING(entry))
		return 1;
	if (JBE_ISNUMERIC(entry))
		return 2;
	return 3;
}

// Compares two scalar elements as compareJsonbContainers does: by type rank when the types
// differ, else as compareJsonbScalarValue (strings in the database's default collation,
// numbers by value so 1 = 1.0, false < true, nulls equal).
int
CompareScalars(const Element &a, const Element &b)
{
	int rank_a = TypeRank(a.entry), rank_b = TypeRank(b.entry);
	if (rank_a != rank_b)
		return rank_a > rank_b ? 1 : -1;
	if (JBE_ISSTRING(a.entry))
		return varstr_cmp(a.data, a.length, b.data, b.length, DEFAULT_COLLATION_OID);
	if (JBE_ISNUMERIC(a.entry))
		return DatumGetInt32(DirectFunctionCall2(numeric_cmp, PointerGetDatum(a.data), PointerGetDatum(b.data)));
	if (JBE_ISBOOL(a.entry) && JBE_ISBOOL_TRUE(a.entry) != JBE_ISBOOL_TRUE(b.entry))
		return JBE_ISBOOL_TRUE(a.entry) ? 1 : -1;
	return 0;
}

// Compares two arrays of equal headers element by element into *order, as jsonb_cmp would;
// false when it reaches a nested array or object before they differ (jsonb_cmp decides those).
bool
CompareScalarElements(const JsonbContainer *a, const JsonbContainer *b, int *order)
{
	ElementCursor cursor_a = ElementsOf(a), cursor_b = ElementsOf(b);
	for (uint32 i = 0; i < JsonContainerSize(a); i++) {
		Element x = NextElement(&cursor_a), y = NextElement(&cursor_b);
		if (JBE_ISCONTAINER(x.entry) || JBE_ISCONTAINER(y.entry))
			return false;
		if ((*order = CompareScalars(x, y)) != 0)
			return true;
	}
	*order = 0;
	return true;
}

// Compares two ids directly into *order when both are arrays (a single scalar is a raw-scalar
// array) whose elements up to the first difference are scalars; false sends them to jsonb_cmp.
bool
CompareFlatIds(const JsonbContainer *a, const JsonbContainer *b, int *order)
{
	if (a == nullptr || b == nullptr || !JsonContainerIsArray(a) || !JsonContainerIsArray(b))
		return false;
	if ((*order = CompareArrayHeaders(a, b)) != 0)
		return true;
	return CompareScalarElements(a, b, order);
}

// Compares two ids as jsonb_cmp does. Btree calls this for every key it passes, so single
// scalars and composite ids (arrays of scalars) neither detoast nor allocate; ids with
// objects or nested arrays, and compressed or external ones, go to jsonb_cmp itself.
Datum
IdCompare(FunctionCallInfo fcinfo)
{
	AlignedId copy_a, copy_b;
	int order;
	if (CompareFlatIds(ContainerOf(PG_GETARG_DATUM(0), &copy_a), ContainerOf(PG_GETARG_DATUM(1), &copy_b), &order))
		PG_RETURN_INT32(order);
	return DirectFunctionCall2(jsonb_cmp, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
}

} // namespace

STORE_ENTRY(store_id_cmp, IdCompare)
