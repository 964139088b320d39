// store core: the statements mapping changed rows of a shape's tables to root ids.
#include "core/reverse_lookup.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <map>
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

namespace {

constexpr const char *kObjectNotInPrerequisiteState = "55000";

// Built-in types whose equality means the same to_jsonb text (pg_type.dat's fixed oids): bool,
// int8, int2, int4, oid, date, timestamp, timestamptz, uuid.
constexpr CatalogOid kExactTypes[] = {16, 20, 21, 23, 26, 1082, 1114, 1184, 2950};

// The alias of the changed rows' values, and of their columns.
constexpr const char *kValues = "\"c\"";

// One column pair of a hop: the child row's column, the parent row's, and their comparison.
struct Pair {
	int child = 0;
	int parent = 0;
	std::string op; // OPERATOR(schema.=) comparing referenced = referencing
};

// One step up the path: from a row of one table to the rows of the table embedding it (or, for
// a many-to-many object, from the far table to the junction, then on to the parent).
struct Hop {
	CatalogOid parent = 0;
	bool child_holds_key = false; // the child side holds the foreign key (else the parent does)
	std::vector<Pair> pairs;
};

// A row of the FROM list: its alias and table; the columns given as values ("c") have their
// expressions in given.
struct RowRef {
	std::string alias;
	const CatalogTable *table = nullptr;
	std::map<int, std::string> given;

	// The SQL expression of the row's column attnum.
	std::string
	Column(int attnum) const
	{
		auto found = given.find(attnum);
		if (found != given.end())
			return found->second;
		const CatalogColumn *column = table->Column(attnum);
		if (alias.empty() || column == nullptr)
			throw Error(kObjectNotInPrerequisiteState,
			            "column " + std::to_string(attnum) + " of table " + table->SqlName() + " is not available");
		return alias + "." + column->sql_name;
	}
};

// The hop of a foreign key fk, the child side holding it or not.
Hop
KeyHop(const CatalogForeignKey &fk, bool child_holds_key, CatalogOid parent)
{
	Hop hop;
	hop.parent = parent;
	hop.child_holds_key = child_holds_key;
	for (std::size_t i = 0; i < fk.referencing.size(); i++) {
		Pair pair;
		pair.child = child_holds_key ? fk.referencing[i] : fk.referenced[i];
		pair.parent = child_holds_key ? fk.referenced[i] : fk.referencing[i];
		pair.op = fk.operators[i];
		hop.pairs.push_back(pair);
	}
	return hop;
}

// The hops from a row of node's table to its parent object's rows (two through a junction).
std::vector<Hop>
HopsUp(const ResolvedNode &node)
{
	if (node.kind == EdgeKind::kManyToMany)
		return {KeyHop(node.far_join.fk, false, node.junction), KeyHop(node.join.fk, true, node.parent)};
	return {KeyHop(node.join.fk, node.child_holds_key, node.parent)};
}

// "a OP b": the referenced side on the left, as the foreign key's operator expects.
std::string
Comparison(const Pair &pair, const Hop &hop, const RowRef &child, const RowRef &parent)
{
	std::string child_column = child.Column(pair.child);
	std::string parent_column = parent.Column(pair.parent);
	return hop.child_holds_key ? parent_column + " " + pair.op + " " + child_column
	                           : child_column + " " + pair.op + " " + parent_column;
}

// True when the values of a column of type type render to_jsonb the same whenever they are equal.
bool
ExactType(CatalogOid type)
{
	return std::find(std::begin(kExactTypes), std::end(kExactTypes), type) != std::end(kExactTypes);
}

// The root's id expression over row (single key: to_jsonb; composite: jsonb_build_array).
std::string
IdExpression(const std::vector<std::string> &key_columns)
{
	if (key_columns.size() == 1)
		return "pg_catalog.to_jsonb(" + key_columns.front() + ")";
	std::string list;
	for (const std::string &column : key_columns)
		list += (list.empty() ? "" : ", ") + column;
	return "pg_catalog.jsonb_build_array(" + list + ")";
}

// Builds one lookup statement, hop by hop from the changed rows up to the root.
class LookupWriter {
public:
	LookupWriter(Catalog &catalog, const CatalogTable &root) : catalog_(catalog), root_(root) {}

	// The statement for changed rows of table (values of columns) reaching the root by hops.
	std::string
	Write(const CatalogTable &table, const std::vector<int> &columns, const std::vector<Hop> &hops, bool *reads_tables)
	{
		RowRef current;
		current.table = &table;
		std::string params;
		std::string names;
		for (std::size_t i = 0; i < columns.size(); i++) {
			std::string name = "v" + std::to_string(i + 1);
			current.given[columns[i]] = std::string(kValues) + "." + name;
			params += (i == 0 ? "" : ", ") + std::string("pg_catalog.unnest($") + std::to_string(i + 1) + ")";
			names += (i == 0 ? "" : ", ") + name;
		}
		// unnest(a, b) zips only unqualified: ROWS FROM is what it stands for.
		if (columns.size() > 1)
			params = "ROWS FROM (" + params + ")";
		std::string from = params + " AS " + kValues + "(" + names + ")";
		std::vector<std::string> where;
		std::vector<std::string> id_columns;
		for (std::size_t i = 0; i < hops.size() && id_columns.empty(); i++) {
			const Hop &hop = hops[i];
			if (i + 1 == hops.size() && Shortcut(hop, current, &id_columns, &where))
				break;
			const CatalogTable &parent_table = catalog_.Table(hop.parent);
			RowRef parent;
			parent.alias = "\"t" + std::to_string(i + 1) + "\"";
			parent.table = &parent_table;
			from += ", " + parent_table.RowsSql() + " AS " + parent.alias; // (as the documents read it)
			for (const Pair &pair : hop.pairs)
				where.push_back(Comparison(pair, hop, current, parent));
			current = parent;
		}
		*reads_tables = !current.alias.empty();
		if (id_columns.empty())
			for (int attnum : root_.primary_key)
				id_columns.push_back(current.Column(attnum));
		std::string sql = "SELECT DISTINCT " + IdExpression(id_columns) + " AS id FROM " + from;
		for (std::size_t i = 0; i < where.size(); i++)
			sql += (i == 0 ? " WHERE " : " AND ") + where[i];
		return sql;
	}

private:
	// When the last hop's child holds a foreign key to exactly the root's primary key, in columns of
	// exact types: sets the id columns from the child's and requires them non-NULL.
	bool
	Shortcut(const Hop &hop, const RowRef &child, std::vector<std::string> *id_columns,
	         std::vector<std::string> *where) const
	{
		if (!hop.child_holds_key || hop.pairs.size() != root_.primary_key.size())
			return false;
		std::vector<std::string> columns;
		for (int key : root_.primary_key) {
			auto pair =
			    std::find_if(hop.pairs.begin(), hop.pairs.end(), [&](const Pair &p) { return p.parent == key; });
			if (pair == hop.pairs.end())
				return false;
			const CatalogColumn *child_column = child.table->Column(pair->child);
			const CatalogColumn *key_column = root_.Column(key);
			if (child_column == nullptr || key_column == nullptr || child_column->type != key_column->type ||
			    !ExactType(key_column->type))
				return false;
			columns.push_back(child.Column(pair->child));
		}
		for (const std::string &column : columns)
			where->push_back(column + " IS NOT NULL");
		*id_columns = columns;
		return true;
	}

	Catalog &catalog_;
	const CatalogTable &root_;
};

// The names of columns (attnums) of table.
std::vector<std::string>
ColumnNames(const CatalogTable &table, const std::vector<int> &columns)
{
	std::vector<std::string> names;
	for (int attnum : columns) {
		const CatalogColumn *column = table.Column(attnum);
		names.push_back(column != nullptr ? column->name : "?");
	}
	return names;
}

// attnums sorted, each once.
std::vector<int>
Sorted(std::vector<int> attnums)
{
	std::sort(attnums.begin(), attnums.end());
	attnums.erase(std::unique(attnums.begin(), attnums.end()), attnums.end());
	return attnums;
}

// Collects the lookups of node (reached by chain, root first) and its descendants.
void
Collect(const ResolvedNode &node, std::vector<const ResolvedNode *> *chain, LookupWriter &writer, Catalog &catalog,
        const CatalogTable &root, std::vector<ReverseLookup> *out)
{
	chain->push_back(&node);
	std::vector<Hop> hops; // from node up to the root
	for (std::size_t i = chain->size() - 1; i > 0; i--)
		for (Hop &hop : HopsUp(*(*chain)[i]))
			hops.push_back(std::move(hop));
	ReverseLookup lookup;
	lookup.path = node.path;
	lookup.table = node.table;
	const CatalogTable &table = catalog.Table(node.table);
	if (hops.empty())
		lookup.columns = root.primary_key;
	else
		for (const Pair &pair : hops.front().pairs)
			lookup.columns.push_back(pair.child);
	lookup.column_names = ColumnNames(table, lookup.columns);
	lookup.watched = node.read_columns;
	if (hops.empty()) // the root's key is the document's id
		lookup.watched.insert(lookup.watched.end(), root.primary_key.begin(), root.primary_key.end());
	lookup.watched = Sorted(lookup.watched);
	lookup.watched_names = ColumnNames(table, lookup.watched);
	lookup.sql = writer.Write(table, lookup.columns, hops, &lookup.reads_tables);
	out->push_back(std::move(lookup));
	if (node.kind == EdgeKind::kManyToMany) {
		ReverseLookup junction;
		junction.path = node.path;
		junction.table = node.junction;
		junction.junction = true;
		const CatalogTable &junction_table = catalog.Table(node.junction);
		std::vector<Hop> from_junction(hops.begin() + 1, hops.end());
		for (const Pair &pair : from_junction.front().pairs)
			junction.columns.push_back(pair.child);
		junction.column_names = ColumnNames(junction_table, junction.columns);
		junction.watched = Sorted(node.junction_read_columns);
		junction.watched_names = ColumnNames(junction_table, junction.watched);
		junction.sql = writer.Write(junction_table, junction.columns, from_junction, &junction.reads_tables);
		out->push_back(std::move(junction));
	}
	for (const ResolvedField &field : node.fields)
		if (field.child >= 0)
			Collect(node.children[(std::size_t)field.child], chain, writer, catalog, root, out);
	chain->pop_back();
}

} // namespace

std::vector<ReverseLookup>
ReverseLookups(const ResolvedShape &shape, Catalog &catalog)
{
	const CatalogTable &root = catalog.Table(shape.root.table);
	if (root.primary_key.empty())
		throw Error(kObjectNotInPrerequisiteState, "table " + root.SqlName() + " has no primary key",
		            "A document's id is its root row's primary key: add one.");
	LookupWriter writer(catalog, root);
	std::vector<const ResolvedNode *> chain;
	std::vector<ReverseLookup> lookups;
	Collect(shape.root, &chain, writer, catalog, root, &lookups);
	return lookups;
}

} // namespace store::core
