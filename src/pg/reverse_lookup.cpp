// The reverse lookups of a document shape in this database (core/reverse_lookup.hpp), shown by
// the internal SQL function store._reverse_lookups: for each place a table occurs in the shape,
// the statement mapping that table's changed rows to the ids of the documents showing them.
#include "pg/guard.hpp"
#include "pg/relationships.hpp"

#include "core/reverse_lookup.hpp"

#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

namespace {

using namespace store;

// The text argument n as a string_view over its (detoasted) bytes; NULL is refused by name.
std::string_view
TextArg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", what)));
	text *arg = PG_GETARG_TEXT_PP(n);
	return {VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg)};
}

// The source table argument; NULL is refused by name.
Oid
SourceArg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("source table must not be NULL")));
	return PG_GETARG_OID(0);
}

// A text[] datum of names (palloc'd; no C++ object is made here).
Datum
TextArray(const std::vector<std::string> &names)
{
	int count = (int)names.size();
	auto *items = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, 1)));
	for (int i = 0; i < count; i++)
		items[i] = CStringGetTextDatum(names[(std::size_t)i].c_str());
	return PointerGetDatum(construct_array(items, count, TEXTOID, -1, false, TYPALIGN_INT));
}

// Appends one row for lookup to the SRF's tuplestore (no C++ object is made here).
void
PutLookupRow(ReturnSetInfo *rsinfo, const core::ReverseLookup &lookup)
{
	constexpr int kColumns = 5;
	Datum values[kColumns];
	bool nulls[kColumns] = {false, false, false, false, false};
	values[0] = CStringGetTextDatum(lookup.path.c_str());
	values[1] = ObjectIdGetDatum(lookup.table);
	values[2] = TextArray(lookup.column_names);
	values[3] = TextArray(lookup.watched_names);
	values[4] = CStringGetTextDatum(lookup.sql.c_str());
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

// The shape resolved for root and its reverse lookups, from one view of the catalog.
std::vector<core::ReverseLookup>
LookupsFor(Oid root, std::string_view shape_text)
{
	core::Shape shape = core::ParseShape(shape_text);
	pg::PgCatalog catalog;
	return core::ReverseLookups(core::ResolveShape(shape, root, catalog), catalog);
}

// store._reverse_lookups(source, shape): one row per place a table occurs in the shape resolved for
// source (the root first, then depth first in document order; a many-to-many object's junction
// right after it): the object's path, the table, the columns whose values (one array per column,
// of its type) the statement takes as $1..$n, the columns whose change can alter a document, and
// the statement (SELECT DISTINCT id: jsonb).
Datum
ReverseLookupRows(FunctionCallInfo fcinfo)
{
	Oid source = SourceArg(fcinfo);
	std::string_view shape_text = TextArg(fcinfo, 1, "shape");
	InitMaterializedSRF(fcinfo, 0);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	const std::vector<core::ReverseLookup> lookups = LookupsFor(source, shape_text);
	for (const core::ReverseLookup &lookup : lookups)
		pg::PgCall([&] { PutLookupRow(rsinfo, lookup); });
	return (Datum)0;
}

} // namespace

STORE_ENTRY(store_reverse_lookups, ReverseLookupRows)
