// Nested keys: what registration checks (store._nested_registration), the SQL rendering their
// documents (store._nested_query, used by store._source_query) and store_explain.
#include "core/error.hpp"
#include "pg/nested.hpp"
#include "pg/args.hpp"
#include "pg/guard.hpp"
#include "pg/reader.hpp"
#include "pg/roles.hpp"
#include "pg/shape_resolve.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"
#include "pg/trust.hpp"

extern "C" {
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/rls.h"
}

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace store;
using pg::TextArg;

// Errors (42501) unless owner may select column attnum of relid.
void
RequireOwnerSelects(Oid relid, AttrNumber attnum, Oid owner)
{
	if (pg_class_aclcheck(relid, owner, ACL_SELECT) == ACLCHECK_OK ||
	    pg_attribute_aclcheck(relid, attnum, owner, ACL_SELECT) == ACLCHECK_OK)
		return;
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
	                errmsg("the owner \"%s\" of the key's table cannot read column \"%s\" of table \"%s\"",
	                       GetUserNameFromId(owner, false), get_attname(relid, attnum, false), get_rel_name(relid)),
	                errdetail("Nested documents are rendered with the rights of the root table's owner."),
	                errhint("GRANT SELECT on the column to that role, or leave the column out of the shape.")));
}

// Errors (42501) when row-level security on the embedded table relid applies to owner: one
// rendering serves every reader, so rows hidden from the owner would silently vanish. At
// registration, and at every flush, reload or verification of the key (a role that lost
// BYPASSRLS or its membership in the table's owner, which no event trigger sees): the store then
// renders nothing, and the writes reaching the key fail, rather than store documents missing rows.
void
RequireNoRls(Oid relid, Oid owner)
{
	if (check_enable_rls(relid, owner, true) != RLS_ENABLED)
		return;
	const char *table = get_rel_name(relid);
	const char *role = GetUserNameFromId(owner, false);
	ereport(ERROR,
	        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
	         errmsg("row-level security on table \"%s\" applies to \"%s\", the owner of the key's table", table, role),
	         errdetail("Nested documents are rendered once for every reader, as the root table's owner: rows that "
	                   "row-level security hides from it would be missing from them, so the store renders none and "
	                   "refuses the writes that would change them."),
	         errhint("Let \"%s\" read every row of \"%s\" (ALTER ROLE %s BYPASSRLS, or GRANT %s TO %s: the table's "
	                 "owner), or disable row-level security on the table, or leave the table out of the key's shape "
	                 "(unregister the key first).",
	                 role, table, quote_identifier(role),
	                 quote_identifier(GetUserNameFromId(pg::RelationOwner(relid), false)), quote_identifier(role))));
}

// The checks of one table the shape reads (columns: attnums, count n) for the root's owner;
// the root itself goes through RequireRenderableSource (its key must render canonically too).
// Only trivially destructible locals: PostgreSQL calls only.
void
CheckTable(Oid relid, bool root, Oid owner, const int *columns, int n)
{
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("nested keys cannot read partitioned table \"%s\" yet", get_rel_name(relid)),
		                errhint("Register a flat key for a partitioned table.")));
	if (root) {
		AttrNumber *attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * Max(n, 1)));
		for (int i = 0; i < n; i++)
			attnums[i] = (AttrNumber)columns[i];
		pg::RequireRenderableSource(relid, attnums, n);
		return;
	}
	RequireNoRls(relid, owner);
	for (int i = 0; i < n; i++) {
		RequireOwnerSelects(relid, (AttrNumber)columns[i], owner);
		pg::RequireTrustedRendering(relid, owner, (AttrNumber)columns[i]);
	}
}

// A NOTICE that the lookup from node's table back to its documents has no index.
void
NoticeUnindexed(const char *path, const char *join)
{
	ereport(NOTICE, (errmsg("no index serves the lookup of the documents embedding \"%s\" (%s)", path, join),
	                 errdetail("A change to that table finds its documents by scanning; so does rendering."),
	                 errhint("Create an index on the foreign-key columns of the table holding them.")));
}

// text[] of the root's read columns' names, in attnum order.
Datum
ColumnNames(Oid relid, const std::vector<int> &attnums)
{
	Datum result = 0;
	pg::PgCall([&] {
		Datum *names = static_cast<Datum *>(palloc(sizeof(Datum) * Max(attnums.size(), size_t{1})));
		for (size_t i = 0; i < attnums.size(); i++)
			names[i] = CStringGetTextDatum(get_attname(relid, (AttrNumber)attnums[i], false));
		result = PointerGetDatum(construct_array(names, (int)attnums.size(), TEXTOID, -1, false, TYPALIGN_INT));
	});
	return result;
}

// A text datum of a C++ string.
Datum
TextOf(const std::string &value)
{
	Datum result = 0;
	pg::PgCall([&] { result = PointerGetDatum(cstring_to_text_with_len(value.data(), (int)value.size())); });
	return result;
}

// store._nested_registration(source, shape): (nested, columns) for store.keys: the shape's
// canonical text and the root columns it reads; errors for what registration refuses (see
// RequireNestedRenderable), NOTICEs for unindexed lookups.
Datum
NestedRegistration(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("source table must not be NULL")));
	Oid source = PG_GETARG_OID(0);
	std::string_view text = TextArg(fcinfo, 1, "shape");
	const core::ResolvedShape resolved = pg::ResolveShapeFor(source, text);
	pg::RequireNestedRenderable(resolved);
	for (const core::ResolvedNode *node : core::ResolvedNodes(resolved))
		if (!node->index_ok)
			pg::PgCall([&] { NoticeUnindexed(node->path.c_str(), node->join_text.c_str()); });
	std::vector<int> columns = resolved.root.read_columns;
	std::sort(columns.begin(), columns.end());
	Datum values[2] = {TextOf(core::RenderShape(core::ParseShape(text))), ColumnNames(source, columns)};
	Datum result = 0;
	pg::PgCall([&] {
		TupleDesc desc;
		if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "store._nested_registration must return a record");
		bool nulls[2] = {false, false};
		result = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
	});
	return result;
}

// store._nested_query(source, nested): the SQL expression (json) rendering the document of
// source's row aliased t, after the checks of registration (rendering must still be allowed).
Datum
NestedQuery(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("source table must not be NULL")));
	Oid source = PG_GETARG_OID(0);
	const core::ResolvedShape resolved = pg::ResolveShapeFor(source, TextArg(fcinfo, 1, "shape"));
	pg::RequireNestedRenderable(resolved);
	return TextOf(core::ShapeQuery(resolved, pg::sql::kSourceRowAlias));
}

// True when reader may read table relid's columns (attnums, n) as a nested key's embedded table.
// Only trivially destructible locals.
bool
ReaderMayReadTable(Oid relid, Oid reader, const int *columns, int n)
{
	if (pg_namespace_aclcheck(get_rel_namespace(relid), reader, ACL_USAGE) != ACLCHECK_OK)
		return false;
	if (check_enable_rls(relid, reader, true) == RLS_ENABLED)
		return false;
	if (pg_class_aclcheck(relid, reader, ACL_SELECT) == ACLCHECK_OK)
		return true;
	for (int i = 0; i < n; i++)
		if (pg_attribute_aclcheck(relid, (AttrNumber)columns[i], reader, ACL_SELECT) != ACLCHECK_OK)
			return false;
	return true;
}

// What reading a nested key checks beyond its root, from its resolved shape: each embedded table
// (and many-to-many junction) with the columns the shape reads there.
struct NestedRead {
	std::vector<std::pair<Oid, std::vector<int>>> tables;
	std::vector<Oid> relations; // every table of the shape, the root's too: what invalidates it
};

// The resolved reads by (root, shape text), kept for the backend: resolving a shape is catalog
// work on every read of the key. Forgotten on a relcache invalidation of one of their tables.
std::map<std::pair<Oid, std::string>, std::shared_ptr<const NestedRead>> *nested_reads = nullptr;
uint64 nested_reads_epoch = 0; // counts invalidations: a resolution that saw one is not kept

// Forgets the reads that use relid (all of them on a cache reset: InvalidOid). No PostgreSQL calls.
void
InvalidateNestedReads(Datum, Oid relid)
{
	nested_reads_epoch++;
	if (nested_reads == nullptr)
		return;
	if (relid == InvalidOid) {
		nested_reads->clear();
		return;
	}
	for (auto entry = nested_reads->begin(); entry != nested_reads->end();) {
		const std::vector<Oid> &relations = entry->second->relations;
		bool uses = std::find(relations.begin(), relations.end(), relid) != relations.end();
		entry = uses ? nested_reads->erase(entry) : std::next(entry);
	}
}

// The reads of root's shape, resolved now or kept; nullptr when the shape no longer resolves.
std::shared_ptr<const NestedRead>
NestedReadFor(Oid root, const char *shape)
{
	if (nested_reads == nullptr) {
		nested_reads = new std::map<std::pair<Oid, std::string>, std::shared_ptr<const NestedRead>>();
		pg::PgCall([] { CacheRegisterRelcacheCallback(InvalidateNestedReads, (Datum)0); });
	}
	std::pair<Oid, std::string> id(root, shape);
	auto found = nested_reads->find(id);
	if (found != nested_reads->end())
		return found->second;
	uint64 epoch = nested_reads_epoch;
	core::ResolvedShape resolved;
	try {
		resolved = pg::ResolveShapeFor(root, shape);
	} catch (const core::Error &) {
		return nullptr; // the catalog changed under the key: it no longer follows its tables
	}
	auto read = std::make_shared<NestedRead>();
	for (const core::ResolvedNode *node : core::ResolvedNodes(resolved)) {
		read->relations.push_back(node->table);
		if (node == &resolved.root)
			continue;
		read->tables.emplace_back(node->table, node->read_columns);
		if (node->kind == core::EdgeKind::kManyToMany) {
			read->relations.push_back(node->junction);
			read->tables.emplace_back(node->junction, node->junction_read_columns);
		}
	}
	if (epoch == nested_reads_epoch)
		(*nested_reads)[id] = read;
	return read;
}

} // namespace

namespace store::pg {

bool
MayReadNested(Oid root, const char *shape, Oid reader)
{
	std::shared_ptr<const NestedRead> read = NestedReadFor(root, shape);
	if (read == nullptr)
		return false;
	for (const auto &[table, columns] : read->tables) {
		bool may = false;
		Oid relid = table;
		const std::vector<int> &read_columns = columns;
		PgCall([&] { may = ReaderMayReadTable(relid, reader, read_columns.data(), (int)read_columns.size()); });
		if (!may)
			return false;
	}
	return true;
}

void
RequireNestedRenderable(const core::ResolvedShape &shape)
{
	Oid root = shape.root.table;
	Oid owner = InvalidOid;
	PgCall([&] { owner = RelationOwner(root); });
	for (const core::ResolvedNode *node : core::ResolvedNodes(shape)) {
		bool is_root = node == &shape.root;
		const std::vector<int> &columns = node->read_columns;
		PgCall([&] { CheckTable(node->table, is_root, owner, columns.data(), (int)columns.size()); });
		if (node->kind == core::EdgeKind::kManyToMany) {
			const std::vector<int> &junction = node->junction_read_columns;
			PgCall([&] { CheckTable(node->junction, false, owner, junction.data(), (int)junction.size()); });
		}
	}
}

} // namespace store::pg

STORE_ENTRY(store_nested_registration, NestedRegistration)
STORE_ENTRY(store_nested_query, NestedQuery)
