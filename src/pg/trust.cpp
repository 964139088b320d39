// Whose code renders a document: see trust.hpp.
#include "pg/trust.hpp"
#include "pg/canonical.hpp"
#include "pg/doc_shape.hpp"

extern "C" {
#include "catalog/pg_proc.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/regproc.h"
#include "utils/typcache.h"
}

namespace store::pg {

namespace {

// The owner of function fn.
Oid
FunctionOwner(Oid fn)
{
	HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "store: cache lookup failed for function %u", fn);
	Oid owner = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	return owner;
}

// The function of type's own cast to json, as to_json finds it (built-in types have none it uses).
Oid
CastToJson(Oid type)
{
	if (type < FirstNormalObjectId)
		return InvalidOid;
	Oid cast_function = InvalidOid;
	if (find_coercion_pathway(JSONOID, type, COERCION_EXPLICIT, &cast_function) != COERCION_PATH_FUNC)
		return InvalidOid;
	return cast_function;
}

Oid UntrustedCast(Oid type, Oid table_owner);

// The first untrusted cast reachable from the attributes of composite type.
Oid
UntrustedCastInRow(Oid type, Oid table_owner)
{
	TupleDesc row = lookup_rowtype_tupdesc(type, -1);
	Oid found = InvalidOid;
	for (int i = 0; i < row->natts && !OidIsValid(found); i++)
		if (!TupleDescAttr(row, i)->attisdropped)
			found = UntrustedCast(TupleDescAttr(row, i)->atttypid, table_owner);
	ReleaseTupleDesc(row);
	return found;
}

// The first cast to json that rendering type would run (through domains, array elements and
// composite attributes, as to_json walks them) whose function's owner lacks table_owner's
// privileges; InvalidOid when there is none.
Oid
UntrustedCast(Oid type, Oid table_owner)
{
	check_stack_depth();
	type = getBaseType(type);
	Oid element = get_element_type(type);
	if (OidIsValid(element))
		return UntrustedCast(element, table_owner);
	if (type_is_rowtype(type))
		return type == RECORDOID ? InvalidOid : UntrustedCastInRow(type, table_owner);
	Oid cast_function = CastToJson(type);
	if (OidIsValid(cast_function) && !has_privs_of_role(FunctionOwner(cast_function), table_owner))
		return cast_function;
	return InvalidOid;
}

// The live columns of relid, or the chosen ones, plus the primary key's, as attribute numbers.
List *
RenderedColumns(Oid relid, const AttrNumber *attnums, int count, const AttrNumber *id_attnums, int nkeys)
{
	List *columns = NIL;
	for (int i = 0; i < nkeys; i++)
		columns = lappend_int(columns, id_attnums[i]);
	for (int i = 0; i < count; i++)
		columns = lappend_int(columns, attnums[i]);
	if (count > 0)
		return columns;
	Relation rel = table_open(relid, AccessShareLock);
	TupleDesc desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			columns = lappend_int(columns, TupleDescAttr(desc, i)->attnum);
	table_close(rel, AccessShareLock);
	return columns;
}

} // namespace

void
RequireTrustedRendering(Oid relid, Oid table_owner, AttrNumber attnum)
{
	Oid cast_function = UntrustedCast(get_atttype(relid, attnum), table_owner);
	if (!OidIsValid(cast_function))
		return;
	ereport(ERROR,
	        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
	         errmsg("column \"%s\" of table \"%s\" would be rendered by function %s, which belongs to role \"%s\"",
	                get_attname(relid, attnum, false), get_rel_name(relid), format_procedure(cast_function),
	                GetUserNameFromId(FunctionOwner(cast_function), false)),
	         errdetail("The store renders documents with the rights of the table's owner \"%s\"; a cast to json "
	                   "written by a role without those rights would run with them.",
	                   GetUserNameFromId(table_owner, false)),
	         errhint("Drop the cast or give its function to the table's owner (or a superuser), or leave the "
	                 "column out of the key's columns.")));
}

void
RequireRenderableSource(Oid relid, const AttrNumber *attnums, int count)
{
	Relation rel = table_open(relid, AccessShareLock);
	AttrNumber *id_attnums;
	int nkeys = PrimaryKeyAttnums(rel, &id_attnums);
	Oid owner = rel->rd_rel->relowner;
	table_close(rel, AccessShareLock);
	for (int i = 0; i < nkeys; i++)
		RequireCanonicalKeyType(relid, id_attnums[i]);
	ListCell *cell;
	foreach (cell, RenderedColumns(relid, attnums, count, id_attnums, nkeys))
		RequireTrustedRendering(relid, owner, (AttrNumber)lfirst_int(cell));
}

} // namespace store::pg
