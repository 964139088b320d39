// Partial keys: parsing, checking, refreshing and evaluating a key's filter (see filter.hpp).
#include "pg/filter.hpp"
#include "pg/canonical.hpp"
#include "pg/doc_shape.hpp"
#include "pg/guard.hpp"
#include "pg/roles.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "access/relation.h"
#include "access/transam.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "rewrite/rewriteManip.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
}

namespace store::pg {

namespace {

// The walkers' callback type as PostgreSQL 15's headers declare it.
using Walker = bool (*)();

// A tree walker's callback as that type (through void (*)(), which matches every function type).
Walker
AsWalker(bool (*walker)(Node *, void *))
{
	return reinterpret_cast<Walker>(reinterpret_cast<void (*)()>(walker));
}

// Sets one setting for the current GUC nest level, as a function's SET clause does.
void
SetForFilter(const char *name, const char *value)
{
	(void)set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
	                        false);
}

// Opens a GUC nest level with fixed settings for reading and printing filters: constants (a
// timestamptz literal, a date, a float) mean and print the same whoever registers or reloads,
// and names resolve in pg_catalog only (no user operator can stand in for a built-in one).
int
EnterFilterSettings()
{
	int nest_level = NewGUCNestLevel();
	SetForFilter("search_path", "pg_catalog, pg_temp");
	SetForFilter("TimeZone", "UTC");
	SetForFilter("DateStyle", "ISO, MDY");
	SetForFilter("IntervalStyle", "postgres");
	SetForFilter("extra_float_digits", "1");
	return nest_level;
}

// Returns to the caller's settings.
void
LeaveFilterSettings(int nest_level)
{
	AtEOXact_GUC(true, nest_level);
}

// The error of a filter PostgreSQL would refuse as a publication row filter.
[[noreturn]] void
RefuseFilter(ParseState *pstate, const Node *node, const char *detail)
{
	ereport(ERROR, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION), errmsg("invalid store filter"),
	                errdetail_internal("%s", detail),
	                errhint("A filter may use the table's columns, constants, built-in operators, types and "
	                        "collations, and immutable built-in functions."),
	                parser_errposition(pstate, exprLocation(node))));
	pg_unreachable();
}

// Refuses subqueries before parse analysis (which would plan them against other tables).
bool
RefuseRawSubquery(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	if (IsA(node, SubLink))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("cannot use subquery in a store filter"),
		                parser_errposition(static_cast<ParseState *>(context), exprLocation(node))));
	return raw_expression_tree_walker(node, AsWalker(RefuseRawSubquery), context);
}

// True for a function a filter may not call: user-defined, or not immutable.
bool
MutableOrUserFunction(Oid function, void *)
{
	return function >= FirstNormalObjectId || func_volatile(function) != PROVOLATILE_IMMUTABLE;
}

// True when an operator expression node uses a user-defined operator.
bool
UsesUserOperator(const Node *node)
{
	switch (nodeTag(node)) {
	case T_OpExpr:
	case T_DistinctExpr:
	case T_NullIfExpr:
		return reinterpret_cast<const OpExpr *>(node)->opno >= FirstNormalObjectId;
	case T_ScalarArrayOpExpr:
		return reinterpret_cast<const ScalarArrayOpExpr *>(node)->opno >= FirstNormalObjectId;
	case T_RowCompareExpr: {
		ListCell *cell;
		foreach (cell, reinterpret_cast<const RowCompareExpr *>(node)->opnos)
			if (lfirst_oid(cell) >= FirstNormalObjectId)
				return true;
		return false;
	}
	default:
		return false;
	}
}

// True for the node kinds a filter may contain (publication row filters' list).
bool
AllowedNodeKind(const Node *node)
{
	switch (nodeTag(node)) {
	case T_Var:
	case T_OpExpr:
	case T_DistinctExpr:
	case T_NullIfExpr:
	case T_ScalarArrayOpExpr:
	case T_RowCompareExpr:
	case T_Const:
	case T_FuncExpr:
	case T_BoolExpr:
	case T_RelabelType:
	case T_CollateExpr:
	case T_CaseExpr:
	case T_CaseTestExpr:
	case T_ArrayExpr:
	case T_RowExpr:
	case T_CoalesceExpr:
	case T_MinMaxExpr:
	case T_XmlExpr:
	case T_NullTest:
	case T_BooleanTest:
	case T_List:
		return true;
	default:
		return false;
	}
}

// Walks an analyzed filter and refuses anything a publication row filter may not contain.
bool
CheckFilterNode(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	auto *pstate = static_cast<ParseState *>(context);
	if (!AllowedNodeKind(node))
		RefuseFilter(pstate, node,
		             "Only columns, constants, built-in operators, built-in data types, built-in collations and "
		             "immutable built-in functions are allowed.");
	if (IsA(node, Var) && reinterpret_cast<Var *>(node)->varattno < 0)
		RefuseFilter(pstate, node, "System columns are not allowed.");
	if (IsA(node, Var) && reinterpret_cast<Var *>(node)->varattno == 0)
		RefuseFilter(pstate, node, "Whole-row references are not allowed.");
	if (UsesUserOperator(node))
		RefuseFilter(pstate, node, "User-defined operators are not allowed.");
	if (!IsA(node, List)) {
		if (exprType(node) >= FirstNormalObjectId)
			RefuseFilter(pstate, node, "User-defined types are not allowed.");
		if (check_functions_in_node(node, MutableOrUserFunction, nullptr))
			RefuseFilter(pstate, node, "User-defined or built-in mutable functions are not allowed.");
		if (exprCollation(node) >= FirstNormalObjectId || exprInputCollation(node) >= FirstNormalObjectId)
			RefuseFilter(pstate, node, "User-defined collations are not allowed.");
	}
	return expression_tree_walker(node, AsWalker(CheckFilterNode), context);
}

// The single expression of "SELECT <filter>", or an error when the text is anything else.
Node *
RawFilter(const char *statement)
{
	List *statements = raw_parser(statement, RAW_PARSE_DEFAULT);
	Node *parsed = list_length(statements) == 1 ? linitial_node(RawStmt, statements)->stmt : nullptr;
	auto *select = parsed != nullptr && IsA(parsed, SelectStmt) ? reinterpret_cast<SelectStmt *>(parsed) : nullptr;
	ResTarget *target = select != nullptr && list_length(select->targetList) == 1
	                        ? linitial_node(ResTarget, select->targetList)
	                        : nullptr;
	if (target == nullptr || target->name != nullptr || select->op != SETOP_NONE || select->distinctClause != NIL ||
	    select->intoClause != nullptr || select->fromClause != NIL || select->whereClause != nullptr ||
	    select->groupClause != NIL || select->havingClause != nullptr || select->windowClause != NIL ||
	    select->sortClause != NIL || select->limitOffset != nullptr || select->limitCount != nullptr ||
	    select->lockingClause != NIL || select->withClause != nullptr || select->valuesLists != NIL)
		ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("a store filter must be one boolean expression"),
		                errhint("For example: filter => 'active AND price > 0'.")));
	return target->val;
}

// Parses and checks filter text over rel's columns: the analyzed boolean expression. Under
// EnterFilterSettings.
Node *
ParseFilter(Relation rel, const char *filter)
{
	char *statement = psprintf("SELECT %s", filter);
	Node *raw = RawFilter(statement);
	// (no source text: positions in the filter would point into the caller's statement instead)
	ParseState *pstate = make_parsestate(nullptr);
	RefuseRawSubquery(raw, pstate);
	ParseNamespaceItem *item = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, nullptr, false, false);
	addNSItemToQuery(pstate, item, false, true, true);
	Node *expr = transformExpr(pstate, raw, EXPR_KIND_OTHER);
	if (pstate->p_hasAggs || contain_aggs_of_level(expr, 0))
		ereport(ERROR,
		        (errcode(ERRCODE_GROUPING_ERROR), errmsg("aggregate functions are not allowed in a store filter"),
		         parser_errposition(pstate, exprLocation(expr))));
	if (pstate->p_hasWindowFuncs || contain_windowfuncs(expr))
		ereport(ERROR, (errcode(ERRCODE_WINDOWING_ERROR), errmsg("window functions are not allowed in a store filter"),
		                parser_errposition(pstate, exprLocation(expr))));
	if (pstate->p_hasTargetSRFs || expression_returns_set(expr))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("set-returning functions are not allowed in a store filter"),
		                parser_errposition(pstate, exprLocation(expr))));
	expr = coerce_to_boolean(pstate, expr, "a store filter");
	assign_expr_collations(pstate, expr);
	CheckFilterNode(expr, pstate);
	free_parsestate(pstate);
	return expr;
}

// The filter as SQL text over rel (prefix: columns as alias.column), under EnterFilterSettings.
char *
DeparseFilter(Relation rel, Node *expr, const char *alias)
{
	List *context = deparse_context_for(alias != nullptr ? alias : RelationGetRelationName(rel), RelationGetRelid(rel));
	return deparse_expression(expr, context, alias != nullptr, false);
}

// Appends every Var of a filter to *(List **) context.
bool
CollectVars(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	if (IsA(node, Var)) {
		auto *vars = static_cast<List **>(context);
		*vars = lappend(*vars, node);
		return false;
	}
	return expression_tree_walker(node, AsWalker(CollectVars), context);
}

// The Vars of a filter.
List *
FilterVars(Node *expr)
{
	List *vars = NIL;
	CollectVars(expr, &vars);
	return vars;
}

// The live attribute of rel a filter's Var reads; nullptr when it was dropped (or never existed).
Form_pg_attribute
LiveAttribute(Relation rel, const Var *var)
{
	TupleDesc desc = RelationGetDescr(rel);
	if (var->varattno < 1 || var->varattno > desc->natts || TupleDescAttr(desc, var->varattno - 1)->attisdropped)
		return nullptr;
	return TupleDescAttr(desc, var->varattno - 1);
}

// True when a filter's Var still reads a live column of the type it was analyzed with.
bool
VarFits(Relation rel, const Var *var)
{
	Form_pg_attribute att = LiveAttribute(rel, var);
	return att != nullptr && att->atttypid == var->vartype && att->atttypmod == var->vartypmod &&
	       att->attcollation == var->varcollid;
}

// True when every column the filter reads is still there with the same type.
bool
FilterFits(Relation rel, Node *expr)
{
	ListCell *cell;
	foreach (cell, FilterVars(expr))
		if (!VarFits(rel, static_cast<Var *>(lfirst(cell))))
			return false;
	return true;
}

// A stored filter node tree, read back (its operators' function OIDs filled in).
Node *
StoredFilter(const char *node)
{
	Node *expr = static_cast<Node *>(stringToNode(node));
	fix_opfuncids(expr);
	return expr;
}

// The (filter, filter_node) record of the calling SQL function.
Datum
FilterRecord(FunctionCallInfo fcinfo, const char *filter, const char *node)
{
	TupleDesc desc;
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "store: a filter function must return a record");
	Datum values[2] = {CStringGetTextDatum(filter), CStringGetTextDatum(node)};
	bool nulls[2] = {false, false};
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
}

// store._parse_filter(source, expression): the filter checked against source, as (canonical
// text, node tree); errors for anything a publication row filter may not contain.
Datum
ParseFilterSql(FunctionCallInfo fcinfo)
{
	Relation rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	int nest_level = EnterFilterSettings();
	Node *expr = ParseFilter(rel, TextDatumGetCString(PG_GETARG_DATUM(1)));
	char *filter = DeparseFilter(rel, expr, nullptr);
	char *node = nodeToString(expr);
	LeaveFilterSettings(nest_level);
	relation_close(rel, NoLock);
	return FilterRecord(fcinfo, filter, node);
}

// The error for DDL that would drop a column key's filter reads.
[[noreturn]] void
RefuseDroppedFilterColumn(Relation rel, const char *key)
{
	ereport(ERROR, (errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
	                errmsg("a column in the filter of store key \"%s\" would be dropped from table \"%s\"", key,
	                       RelationGetRelationName(rel)),
	                errhint("Unregister the key first, or register it again with another filter: "
	                        "SELECT store_unregister('%s');",
	                        key)));
	pg_unreachable();
}

// Names the key whose filter is being read again, in errors from the DDL that retyped its columns.
void
RefreshContext(void *key)
{
	errcontext("reading the filter of store key \"%s\" again for the table's new column types",
	           static_cast<const char *>(key));
}

// store._refresh_filter(source, node, key): the filter of key after DDL on source, as (canonical
// text, node tree). Follows renamed columns; after a column's type changed, reads the filter's
// text again against the new types (refusing it as registration would); refuses (2BP01) a
// dropped column.
Datum
RefreshFilterSql(FunctionCallInfo fcinfo)
{
	Relation rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	char *node = TextDatumGetCString(PG_GETARG_DATUM(1));
	char *key = TextDatumGetCString(PG_GETARG_DATUM(2));
	Node *expr = StoredFilter(node);
	ListCell *cell;
	foreach (cell, FilterVars(expr))
		if (LiveAttribute(rel, static_cast<Var *>(lfirst(cell))) == nullptr)
			RefuseDroppedFilterColumn(rel, key);
	int nest_level = EnterFilterSettings();
	char *filter = DeparseFilter(rel, expr, nullptr);
	if (!FilterFits(rel, expr)) {
		ErrorContextCallback callback = {error_context_stack, RefreshContext, key};
		error_context_stack = &callback;
		expr = ParseFilter(rel, filter);
		filter = DeparseFilter(rel, expr, nullptr);
		node = nodeToString(expr);
		error_context_stack = callback.previous;
	}
	LeaveFilterSettings(nest_level);
	relation_close(rel, NoLock);
	return FilterRecord(fcinfo, filter, node);
}

// Errors (fail closed) when a stored filter no longer fits rel: its columns were dropped or
// retyped behind the store's back (event triggers disabled, or a restore that renumbered them).
void
RequireFilterFits(Relation rel, Node *expr, const char *key)
{
	if (FilterFits(rel, expr))
		return;
	ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
	                errmsg("the filter of store key \"%s\" no longer fits the columns of table \"%s\"", key,
	                       RelationGetRelationName(rel)),
	                errhint("Unregister the key and register it again.")));
}

// store._filter_condition(source, node, key): the filter as a condition over source aliased t
// (every column as t.column), for the queries that rebuild and verify key.
Datum
FilterConditionSql(FunctionCallInfo fcinfo)
{
	Relation rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	Node *expr = StoredFilter(TextDatumGetCString(PG_GETARG_DATUM(1)));
	RequireFilterFits(rel, expr, TextDatumGetCString(PG_GETARG_DATUM(2)));
	int nest_level = EnterFilterSettings();
	char *condition = DeparseFilter(rel, expr, "t");
	LeaveFilterSettings(nest_level);
	relation_close(rel, NoLock);
	PG_RETURN_TEXT_P(cstring_to_text(condition));
}

// True when store.keys has the filter_node column (the store's SQL objects are 0.3.0's).
bool
StoreHasFilters()
{
	Oid schema = get_namespace_oid(sql::kSchema, true);
	Oid keys = OidIsValid(schema) ? get_relname_relid(sql::kKeysTable, schema) : InvalidOid;
	return OidIsValid(keys) && get_attnum(keys, sql::kFilterNodeColumn) != InvalidAttrNumber;
}

// The kept plan reading a key's filter node tree, prepared (again) when missing or invalidated.
SPIPlanPtr
FilterPlan()
{
	static SPIPlanPtr plan = nullptr;
	if (plan != nullptr && SPI_plan_is_valid(plan))
		return plan;
	if (plan != nullptr)
		SPI_freeplan(plan);
	plan = nullptr;
	Oid argtypes[1] = {TEXTOID};
	SPIPlanPtr prepared = SPI_prepare(sql::kKeyFilterNode, 1, argtypes);
	if (prepared == nullptr)
		elog(ERROR, "store: preparing the filter query failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(prepared);
	plan = prepared;
	return plan;
}

// The stored filter node tree of store_key (latest registration, read as the store's owner) as a
// string allocated in context; nullptr when it has none.
char *
ReadFilterNode(const char *store_key, MemoryContext context)
{
	Datum args[1] = {CStringGetTextDatum(store_key)};
	SavedUser saved = BecomeStoreOwner();
	int rc = SPI_execute_snapshot(FilterPlan(), args, nullptr, GetLatestSnapshot(), InvalidSnapshot, true, false, 1);
	RestoreUser(saved);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "store: reading store.keys failed: %s", SPI_result_code_string(rc));
	bool is_null = true;
	Datum node = SPI_processed == 1 ? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null) : 0;
	if (is_null)
		return nullptr;
	MemoryContext caller = MemoryContextSwitchTo(context);
	char *result = TextDatumGetCString(node);
	MemoryContextSwitchTo(caller);
	return result;
}

// True when row matches the prepared filter (NULL counts as false).
bool
RowMatches(Filter *filter, HeapTuple row)
{
	ResetExprContext(filter->context);
	ExecStoreHeapTuple(row, filter->slot, false);
	filter->context->ecxt_scantuple = filter->slot;
	bool matches = ExecQual(filter->qual, filter->context);
	ExecClearTuple(filter->slot);
	return matches;
}

} // namespace

Filter *
LoadFilter(Relation rel, const char *store_key, MemoryContext context)
{
	if (!StoreHasFilters())
		return nullptr;
	char *node = ReadFilterNode(store_key, context);
	if (node == nullptr)
		return nullptr;
	MemoryContext caller = MemoryContextSwitchTo(context);
	Node *expr = StoredFilter(node);
	RequireFilterFits(rel, expr, store_key);
	auto *filter = static_cast<Filter *>(palloc(sizeof(Filter)));
	filter->qual = ExecInitQual(list_make1(expr), nullptr);
	filter->context = CreateStandaloneExprContext();
	// a copy with the table's missing values (columns added with a default after rows were written)
	filter->slot = MakeSingleTupleTableSlot(CreateTupleDescCopyConstr(RelationGetDescr(rel)), &TTSOpsHeapTuple);
	MemoryContextSwitchTo(caller);
	return filter;
}

void
KeepMatchingRows(const DocShape *shape, HeapTuple *old_row, HeapTuple *new_row)
{
	if (shape->filter == nullptr)
		return;
	if (*old_row != nullptr && !RowMatches(shape->filter, *old_row))
		*old_row = nullptr;
	if (*new_row != nullptr && !RowMatches(shape->filter, *new_row))
		*new_row = nullptr;
}

} // namespace store::pg

STORE_ENTRY(store_parse_filter, store::pg::ParseFilterSql)
STORE_ENTRY(store_refresh_filter, store::pg::RefreshFilterSql)
STORE_ENTRY(store_filter_condition, store::pg::FilterConditionSql)
