// Internal SQL-callable helpers used by the extension's SQL functions (schema "store").
#include "core/key.hpp"
#include "core/version.hpp"
#include "pg/doc_shape.hpp"
#include "pg/guard.hpp"
#include "pg/xact.hpp"

#include <string_view>

namespace {

using namespace store;

// The text argument n as a string_view over a palloc'd copy; NULL is refused with what it names.
std::string_view
TextArg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", what)));
	text *arg = PG_GETARG_TEXT_PP(n);
	return {VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg)};
}

// store._check_key(key): errors unless key is a well-formed, unreserved store key.
Datum
CheckKey(FunctionCallInfo fcinfo)
{
	core::CheckKey(TextArg(fcinfo, 0, "store key"));
	PG_RETURN_VOID();
}

// store._parse_version(after): the version a client passed back, as bigint.
Datum
ParseVersion(FunctionCallInfo fcinfo)
{
	PG_RETURN_INT64(core::ParseVersion(TextArg(fcinfo, 0, "version")));
}

// store._item_id(source, id): the entry id (jsonb) of the row whose primary key reads as id.
Datum
EntryIdOf(FunctionCallInfo fcinfo)
{
	Oid relid = PG_GETARG_OID(0);
	std::string_view id = TextArg(fcinfo, 1, "id");
	char *id_text = pnstrdup(id.data(), id.size());
	Relation rel = table_open(relid, AccessShareLock);
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), pg::PrimaryKeyAttnum(rel) - 1);
	Oid input_fn, input_param;
	getTypeInputInfo(att->atttypid, &input_fn, &input_param);
	Datum value = OidInputFunctionCall(input_fn, id_text, input_param, att->atttypmod);
	FmgrInfo to_jsonb;
	pg::InitToJsonb(&to_jsonb, att->atttypid, att->atttypmod, att->attcollation, CurrentMemoryContext);
	Datum result = FunctionCall1(&to_jsonb, value);
	table_close(rel, AccessShareLock);
	PG_RETURN_DATUM(result);
}

// store._note_change(key, version): a SQL-side store change, for the one NOTIFY at commit.
Datum
NoteChange(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("version must not be NULL")));
	std::string_view key = PG_ARGISNULL(0) ? std::string_view() : TextArg(fcinfo, 0, "store key");
	char *key_text = pnstrdup(key.data(), key.size());
	pg::NoteChange(key_text, PG_GETARG_INT64(1));
	PG_RETURN_VOID();
}

// store._json_unchecked(text): text the store assembled from jsonb output, typed as json without
// re-parsing it (json and text share one representation; the snapshot would otherwise parse twice).
Datum
JsonUnchecked(FunctionCallInfo fcinfo)
{
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

} // namespace

extern "C" {
PG_FUNCTION_INFO_V1(store_check_key);
PG_FUNCTION_INFO_V1(store_parse_version);
PG_FUNCTION_INFO_V1(store_item_id);
PG_FUNCTION_INFO_V1(store_note_change);
PG_FUNCTION_INFO_V1(store_json_unchecked);

Datum
store_check_key(PG_FUNCTION_ARGS)
{
	return pg::CallGuarded("store._check_key", [&] { return CheckKey(fcinfo); });
}

Datum
store_parse_version(PG_FUNCTION_ARGS)
{
	return pg::CallGuarded("store._parse_version", [&] { return ParseVersion(fcinfo); });
}

Datum
store_item_id(PG_FUNCTION_ARGS)
{
	return pg::CallGuarded("store._item_id", [&] { return EntryIdOf(fcinfo); });
}

Datum
store_note_change(PG_FUNCTION_ARGS)
{
	return pg::CallGuarded("store._note_change", [&] { return NoteChange(fcinfo); });
}
}

extern "C" Datum
store_json_unchecked(PG_FUNCTION_ARGS)
{
	return JsonUnchecked(fcinfo);
}
