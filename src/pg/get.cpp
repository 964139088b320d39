// store_get(key, id): one document, if the caller may read the key (and, under row-level
// security, the row); and store._item_id, which reads an id given as text as store_get does.
#include "pg/canonical.hpp"
#include "pg/doc_shape.hpp"
#include "pg/guard.hpp"
#include "pg/kept_plan.hpp"
#include "pg/nested.hpp"
#include "pg/reader.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "utils/rls.h"
#include "utils/snapmgr.h"
}

namespace {

using namespace store;

// The entry id (jsonb) of a key value given as text, read with the input function of type's
// base type (a domain's input would run its CHECK constraints, user code) as the current user.
Datum
EntryIdFromText(Oid type, const char *id_text)
{
	if (!pg::IsCanonicalKeyType(type))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("store keys with primary keys of type %s cannot be read by id", format_type_be(type)),
		                errhint("Unregister the key; ALTER EXTENSION store UPDATE refuses such keys.")));
	type = getBaseType(type);
	Oid input_fn, input_param;
	getTypeInputInfo(type, &input_fn, &input_param);
	Datum value = OidInputFunctionCall(input_fn, const_cast<char *>(id_text), input_param, -1);
	FmgrInfo to_jsonb;
	pg::InitToJson(&to_jsonb, F_TO_JSONB, type, -1, InvalidOid, CurrentMemoryContext);
	int nest_level = pg::EnterCanonicalOutput();
	Datum id = FunctionCall1(&to_jsonb, value);
	pg::LeaveCanonicalOutput(nest_level);
	return id;
}

// The text of one element of a composite id given as a JSON array (a string's content, a
// number's or boolean's text); errors for anything else.
const char *
IdElementText(const JsonbValue &element, const char *id_text)
{
	switch (element.type) {
	case jbvString:
		return pnstrdup(element.val.string.val, element.val.string.len);
	case jbvNumeric:
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(element.val.numeric)));
	case jbvBool:
		return element.val.boolean ? "true" : "false";
	default:
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
		                errmsg("invalid id for a composite primary key: %s", id_text),
		                errhint("Give the key's values as a JSON array of strings and numbers, in key-column "
		                        "order, e.g. [1,23].")));
	}
	return nullptr;
}

// The entry id (jsonb array) of a composite key value given as the text of a JSON array: each
// element read with the input function of its key column's type (key_types, in key order).
Datum
CompositeIdFromText(const Oid *key_types, int nkeys, const char *id_text)
{
	Jsonb *given = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(id_text)));
	if (!JB_ROOT_IS_ARRAY(given) || JB_ROOT_IS_SCALAR(given) || (int)JB_ROOT_COUNT(given) != nkeys)
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
		                errmsg("invalid id for a composite primary key of %d columns: %s", nkeys, id_text),
		                errhint("Give the key's values as a JSON array of strings and numbers, in key-column "
		                        "order, e.g. [1,23].")));
	Datum *parts = static_cast<Datum *>(palloc(sizeof(Datum) * nkeys));
	for (int i = 0; i < nkeys; i++) {
		JsonbValue *element = getIthJsonbValueFromContainer(&given->root, i);
		parts[i] = EntryIdFromText(key_types[i], IdElementText(*element, id_text));
	}
	return pg::JsonbArrayOf(parts, nkeys);
}

// The entry id (jsonb) of an id given as text for the key of source: its primary key's types
// (the table's, as documents are rendered now) read id_text.
Datum
KeyIdFromText(Oid source, const char *id_text)
{
	Relation rel = table_open(source, AccessShareLock);
	AttrNumber *attnums;
	int nkeys = pg::PrimaryKeyAttnums(rel, &attnums);
	Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * nkeys));
	for (int i = 0; i < nkeys; i++)
		types[i] = TupleDescAttr(RelationGetDescr(rel), attnums[i] - 1)->atttypid;
	table_close(rel, AccessShareLock);
	if (nkeys == 1)
		return EntryIdFromText(types[0], id_text);
	return CompositeIdFromText(types, nkeys, id_text);
}

// store._item_id(id_type, id): the entry id (jsonb) of a key value given as text.
Datum
EntryIdOf(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("id must not be NULL")));
	PG_RETURN_DATUM(EntryIdFromText(PG_GETARG_OID(0), TextDatumGetCString(PG_GETARG_DATUM(1))));
}

// The stored document of id (jsonb) in key, as text, if row-level security lets reader see it
// (visible: the ids it may see; NULL: not filtered); NULL when none. Read as the store owner.
Datum
VisibleDocument(Datum key, Datum id, Datum visible, bool visible_is_null, bool *is_null)
{
	Oid types[3] = {TEXTOID, JSONBOID, JSONBOID};
	Datum args[3] = {key, id, visible};
	const char nulls[4] = {' ', ' ', visible_is_null ? 'n' : ' ', '\0'};
	return pg::SingleValue(pg::ExecuteForReader(pg::sql::kGetDocument, 3, types, args, nulls), is_null);
}

const Oid kGetUnfilteredArgtypes[2] = {TEXTOID, JSONBOID};

// The document of id in key for a reader row-level security does not filter: a plan kept per backend.
pg::KeptPlan get_unfiltered_plan = {pg::sql::kGetDocumentUnfiltered, 2, kGetUnfilteredArgtypes, nullptr};

// The stored document of id (jsonb) in key as text, as reader may see it (NULL: none). Row-level
// security on source decides it for reader as store._visibility_query does (store._rls_active):
// only then are the visible ids queried; otherwise one index lookup through a kept plan.
Datum
ReaderDocument(Oid source, Oid reader, Datum key, Datum id, bool *is_null)
{
	if (check_enable_rls(source, reader, true) == RLS_ENABLED) {
		bool visible_is_null;
		Datum visible = pg::VisibleIds(reader, key, false, &visible_is_null);
		return VisibleDocument(key, id, visible, visible_is_null, is_null);
	}
	Datum args[2] = {key, id};
	return pg::SingleValue(pg::ExecuteKeptPlan(&get_unfiltered_plan, args, true), is_null);
}

// store_get(key, id): one document, if the caller may read the key (and, under row-level
// security, the row). The id is read as the caller: its type's input and casts are the table
// owner's code, which must not run as the store's owner.
Datum
Get(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("id must not be NULL")));
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store key must not be NULL")));
	// read-your-writes: nested documents this transaction changed are flushed first, and read in a
	// copy of the snapshot that sees the flush (and nothing else new)
	bool flushed = pg::NestedPending();
	if (flushed) {
		pg::FlushNested();
		CommandCounterIncrement();
		PushCopiedSnapshot(GetActiveSnapshot());
		UpdateActiveSnapshotCommandId();
	}
	Oid reader = GetUserId();
	pg::ConnectSpi();
	Oid source = pg::ReadableSource(PG_GETARG_DATUM(0), false, reader);
	Datum id = KeyIdFromText(source, TextDatumGetCString(PG_GETARG_DATUM(1)));
	bool is_null;
	Datum doc = ReaderDocument(source, reader, PG_GETARG_DATUM(0), id, &is_null);
	SPI_finish();
	if (flushed)
		PopActiveSnapshot();
	if (is_null)
		PG_RETURN_NULL();
	return doc;
}

} // namespace

STORE_ENTRY(store_item_id, EntryIdOf)
STORE_ENTRY(store_get, Get)
