// store_apply(changeset jsonb): writes an @ngrx/data ChangeSet to the keys' source tables as the
// calling role, in array order, inside an internal subtransaction (as a PL/pgSQL exception block
// runs one): a conflict or an error rolls the whole batch back. The core parses and plans
// (core/changeset.hpp); this file looks the tables up, runs each statement through SPI and builds
// the answer. C++ objects live in this file's C++ frames; every PostgreSQL call runs in PgCall.
#include "core/changeset.hpp"
#include "core/error.hpp"
#include "core/payload.hpp"
#include "pg/apply_plans.hpp"
#include "pg/canonical.hpp"
#include "pg/guard.hpp"
#include "pg/nested.hpp"
#include "pg/roles.hpp"
#include "pg/spi_session.hpp"
#include "pg/sql_names.hpp"

extern "C" {
#include "utils/datum.h"
#include "utils/resowner.h"
#include "utils/typcache.h"
#include "catalog/pg_operator.h"
}

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using store::core::ApplyColumn;
using store::core::ApplyStatement;
using store::core::ApplyTable;
using store::core::ChangeOp;
using store::core::ChangeSet;
using store::core::EntityPlan;
using store::core::Error;
using store::core::JsonString;
using store::core::JsonValue;
using store::core::ParseJson;
using store::core::RenderJson;
using store::pg::PgCall;
using store::pg::PgError;

using Row = std::vector<std::optional<std::string>>;

// Keeps store_apply's kept plans in place for the length of a call (see apply_plans.hpp).
struct ApplyPlansInUse {
	ApplyPlansInUse()
	{
		PgCall([] { store::pg::EnterApplyPlans(); });
	}
	~ApplyPlansInUse() { store::pg::LeaveApplyPlans(); }
	ApplyPlansInUse(const ApplyPlansInUse &) = delete;
	ApplyPlansInUse &operator=(const ApplyPlansInUse &) = delete;
};

// Where the batch is, for the DETAIL of an error raised by a statement.
struct Place {
	bool known = false;
	std::size_t change = 0;
	std::size_t index = 0;
	std::string key;
};

// Runs sql with text parameters (at most 4) as the caller or as the store owner; the rows, as text.
std::vector<Row>
Execute(const std::string &sql, const std::vector<std::string> &args, bool as_owner, bool read_only = false)
{
	const char *sql_text = sql.c_str();
	const char *arg_text[4] = {nullptr, nullptr, nullptr, nullptr};
	int nargs = static_cast<int>(args.size());
	for (int i = 0; i < nargs && i < 4; i++)
		arg_text[i] = args[i].c_str();
	char **cells = nullptr;
	uint64 rows = 0;
	int columns = 0;
	PgCall([&] {
		Datum values[4];
		Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		for (int i = 0; i < nargs; i++)
			values[i] = CStringGetTextDatum(arg_text[i]);
		store::pg::SavedUser saved = {};
		if (as_owner)
			saved = store::pg::BecomeStoreOwner();
		int rc = SPI_execute_plan(store::pg::ApplyPlan(sql_text, nargs, types), values, nullptr, read_only, 0);
		if (rc < 0)
			elog(ERROR, "store_apply: SPI failed: %s", SPI_result_code_string(rc));
		if (as_owner)
			store::pg::RestoreUser(saved);
		if (SPI_tuptable != nullptr) {
			rows = SPI_processed;
			columns = SPI_tuptable->tupdesc->natts;
			cells = static_cast<char **>(palloc0(sizeof(char *) * (rows * columns + 1)));
			for (uint64 r = 0; r < rows; r++)
				for (int c = 0; c < columns; c++)
					cells[r * columns + c] = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);
			SPI_freetuptable(SPI_tuptable);
		}
	});
	std::vector<Row> result;
	for (uint64 r = 0; r < rows; r++) {
		Row row;
		for (int c = 0; c < columns; c++) {
			const char *cell = cells[r * columns + c];
			row.push_back(cell ? std::optional<std::string>(cell) : std::nullopt);
		}
		result.push_back(std::move(row));
	}
	return result;
}

// "OPERATOR(schema.=)": the default equality of type (the one its btree opclass uses).
std::string
EqualityOperator(Oid type)
{
	char *ns = nullptr;
	char *name = nullptr;
	PgCall([&] {
		TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_EQ_OPR);
		if (!OidIsValid(entry->eq_opr))
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
			                errmsg("store_apply: key type %s has no equality operator", format_type_be(type))));
		HeapTuple tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(entry->eq_opr));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "store_apply: cache lookup failed for operator %u", entry->eq_opr);
		Form_pg_operator op = (Form_pg_operator)GETSTRUCT(tuple);
		ns = pstrdup(quote_identifier(get_namespace_name(op->oprnamespace)));
		name = pstrdup(NameStr(op->oprname));
		ReleaseSysCache(tuple);
	});
	return std::string("OPERATOR(") + ns + "." + name + ")";
}

// A column type as SQL that means the same under any search_path: schema-qualified, with its
// modifier ("pg_catalog.numeric(10,2)", "public.mood").
std::string
TypeName(Oid type, int32 typmod)
{
	char *name = nullptr;
	PgCall([&] { name = format_type_extended(type, typmod, FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY); });
	return name;
}

// The registration of key: its table and columns (and in *owner the table's owner); 42704 when no
// such key is registered.
ApplyTable
LoadTable(const std::string &key, std::size_t change, Oid *owner)
{
	std::vector<Row> rows = Execute(store::pg::sql::kApplyTableColumns, {key}, true);
	if (rows.empty())
		throw Error("42704", "store_apply: change " + std::to_string(change) + ": no store key \"" + key + "\"",
		            "\"entityName\" names a registered key (store.keys).");
	ApplyTable table;
	table.key = key;
	table.relation = *rows[0][0];
	*owner = static_cast<Oid>(std::stoul(*rows[0][6]));
	std::vector<std::pair<int, std::size_t>> key_columns;
	for (const Row &row : rows) {
		ApplyColumn column;
		column.name = *row[1];
		column.primary_key = row[3].has_value();
		column.writable = *row[4] == "t" || column.primary_key;
		column.type = TypeName(static_cast<Oid>(std::stoul(*row[2])), std::stoi(*row[5]));
		if (column.primary_key) {
			column.equality = EqualityOperator(static_cast<Oid>(std::stoul(*row[2])));
			key_columns.emplace_back(std::stoi(*row[3]), table.columns.size());
		}
		table.columns.push_back(std::move(column));
	}
	std::sort(key_columns.begin(), key_columns.end());
	for (const auto &k : key_columns)
		table.primary_key.push_back(k.second);
	return table;
}

// An entity whose $expect did not hold.
struct Conflict {
	std::size_t change = 0;
	std::size_t index = 0;
	std::string key;
	JsonValue id;
};

// What the batch did: temporary ids, rows it did not find, its conflicts (in order) and, when a
// statement failed after a conflict, where it stopped.
struct Outcome {
	bool duplicate = false;
	std::vector<std::pair<std::string, JsonValue>> ids;
	std::vector<std::string> unmatched;       // rendered {"change","index","entityName","id"}
	std::vector<std::string> skipped;         // adds and upserts a trigger skipped, rendered as unmatched
	std::map<std::string, Place> skipped_tmp; // "$tmp" name -> the add a trigger skipped
	std::vector<Conflict> conflicts;
	bool wrote = false;  // a statement of the batch wrote a row
	std::string stopped; // rendered {"change","index","entityName","sqlstate","message"}, or empty
	std::string history_before = "0";
	std::set<std::pair<std::string, std::string>> named; // (key, id) of the entities that named their row
};

// What a statement did: the rows it returned or wrote, and its first returned row as its render
// query turned it into text (when it has one and returned a row).
struct Ran {
	std::uint64_t rows = 0;
	std::optional<std::string> rendered;
};

// Runs render (ApplyStatement::render) over the first row of rows, its columns as $1..$n and
// render_value (when not NULL) as text $n+1, as the table's owner in a security-restricted
// operation under the store's canonical output settings, as documents are rendered (a type's
// cast to json is the owner's code, never run as the caller); frees rows; its one value as text.
// Called inside PgCall.
char *
RenderRow(SPITupleTable *rows, const char *render, const char *render_value, Oid owner)
{
	TupleDesc desc = rows->tupdesc;
	int columns = desc->natts;
	int nargs = columns + (render_value ? 1 : 0);
	Datum *args = static_cast<Datum *>(palloc0(sizeof(Datum) * (nargs + 1)));
	Oid *types = static_cast<Oid *>(palloc0(sizeof(Oid) * (nargs + 1)));
	char *nulls = static_cast<char *>(palloc0(nargs + 1));
	for (int i = 0; i < columns; i++) {
		Form_pg_attribute attribute = TupleDescAttr(desc, i);
		bool isnull = false;
		Datum value = SPI_getbinval(rows->vals[0], desc, i + 1, &isnull);
		types[i] = attribute->atttypid;
		nulls[i] = isnull ? 'n' : ' ';
		args[i] = isnull ? (Datum)0 : datumCopy(value, attribute->attbyval, attribute->attlen);
	}
	if (render_value) {
		types[columns] = TEXTOID;
		nulls[columns] = ' ';
		args[columns] = CStringGetTextDatum(render_value);
	}
	SPI_freetuptable(rows);
	store::pg::SavedUser saved = store::pg::BecomeRole(owner);
	int nest_level = store::pg::EnterCanonicalOutput();
	int rc = SPI_execute_plan(store::pg::ApplyPlan(render, nargs, types), args, nulls, true, 1);
	if (rc < 0 || SPI_processed != 1 || SPI_tuptable == nullptr)
		elog(ERROR, "store_apply: rendering failed: %s", SPI_result_code_string(rc));
	char *text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	store::pg::LeaveCanonicalOutput(nest_level);
	store::pg::RestoreUser(saved);
	return text;
}

// Runs one statement as the caller, under the caller's settings (its values are read as the
// caller's session reads them), and renders its first row under the canonical ones as the
// table's owner (ids and $expect values as documents show them).
Ran
Run(const ApplyStatement &statement, Oid owner)
{
	const char *sql = statement.sql.c_str();
	const char *values = statement.values.c_str();
	const char *key = statement.key.empty() ? "{}" : statement.key.c_str();
	const char *render = statement.render.empty() ? nullptr : statement.render.c_str();
	const char *render_value = statement.render_value.empty() ? nullptr : statement.render_value.c_str();
	uint64 rows = 0;
	char *rendered = nullptr;
	PgCall([&] {
		Datum args[2] = {CStringGetTextDatum(values), CStringGetTextDatum(key)};
		Oid types[2] = {TEXTOID, TEXTOID};
		int rc = SPI_execute_plan(store::pg::ApplyPlan(sql, 2, types), args, nullptr, false, 0);
		if (rc < 0)
			elog(ERROR, "store_apply: SPI failed: %s", SPI_result_code_string(rc));
		rows = SPI_processed;
		if (render != nullptr && rows > 0 && SPI_tuptable != nullptr)
			rendered = RenderRow(SPI_tuptable, render, render_value, owner);
		else if (SPI_tuptable != nullptr)
			SPI_freetuptable(SPI_tuptable);
	});
	Ran ran;
	ran.rows = rows;
	if (rendered)
		ran.rendered = std::string(rendered);
	return ran;
}

// The {"change","index","entityName","id"} object naming an entity.
std::string
EntityRef(std::size_t change, std::size_t index, const std::string &key, const JsonValue &id)
{
	return "{\"change\":" + std::to_string(change) + ",\"index\":" + std::to_string(index) +
	       ",\"entityName\":" + JsonString(key) + ",\"id\":" + RenderJson(id);
}

// The name of the role running store_apply (current_user): replays are recorded per role.
std::string
CallerRole()
{
	const char *name = nullptr;
	PgCall([&] { name = pstrdup(GetUserNameFromId(GetUserId(), false)); });
	return name;
}

// Whether the transaction is read-only (SET TRANSACTION READ ONLY, a standby).
bool
ReadOnlyTransaction()
{
	bool read_only = false;
	PgCall([&] { read_only = XactReadOnly; });
	return read_only;
}

// Checks and records the replay of (role, client, mutation); true when it was applied already.
// In a read-only transaction a replay is only read (it writes nothing: the record is the answer);
// a batch that is not one goes on to record itself, which fails there (25006).
bool
IsReplay(const ChangeSet &set, const std::string &role)
{
	if (ReadOnlyTransaction()) {
		std::vector<Row> rows = Execute(store::pg::sql::kApplyReadClient, {role, *set.client_id}, true, true);
		if (!rows.empty() && rows[0][0] && std::stoll(*rows[0][0]) >= *set.mutation_id)
			return true;
	}
	Execute(store::pg::sql::kApplyAddClient, {role, *set.client_id}, true);
	std::vector<Row> rows = Execute(store::pg::sql::kApplyLockClient, {role, *set.client_id}, true);
	return !rows.empty() && rows[0][0] && std::stoll(*rows[0][0]) >= *set.mutation_id;
}

// {"change","index","entityName","sqlstate","message"}: the statement that failed after a conflict.
std::string
StoppedAt(const Place &place, const PgError &error)
{
	const char *sqlstate = nullptr;
	const char *message = nullptr;
	PgCall([&] {
		sqlstate = pstrdup(unpack_sql_state(error.data->sqlerrcode));
		message = pstrdup(error.data->message ? error.data->message : "");
	});
	return "{\"change\":" + std::to_string(place.change) + ",\"index\":" + std::to_string(place.index) +
	       ",\"entityName\":" + JsonString(place.key) + ",\"sqlstate\":" + JsonString(sqlstate) +
	       ",\"message\":" + JsonString(message) + "}";
}

// The SQLSTATE of a PostgreSQL error.
std::string
SqlState(const PgError &error)
{
	const char *sqlstate = nullptr;
	PgCall([&] { sqlstate = pstrdup(unpack_sql_state(error.data->sqlerrcode)); });
	return sqlstate;
}

// The id of an add or upsert as its entity gave it: its key, {"$tmp": name}, or null (left to the
// key's default).
JsonValue
GivenId(const EntityPlan &plan, const store::core::ChangeEntity &entity)
{
	if (plan.id)
		return *plan.id;
	JsonValue id;
	if (entity.tmp.empty())
		return id;
	JsonValue name;
	name.kind = JsonValue::Kind::kString;
	name.text = entity.tmp;
	id.kind = JsonValue::Kind::kObject;
	id.members.emplace_back("$tmp", name);
	return id;
}

// Refuses (22023) an entity whose "$ref" names an add a trigger skipped: that add has no key.
void
CheckRefsWritten(const store::core::ChangeEntity &entity, const Place &place, const Outcome &outcome)
{
	for (const std::string &ref : entity.refs) {
		auto found = outcome.skipped_tmp.find(ref);
		if (found == outcome.skipped_tmp.end())
			continue;
		const Place &add = found->second;
		throw Error("22023",
		            "store_apply: " + store::core::ChangePlace(place.change, place.index) + " (key \"" + place.key +
		                "\"): \"$ref\": \"" + ref + "\" names the add of " +
		                store::core::ChangePlace(add.change, add.index) + " (key \"" + add.key +
		                "\"), whose row a trigger skipped (a BEFORE INSERT trigger returned NULL): it has no key",
		            "The batch's answer lists such adds in \"skipped\"; a \"$ref\" needs a row that was written.");
	}
}

// Runs one entity's check and write; a $expect that does not hold is a conflict, recorded in
// outcome, and the entity writes nothing. An add or upsert that wrote no row (a trigger skipped
// it) is recorded as skipped.
void
RunEntity(ChangeOp op, const EntityPlan &plan, const store::core::ChangeEntity &entity, const Place &place,
          std::map<std::string, JsonValue> &ids, Outcome &outcome, Oid owner)
{
	if (plan.id)
		outcome.named.insert({place.key, RenderJson(*plan.id)});
	if (plan.check) {
		Ran same = Run(*plan.check, owner);
		if (!same.rendered || *same.rendered != "t") {
			outcome.conflicts.push_back(Conflict{place.change, place.index, place.key, *plan.id});
			return;
		}
	}
	if (!plan.write)
		return;
	Ran written = Run(*plan.write, owner);
	outcome.wrote = outcome.wrote || written.rows > 0;
	if (written.rows == 0 && (op == ChangeOp::kAdd || op == ChangeOp::kUpsert)) {
		// an INSERT that wrote no row: a BEFORE INSERT trigger returned NULL (or, for an upsert's
		// existing row, a BEFORE UPDATE one)
		outcome.skipped.push_back(EntityRef(place.change, place.index, place.key, GivenId(plan, entity)) + "}");
		if (!entity.tmp.empty())
			outcome.skipped_tmp[entity.tmp] = place;
		return;
	}
	if (written.rows == 0) {
		if (plan.id)
			outcome.unmatched.push_back(EntityRef(place.change, place.index, place.key, *plan.id) + "}");
		return;
	}
	if (!entity.tmp.empty() && written.rendered) {
		JsonValue id = ParseJson(*written.rendered);
		ids[entity.tmp] = id;
		outcome.named.insert({place.key, RenderJson(id)});
		outcome.ids.emplace_back(entity.tmp, id);
	}
}

// The batch, inside the subtransaction: every change in order. A conflict does not stop it (the
// conflicted entity writes nothing, the rest is evaluated, so every conflict is found); a
// statement that fails after a conflict stops it (unless its error must raise: see
// core::RaisesAfterConflict), the batch being rolled back anyway.
Outcome
RunBatch(const ChangeSet &set, Place &place)
{
	Outcome outcome;
	std::string role = set.client_id ? CallerRole() : std::string();
	if (set.client_id && IsReplay(set, role)) {
		outcome.duplicate = true;
		return outcome;
	}
	outcome.history_before = *Execute(store::pg::sql::kApplyHistoryBefore, {}, true)[0][0];
	std::map<std::string, ApplyTable> tables;
	std::map<std::string, Oid> owners;
	std::map<std::string, JsonValue> ids;
	for (std::size_t c = 0; c < set.changes.size(); c++) {
		const auto &change = set.changes[c];
		place = Place{false, c, 0, change.entity_name};
		auto found = tables.find(change.entity_name);
		if (found == tables.end())
			found =
			    tables.emplace(change.entity_name, LoadTable(change.entity_name, c, &owners[change.entity_name])).first;
		const ApplyTable &table = found->second;
		for (std::size_t e = 0; e < change.entities.size(); e++) {
			// an entity with "$ref"s is copied with them resolved; one without is used as it is
			std::optional<store::core::ChangeEntity> resolved;
			if (!change.entities[e].refs.empty()) {
				resolved = change.entities[e];
				CheckRefsWritten(*resolved, Place{true, c, e, change.entity_name}, outcome);
				if (resolved->id)
					resolved->id = store::core::ResolveRefs(*resolved->id, ids);
				resolved->fields = store::core::ResolveRefs(resolved->fields, ids);
				if (resolved->expect)
					resolved->expect = store::core::ResolveRefs(*resolved->expect, ids);
			}
			const store::core::ChangeEntity &entity = resolved ? *resolved : change.entities[e];
			EntityPlan plan = store::core::PlanEntity(table, change.op, entity, c, e);
			place = Place{true, c, e, change.entity_name};
			try {
				RunEntity(change.op, plan, entity, place, ids, outcome, owners[change.entity_name]);
			} catch (PgError &error) {
				if (outcome.conflicts.empty() || store::core::RaisesAfterConflict(SqlState(error)))
					throw;
				outcome.stopped = StoppedAt(place, error);
				return outcome;
			}
		}
	}
	place.known = false;
	if (!outcome.conflicts.empty())
		return outcome;
	// a batch that wrote nothing records nothing (no row grows for it): its replay runs again
	if (set.client_id && outcome.wrote)
		Execute(store::pg::sql::kApplyRecordMutation, {role, *set.client_id, std::to_string(*set.mutation_id)}, true);
	else if (set.client_id)
		Execute(store::pg::sql::kApplyForgetNewClient, {role, *set.client_id}, true);
	return outcome;
}

// The text store_get reads as id: a string's content, any other id as its JSON text.
std::string
IdText(const JsonValue &id)
{
	return id.kind == JsonValue::Kind::kString ? id.text : RenderJson(id);
}

// Whether the caller may read key (store_get would answer, not refuse).
bool
MayRead(const std::string &key)
{
	Oid reader = InvalidOid;
	PgCall([&] { reader = GetUserId(); });
	std::vector<Row> rows = Execute(store::pg::sql::kApplyMayRead, {std::to_string(reader), key}, true);
	return !rows.empty() && rows[0][0] && *rows[0][0] == "t";
}

// The document of id in key as the caller reads it (store_get), or "null"; the caller may read
// key (MayRead).
std::string
ReadableDocument(const std::string &schema, const std::string &key, const JsonValue &id)
{
	std::vector<Row> rows = Execute("SELECT " + schema + ".store_get($1, $2)", {key, IdText(id)}, false);
	return rows.empty() || !rows[0][0] ? "null" : *rows[0][0];
}

// The document of id in key as the caller reads it (store_get), or "null".
std::string
CurrentDocument(const std::string &schema, const std::string &key, const JsonValue &id)
{
	if (!MayRead(key))
		return "null";
	return ReadableDocument(schema, key, id);
}

// The stored documents of ids in key, in their order ("null" for an id without one): what
// store_get answers a reader that may read key and that row-level security does not filter,
// read in one statement instead of one call per id.
std::vector<std::string>
StoredDocuments(const std::string &key, const std::vector<JsonValue> &ids)
{
	JsonValue list;
	list.kind = JsonValue::Kind::kArray;
	list.items = ids;
	std::vector<std::string> docs;
	for (const Row &row : Execute(store::pg::sql::kApplyStoredDocuments, {key, RenderJson(list)}, true))
		docs.push_back(row[0] ? *row[0] : "null");
	return docs;
}

// Whether row-level security filters key's rows for the caller (store._rls_active).
bool
UnderRls(const std::string &key)
{
	Oid reader = InvalidOid;
	PgCall([&] { reader = GetUserId(); });
	std::vector<Row> rows = Execute(store::pg::sql::kApplyRlsActive, {std::to_string(reader), key}, true);
	return !rows.empty() && rows[0][0] && *rows[0][0] == "t";
}

// {"<key>": {"upserted": [...], "deleted": [...]}, ...} of the documents the batch changed: its
// history rows (flat keys append one per write) and the nested documents its flush wrote (which
// may merge into a history row an earlier call of the transaction wrote, older than the batch).
// A document the caller cannot read is "deleted" (gone from its view), except in a key that
// row-level security filters for it, where only the ids the batch named are: other rows (a
// cascade, a trigger's writes) may be rows it never saw, and naming them would tell it they
// exist; such a key says "refetch": true instead.
std::string
ChangedDocuments(const std::string &schema, const Outcome &outcome,
                 const std::vector<std::pair<std::string, std::string>> &flushed)
{
	std::vector<std::pair<std::string, std::string>> changed;
	for (const Row &row : Execute(store::pg::sql::kApplyHistoryAfter, {outcome.history_before}, true))
		changed.emplace_back(*row[0], *row[1]);
	changed.insert(changed.end(), flushed.begin(), flushed.end());
	std::vector<std::string> keys;
	std::map<std::string, std::vector<JsonValue>> ids;
	std::set<std::pair<std::string, std::string>> seen;
	for (const auto &[key, id_text] : changed) {
		JsonValue id = ParseJson(id_text);
		if (!seen.insert({key, RenderJson(id)}).second)
			continue;
		if (ids.find(key) == ids.end())
			keys.push_back(key);
		ids[key].push_back(id);
	}
	std::string out = "{";
	for (const std::string &key : keys) {
		if (!MayRead(key))
			continue;
		// the caller's rights on key are checked once; under row-level security each document is
		// read as store_get reads it for the caller, otherwise all of them in one statement
		bool under_rls = UnderRls(key);
		std::vector<std::string> docs;
		if (under_rls)
			for (const JsonValue &id : ids[key])
				docs.push_back(ReadableDocument(schema, key, id));
		else
			docs = StoredDocuments(key, ids[key]);
		std::string upserted, deleted;
		bool refetch = false;
		for (std::size_t i = 0; i < ids[key].size(); i++) {
			const JsonValue &id = ids[key][i];
			const std::string &doc = docs[i];
			if (doc == "null" && outcome.named.count({key, RenderJson(id)}) == 0 && under_rls) {
				refetch = true;
				continue;
			}
			std::string &list = doc == "null" ? deleted : upserted;
			list += (list.empty() ? "" : ",") + (doc == "null" ? RenderJson(id) : doc);
		}
		out += (out.size() > 1 ? "," : "") + JsonString(key) + ":{\"upserted\":[" + upserted + "],\"deleted\":[" +
		       deleted + "]" + (refetch ? ",\"refetch\":true}" : "}");
	}
	return out + "}";
}

// Starts (begin) or ends (commit or roll back) the batch's subtransaction, back in the caller's
// memory context, as PL/pgSQL's exception blocks do: the batch runs under the subtransaction's
// resource owner (so a rollback after a statement's error releases what that statement held),
// and the caller's owner is back after the end.
enum class Batch { kBegin, kCommit, kRollBack };
void
Subtransaction(Batch action, MemoryContext context, ResourceOwner owner)
{
	PgCall([&] {
		if (action == Batch::kBegin)
			BeginInternalSubTransaction(nullptr);
		else if (action == Batch::kCommit)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		if (action != Batch::kBegin)
			CurrentResourceOwner = owner;
	});
}

// Adds "store_apply: change C, entity E (key K)" to the DETAIL of a PostgreSQL error.
void
NameThePlace(PgError &error, const Place &place)
{
	std::string where =
	    "store_apply: " + store::core::ChangePlace(place.change, place.index) + " (key \"" + place.key + "\")";
	const char *where_text = where.c_str();
	PgCall([&] {
		ErrorData *data = error.data;
		data->detail = data->detail ? psprintf("%s; %s", where_text, data->detail) : pstrdup(where_text);
	});
}

// ,"name":[entities...] for a non-empty list of rendered entities; empty when there is none.
std::string
EntityList(const char *name, const std::vector<std::string> &entities)
{
	if (entities.empty())
		return "";
	std::string out = ",\"" + std::string(name) + "\":[";
	for (std::size_t i = 0; i < entities.size(); i++)
		out += (i ? "," : "") + entities[i];
	return out + "]";
}

// The answer of an applied batch.
std::string
AppliedAnswer(const ChangeSet &set, const Outcome &outcome, const std::string &documents)
{
	std::string out =
	    "{\"applied\":true,\"tag\":" + (set.tag ? RenderJson(*set.tag) : std::string("null")) + ",\"ids\":{";
	for (std::size_t i = 0; i < outcome.ids.size(); i++)
		out += (i ? "," : "") + JsonString(outcome.ids[i].first) + ":" + RenderJson(outcome.ids[i].second);
	out += "},\"documents\":" + documents;
	out += EntityList("unmatched", outcome.unmatched);
	out += EntityList("skipped", outcome.skipped);
	return out + "}";
}

// The answer of a batch with conflicts (rolled back): each conflict with the document as it is now.
std::string
ConflictAnswer(const std::string &schema, const ChangeSet &set, const Outcome &outcome)
{
	std::string out =
	    "{\"applied\":false,\"tag\":" + (set.tag ? RenderJson(*set.tag) : std::string("null")) + ",\"conflicts\":[";
	for (std::size_t i = 0; i < outcome.conflicts.size(); i++) {
		const Conflict &conflict = outcome.conflicts[i];
		out += (i ? "," : "") + EntityRef(conflict.change, conflict.index, conflict.key, conflict.id) +
		       ",\"current\":" + CurrentDocument(schema, conflict.key, conflict.id) + "}";
	}
	out += "]";
	if (!outcome.stopped.empty())
		out += ",\"stopped\":" + outcome.stopped;
	return out + "}";
}

// store_apply(changeset jsonb) -> jsonb.
Datum
Apply(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
		        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store_apply: the change set must not be NULL")));
	char *text = nullptr;
	const char *schema_name = nullptr;
	Oid function = fcinfo->flinfo->fn_oid;
	Jsonb *changeset = PG_GETARG_JSONB_P(0);
	text = JsonbToCString(nullptr, &changeset->root, (int)VARSIZE(changeset));
	schema_name = quote_identifier(get_namespace_name(get_func_namespace(function)));
	char *answer = nullptr;
	[&] {
		ApplyPlansInUse plans_in_use;
		ChangeSet set = store::core::ParseChangeSet(text);
		std::string schema = schema_name;
		store::pg::FlushNested(); // the caller's earlier writes: not the batch's documents
		PgCall([&] { store::pg::ConnectSpi(); });
		MemoryContext context = CurrentMemoryContext;
		ResourceOwner owner = CurrentResourceOwner;
		Subtransaction(Batch::kBegin, context, owner);
		Place place;
		Outcome outcome;
		try {
			outcome = RunBatch(set, place);
		} catch (PgError &error) {
			Subtransaction(Batch::kRollBack, context, owner);
			if (place.known)
				NameThePlace(error, place);
			throw;
		} catch (...) {
			Subtransaction(Batch::kRollBack, context, owner);
			throw;
		}
		std::string result;
		if (outcome.duplicate) {
			Subtransaction(Batch::kRollBack, context, owner);
			result = "{\"applied\":true,\"duplicate\":true}";
		} else if (!outcome.conflicts.empty()) {
			Subtransaction(Batch::kRollBack, context, owner);
			result = ConflictAnswer(schema, set, outcome);
		} else {
			Subtransaction(Batch::kCommit, context, owner);
			std::vector<std::pair<std::string, std::string>> flushed;
			store::pg::FlushNested(&flushed); // nested documents the batch touched, written now (throws C++ errors)
			result = AppliedAnswer(set, outcome, ChangedDocuments(schema, outcome, flushed));
		}
		const char *result_text = result.c_str();
		PgCall([&] {
			SPI_finish();
			answer = pstrdup(result_text);
		});
	}();
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(answer));
}

// store_forget_client(client_id text) -> boolean (STRICT): forgets the record of client_id's last
// mutation for the calling role only (written as the store owner, like store_apply's records).
Datum
ForgetClient(FunctionCallInfo fcinfo)
{
	const char *client = TextDatumGetCString(PG_GETARG_DATUM(0));
	bool forgotten = false;
	[&] {
		ApplyPlansInUse plans_in_use;
		std::string role = CallerRole();
		PgCall([&] { store::pg::ConnectSpi(); });
		forgotten = !Execute(store::pg::sql::kApplyForgetClient, {role, client}, true).empty();
		PgCall([&] { SPI_finish(); });
	}();
	PG_RETURN_BOOL(forgotten);
}

} // namespace

STORE_ENTRY(store_apply, Apply)
STORE_ENTRY(store_forget_client, ForgetClient)
