// Reading tables, keys, indexes and foreign keys for shape resolution.
//
// Each lookup gathers its facts into palloc'd plain structs inside PgCall (frames there hold only
// trivially destructible values), then copies them into the core's C++ structs outside it.
#include "pg/relationships.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_operator.h"
}

namespace store::pg {

namespace {

// A foreign key, as plain data.
struct PlainForeignKey {
	Oid oid;
	const char *name;
	Oid referencing_table;
	Oid referenced_table;
	int count;
	AttrNumber referencing[INDEX_MAX_KEYS];
	AttrNumber referenced[INDEX_MAX_KEYS];
	const char *operators[INDEX_MAX_KEYS]; // "OPERATOR(schema.name)"
};

// An index's key columns as plain data: the plain columns leading it (an expression ends them).
struct PlainIndex {
	bool unique; // a unique index on plain columns only
	int count;
	AttrNumber columns[INDEX_MAX_KEYS];
};

// A table, as plain data (palloc'd arrays).
struct PlainTable {
	Oid oid;
	const char *schema;
	const char *name;
	const char *sql_schema;
	const char *sql_relname;
	char kind;
	bool is_partition;
	char persistence;
	int ncolumns;
	AttrNumber *attnums;
	const char **column_names;
	const char **column_sql_names;
	Oid *column_types;
	int nkeys;
	AttrNumber key[INDEX_MAX_KEYS];
	int nindexes;
	PlainIndex *indexes;
	int nforeign_keys;
	PlainForeignKey *foreign_keys;
	int nreferenced_by;
	Oid *referenced_by;
};

// "OPERATOR(schema.name)" for an operator: the foreign key's own comparison, schema-qualified.
const char *
OperatorSql(Oid operator_oid)
{
	HeapTuple tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(operator_oid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "store: cache lookup failed for operator %u", operator_oid);
	auto *form = reinterpret_cast<Form_pg_operator>(GETSTRUCT(tuple));
	const char *sql =
	    psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(form->oprnamespace)), NameStr(form->oprname));
	ReleaseSysCache(tuple);
	return sql;
}

// Reads the live columns of rel, in attribute order.
void
ReadColumns(Relation rel, PlainTable *table)
{
	TupleDesc desc = RelationGetDescr(rel);
	table->attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * Max(desc->natts, 1)));
	table->column_names = static_cast<const char **>(palloc(sizeof(char *) * Max(desc->natts, 1)));
	table->column_sql_names = static_cast<const char **>(palloc(sizeof(char *) * Max(desc->natts, 1)));
	table->column_types = static_cast<Oid *>(palloc(sizeof(Oid) * Max(desc->natts, 1)));
	table->ncolumns = 0;
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (att->attisdropped)
			continue;
		table->attnums[table->ncolumns] = att->attnum;
		table->column_names[table->ncolumns] = pstrdup(NameStr(att->attname));
		table->column_sql_names[table->ncolumns] = pstrdup(quote_identifier(NameStr(att->attname)));
		table->column_types[table->ncolumns] = att->atttypid;
		table->ncolumns++;
	}
}

// Reads the primary key and the valid, non-partial indexes of rel.
void
ReadIndexes(Relation rel, PlainTable *table)
{
	List *indexes = RelationGetIndexList(rel);
	Oid primary_key = RelationGetPrimaryKeyIndex(rel);
	table->indexes = static_cast<PlainIndex *>(palloc0(sizeof(PlainIndex) * Max(list_length(indexes), 1)));
	table->nindexes = 0;
	table->nkeys = 0;
	ListCell *cell;
	foreach (cell, indexes) {
		Oid index_oid = lfirst_oid(cell);
		HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index_oid));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "store: cache lookup failed for index %u", index_oid);
		auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
		if (index_oid == primary_key) {
			table->nkeys = form->indnkeyatts;
			for (int i = 0; i < form->indnkeyatts; i++)
				table->key[i] = form->indkey.values[i];
		}
		if (form->indisvalid && heap_attisnull(tuple, Anum_pg_index_indpred, nullptr)) {
			PlainIndex *index = &table->indexes[table->nindexes++];
			while (index->count < form->indnkeyatts && form->indkey.values[index->count] != 0) {
				index->columns[index->count] = form->indkey.values[index->count];
				index->count++;
			}
			index->unique = form->indisunique && index->count == form->indnkeyatts;
		}
		ReleaseSysCache(tuple);
	}
	list_free(indexes);
}

// Copies a foreign key's row of pg_constraint into plain data.
void
ReadForeignKey(HeapTuple tuple, PlainForeignKey *fk)
{
	auto *form = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
	Oid operators[INDEX_MAX_KEYS];
	fk->oid = form->oid;
	fk->name = pstrdup(NameStr(form->conname));
	fk->referencing_table = form->conrelid;
	fk->referenced_table = form->confrelid;
	DeconstructFkConstraintRow(tuple, &fk->count, fk->referencing, fk->referenced, operators, nullptr, nullptr, nullptr,
	                           nullptr);
	for (int i = 0; i < fk->count; i++)
		fk->operators[i] = OperatorSql(operators[i]);
}

// Reads the top-level foreign keys rel holds and the tables holding one to it (a partition's
// clones of a foreign key, conparentid set, are left out: the partitioned table's own counts).
void
ReadForeignKeys(Oid relid, PlainTable *table)
{
	Relation constraints = table_open(ConstraintRelationId, AccessShareLock);
	int room = 8;
	table->foreign_keys = static_cast<PlainForeignKey *>(palloc(sizeof(PlainForeignKey) * room));
	table->referenced_by = static_cast<Oid *>(palloc(sizeof(Oid) * room));
	table->nforeign_keys = 0;
	table->nreferenced_by = 0;
	SysScanDesc scan = systable_beginscan(constraints, InvalidOid, false, nullptr, 0, nullptr);
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		auto *form = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
		if (form->contype != CONSTRAINT_FOREIGN || OidIsValid(form->conparentid))
			continue;
		if (table->nforeign_keys == room || table->nreferenced_by == room) {
			room *= 2;
			table->foreign_keys =
			    static_cast<PlainForeignKey *>(repalloc(table->foreign_keys, sizeof(PlainForeignKey) * room));
			table->referenced_by = static_cast<Oid *>(repalloc(table->referenced_by, sizeof(Oid) * room));
		}
		if (form->conrelid == relid)
			ReadForeignKey(tuple, &table->foreign_keys[table->nforeign_keys++]);
		bool seen = false;
		for (int i = 0; i < table->nreferenced_by; i++)
			seen = seen || table->referenced_by[i] == form->conrelid;
		if (form->confrelid == relid && !seen)
			table->referenced_by[table->nreferenced_by++] = form->conrelid;
	}
	systable_endscan(scan);
	table_close(constraints, AccessShareLock);
}

// Reads everything resolution needs of relation relid (any kind), locking it AccessShareLock.
PlainTable *
ReadTable(Oid relid)
{
	auto *table = static_cast<PlainTable *>(palloc0(sizeof(PlainTable)));
	Relation rel = relation_open(relid, AccessShareLock);
	table->oid = relid;
	table->schema = get_namespace_name(RelationGetNamespace(rel));
	table->name = pstrdup(RelationGetRelationName(rel));
	table->sql_schema = quote_identifier(table->schema);
	table->sql_relname = quote_identifier(table->name);
	table->kind = rel->rd_rel->relkind;
	table->is_partition = rel->rd_rel->relispartition;
	table->persistence = rel->rd_rel->relpersistence;
	ReadColumns(rel, table);
	if (table->kind == RELKIND_RELATION || table->kind == RELKIND_PARTITIONED_TABLE)
		ReadIndexes(rel, table);
	relation_close(rel, NoLock);
	ReadForeignKeys(relid, table);
	return table;
}

// The attnums of a plain array, as the core holds them.
std::vector<int>
Attnums(const AttrNumber *attnums, int count)
{
	return std::vector<int>(attnums, attnums + count);
}

// The core's copy of a plain foreign key.
core::CatalogForeignKey
ToCore(const PlainForeignKey &plain)
{
	core::CatalogForeignKey fk;
	fk.oid = plain.oid;
	fk.name = plain.name;
	fk.referencing_table = plain.referencing_table;
	fk.referenced_table = plain.referenced_table;
	fk.referencing = Attnums(plain.referencing, plain.count);
	fk.referenced = Attnums(plain.referenced, plain.count);
	fk.operators.assign(plain.operators, plain.operators + plain.count);
	return fk;
}

// The core's copy of a plain table.
core::CatalogTable
ToCore(const PlainTable &plain)
{
	core::CatalogTable table;
	table.oid = plain.oid;
	table.schema = plain.schema;
	table.name = plain.name;
	table.sql_schema = plain.sql_schema;
	table.sql_relname = plain.sql_relname;
	table.kind = plain.kind;
	table.is_partition = plain.is_partition;
	table.persistence = plain.persistence;
	for (int i = 0; i < plain.ncolumns; i++)
		table.columns.push_back(
		    {plain.attnums[i], plain.column_names[i], plain.column_sql_names[i], plain.column_types[i]});
	table.primary_key = Attnums(plain.key, plain.nkeys);
	for (int i = 0; i < plain.nindexes; i++) {
		table.indexes.push_back(Attnums(plain.indexes[i].columns, plain.indexes[i].count));
		if (plain.indexes[i].unique)
			table.unique.push_back(table.indexes.back());
	}
	for (int i = 0; i < plain.nforeign_keys; i++)
		table.foreign_keys.push_back(ToCore(plain.foreign_keys[i]));
	table.referenced_by.assign(plain.referenced_by, plain.referenced_by + plain.nreferenced_by);
	return table;
}

} // namespace

const core::CatalogTable &
PgCatalog::Table(core::CatalogOid oid)
{
	auto found = tables_.find(oid);
	if (found != tables_.end())
		return found->second;
	PlainTable *plain = nullptr;
	PgCall([&] { plain = ReadTable(oid); });
	return tables_.emplace(oid, ToCore(*plain)).first->second;
}

const core::CatalogTable *
PgCatalog::FindTable(const std::string &schema, const std::string &name)
{
	const char *schema_name = schema.c_str();
	const char *table_name = name.c_str();
	Oid relid = InvalidOid;
	PgCall([&] {
		Oid namespace_oid = get_namespace_oid(schema_name, true);
		if (OidIsValid(namespace_oid))
			relid = get_relname_relid(table_name, namespace_oid);
	});
	return OidIsValid(relid) ? &Table(relid) : nullptr;
}

} // namespace store::pg
