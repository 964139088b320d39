// Resolving document shapes in this database: store._explain_shape and store._shape_query.
#include "pg/shape_resolve.hpp"
#include "core/error.hpp"
#include "pg/args.hpp"
#include "pg/guard.hpp"
#include "pg/reader.hpp"
#include "pg/relationships.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

#include <string>

extern "C" {
#include "catalog/pg_constraint.h"
#include "tcop/deparse_utility.h"
}

namespace store::pg {

core::ResolvedShape
ResolveShapeFor(Oid root, std::string_view shape_text)
{
	core::Shape shape = core::ParseShape(shape_text);
	PgCatalog catalog;
	return core::ResolveShape(shape, root, catalog);
}

} // namespace store::pg

namespace {

using namespace store;
using pg::TextArg;

// The source table argument; NULL is refused by name.
Oid
SourceArg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("source table must not be NULL")));
	return PG_GETARG_OID(0);
}

// A text datum of a C string, or NULL when empty_is_null and it is empty.
Datum
TextOrNull(const char *value, bool empty_is_null, bool *is_null)
{
	*is_null = empty_is_null && value[0] == '\0';
	return *is_null ? (Datum)0 : CStringGetTextDatum(value);
}

// A name datum of a C string (palloc'd NAMEDATALEN bytes).
Datum
NameOf(const char *value)
{
	Name name = static_cast<Name>(palloc0(NAMEDATALEN));
	namestrcpy(name, value);
	return NameGetDatum(name);
}

// Appends one explain row for node to the SRF's tuplestore (no C++ object is made here).
void
PutExplainRow(ReturnSetInfo *rsinfo, const core::ResolvedNode &node)
{
	constexpr int kColumns = 8;
	Datum values[kColumns];
	bool nulls[kColumns] = {false, false, false, false, false, false, false, false};
	bool edge = node.kind != core::EdgeKind::kRoot;
	bool many_to_many = node.kind == core::EdgeKind::kManyToMany;
	values[0] = TextOrNull(node.path.c_str(), false, &nulls[0]);
	values[1] = ObjectIdGetDatum(node.table);
	values[2] = CStringGetTextDatum(core::EdgeKindName(node.kind));
	values[3] = edge ? NameOf(node.join.fk.name.c_str()) : (Datum)0;
	nulls[3] = !edge;
	values[4] = ObjectIdGetDatum(node.junction);
	nulls[4] = !many_to_many;
	values[5] = many_to_many ? NameOf(node.far_join.fk.name.c_str()) : (Datum)0;
	nulls[5] = !many_to_many;
	values[6] = TextOrNull(node.join_text.c_str(), true, &nulls[6]);
	values[7] = BoolGetDatum(node.index_ok);
	nulls[7] = !edge;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

// store._explain_shape(source, shape): the shape resolved for source, one row per object (the
// root first, then depth first in document order): path, table, kind, constraint, junction and its
// constraint to the embedded table (many-to-many), the join, whether its lookups are indexed.
Datum
ExplainShape(FunctionCallInfo fcinfo)
{
	Oid source = SourceArg(fcinfo);
	std::string_view shape_text = TextArg(fcinfo, 1, "shape");
	InitMaterializedSRF(fcinfo, 0);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	const core::ResolvedShape resolved = pg::ResolveShapeFor(source, shape_text);
	for (const core::ResolvedNode *node : core::ResolvedNodes(resolved))
		pg::PgCall([&] { PutExplainRow(rsinfo, *node); });
	return (Datum)0;
}

// store._shape_query(source, shape, root_alias): the SQL expression (json) rendering the document
// of source's row named root_alias, e.g. for "SELECT <it> FROM source AS r".
Datum
ShapeQueryText(FunctionCallInfo fcinfo)
{
	Oid source = SourceArg(fcinfo);
	std::string_view shape_text = TextArg(fcinfo, 1, "shape");
	std::string_view alias = TextArg(fcinfo, 2, "root alias");
	const std::string query = core::ShapeQuery(pg::ResolveShapeFor(source, shape_text), std::string(alias));
	Datum result = 0;
	pg::PgCall([&] { result = PointerGetDatum(cstring_to_text_with_len(query.data(), (int)query.size())); });
	return result;
}

// The shape of key's documents, after checking the caller may read the key (as store_get does):
// a nested key's shape, or a flat key's columns as a shape ("*" for all). palloc'd.
char *
ReadableKeyShape(FunctionCallInfo fcinfo, Oid *source)
{
	MemoryContext caller = CurrentMemoryContext;
	pg::ConnectSpi();
	*source = pg::ReadableSource(PG_GETARG_DATUM(0), PG_ARGISNULL(0), GetUserId());
	Oid types[1] = {TEXTOID};
	Datum args[1] = {PG_GETARG_DATUM(0)};
	pg::SavedUser saved = pg::BecomeStoreOwner();
	int rc = SPI_execute_with_args(pg::sql::kKeyShapeText, 1, types, args, nullptr, true, 1);
	pg::RestoreUser(saved);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "store: reading the key's shape failed: %s", SPI_result_code_string(rc));
	char *shape = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return shape;
}

// store_explain(key): the resolved tree of a key's documents (as store._explain_shape shows it),
// for any role that may read the key.
Datum
Explain(FunctionCallInfo fcinfo)
{
	Oid source;
	char *shape = ReadableKeyShape(fcinfo, &source);
	InitMaterializedSRF(fcinfo, 0);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	const core::ResolvedShape resolved = pg::ResolveShapeFor(source, shape);
	for (const core::ResolvedNode *node : core::ResolvedNodes(resolved))
		pg::PgCall([&] { PutExplainRow(rsinfo, *node); });
	return (Datum)0;
}

// The rename stmt's names and target: filled for a RENAME of a column, table or constraint of a
// table (false otherwise). Only trivially destructible locals; names are palloc'd by the parser.
bool
RenamedObject(const CollectedCommand *command, int *kind, Oid *object, int *attnum, const char **old_name,
              const char **new_name)
{
	if (command == nullptr || command->type != SCT_Simple || !IsA(command->parsetree, RenameStmt))
		return false;
	const auto *stmt = reinterpret_cast<const RenameStmt *>(command->parsetree);
	const ObjectAddress &address = command->d.simple.address;
	*object = address.objectId;
	*attnum = address.objectSubId;
	*new_name = stmt->newname;
	switch (stmt->renameType) {
	case OBJECT_COLUMN:
		*kind = (int)core::CatalogRename::Kind::kColumn;
		*old_name = stmt->subname;
		return address.classId == RelationRelationId && *attnum > 0;
	case OBJECT_TABLE:
		*kind = (int)core::CatalogRename::Kind::kTable;
		*old_name = stmt->relation->relname;
		return address.classId == RelationRelationId;
	case OBJECT_TABCONSTRAINT:
		*kind = (int)core::CatalogRename::Kind::kConstraint;
		*old_name = stmt->subname;
		return address.classId == ConstraintRelationId;
	default:
		return false;
	}
}

// store._nested_renamed(source, nested, command): the nested key's shape text after command, a
// collected DDL command (pg_event_trigger_ddl_commands()): when it renamed a column, table or
// foreign key the shape names, the shape with the new name (core::RenameInShape); otherwise, or
// when the shape did not resolve before it either, nested unchanged.
Datum
NestedRenamed(FunctionCallInfo fcinfo)
{
	Oid source = SourceArg(fcinfo);
	std::string_view shape_text = TextArg(fcinfo, 1, "shape");
	const auto *command = PG_ARGISNULL(2) ? nullptr : reinterpret_cast<const CollectedCommand *>(PG_GETARG_POINTER(2));
	int kind = 0, attnum = 0;
	Oid object = InvalidOid;
	const char *old_name = nullptr, *new_name = nullptr;
	bool renamed = false;
	pg::PgCall([&] { renamed = RenamedObject(command, &kind, &object, &attnum, &old_name, &new_name); });
	std::string result(shape_text);
	if (renamed && old_name != nullptr && new_name != nullptr) {
		core::CatalogRename rename;
		rename.kind = static_cast<core::CatalogRename::Kind>(kind);
		(rename.kind == core::CatalogRename::Kind::kConstraint ? rename.constraint : rename.table) = object;
		rename.attnum = attnum;
		rename.old_name = old_name;
		rename.new_name = new_name;
		core::Shape shape = core::ParseShape(shape_text);
		pg::PgCatalog now;
		core::CatalogBeforeRename before(now, rename);
		try {
			const core::ResolvedShape resolved = core::ResolveShape(shape, source, before);
			result = core::RenderShape(core::RenameInShape(shape, resolved, rename));
		} catch (const core::Error &) {
			// it did not resolve before the rename either: left to the DDL handling's checks
		}
	}
	Datum datum = 0;
	pg::PgCall([&] { datum = PointerGetDatum(cstring_to_text_with_len(result.data(), (int)result.size())); });
	return datum;
}

} // namespace

STORE_ENTRY(store_explain, Explain)
STORE_ENTRY(store_explain_shape, ExplainShape)
STORE_ENTRY(store_shape_query, ShapeQueryText)
STORE_ENTRY(store_nested_renamed, NestedRenamed)
