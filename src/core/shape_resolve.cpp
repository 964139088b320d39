// store core: resolving a shape against the catalog (PostgREST's relationship rules) and the SQL
// that renders a document from the resolved tree.
#include "core/shape_resolve.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <set>
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

namespace {

// SQLSTATEs of resolution errors (PostgreSQL's errcodes.txt).
constexpr const char *kUndefinedTable = "42P01";
constexpr const char *kUndefinedColumn = "42703";
constexpr const char *kUndefinedObject = "42704";
constexpr const char *kAmbiguousAlias = "42P09";
constexpr const char *kWrongObjectType = "42809";
constexpr const char *kFeatureNotSupported = "0A000";
constexpr const char *kObjectNotInPrerequisiteState = "55000";

// Most key/value pairs one json_build_object call takes (PostgreSQL's FUNC_MAX_ARGS is 100).
constexpr std::size_t kPairsPerCall = 50;

// Longest root alias ShapeQuery accepts: its derived aliases stay below NAMEDATALEN.
constexpr std::size_t kMaxRootAlias = 40;

// A relationship that could join a parent to an embedded table.
struct Candidate {
	EdgeKind kind;
	bool child_holds_key;
	const CatalogForeignKey *key;
	const CatalogForeignKey *far_key; // many-to-many
	const CatalogTable *junction;     // many-to-many
};

// " (embedded as "path")", or "" at the root: where in the shape an error is.
std::string
At(const std::string &path)
{
	return path.empty() ? std::string() : " (embedded as \"" + path + "\")";
}

// The names of columns (by attnum) of table, comma-separated.
std::string
ColumnList(const CatalogTable &table, const std::vector<int> &attnums)
{
	std::string out;
	for (int attnum : attnums) {
		const CatalogColumn *column = table.Column(attnum);
		out += (out.empty() ? "" : ", ") + (column ? column->sql_name : "?");
	}
	return out;
}

// True when the two attnum lists hold the same columns, in any order.
bool
SameColumns(std::vector<int> a, std::vector<int> b)
{
	std::sort(a.begin(), a.end());
	std::sort(b.begin(), b.end());
	return a == b;
}

// True when every column of part is in whole.
bool
Contains(const std::vector<int> &whole, const std::vector<int> &part)
{
	return std::all_of(part.begin(), part.end(),
	                   [&](int attnum) { return std::find(whole.begin(), whole.end(), attnum) != whole.end(); });
}

// True when a unique index of table is exactly on columns.
bool
IsUnique(const CatalogTable &table, const std::vector<int> &columns)
{
	return std::any_of(table.unique.begin(), table.unique.end(),
	                   [&](const std::vector<int> &key) { return SameColumns(key, columns); });
}

// True when an index of table leads with columns (in any order): lookups by them are indexed.
bool
HasLeadingIndex(const CatalogTable &table, const std::vector<int> &columns)
{
	return std::any_of(table.indexes.begin(), table.indexes.end(), [&](const std::vector<int> &index) {
		return index.size() >= columns.size() &&
		       SameColumns(std::vector<int>(index.begin(), index.begin() + (long)columns.size()), columns);
	});
}

// The quoted names of columns (by attnum) of table.
std::vector<std::string>
SqlNames(const CatalogTable &table, const std::vector<int> &attnums)
{
	std::vector<std::string> names;
	for (int attnum : attnums) {
		const CatalogColumn *column = table.Column(attnum);
		if (column == nullptr)
			throw Error(kUndefinedColumn,
			            "column " + std::to_string(attnum) + " of table " + table.SqlName() + " is not a live column");
		names.push_back(column->sql_name);
	}
	return names;
}

// A string literal for SQL, read the same whatever standard_conforming_strings says: E'...'.
std::string
Literal(const std::string &text)
{
	std::string out = "E'";
	for (char c : text) {
		if (c == '\'' || c == '\\')
			out += '\\';
		out += c;
	}
	return out + "'";
}

// An identifier for SQL, always double-quoted.
std::string
Quoted(const std::string &name)
{
	std::string out = "\"";
	for (char c : name) {
		if (c == '"')
			out += '"';
		out += c;
	}
	return out + "\"";
}

// Resolves one shape against the catalog, node by node.
class Resolver {
public:
	Resolver(Catalog &catalog, const CatalogTable &root) : catalog_(catalog), root_(root) {}

	// Fills node (whose table is set) from the items of its object.
	void
	ResolveObject(const std::vector<ShapeItem> &items, const CatalogTable &table, ResolvedNode *node)
	{
		for (const ShapeItem &item : items) {
			switch (item.kind) {
			case ShapeItemKind::kStar:
				for (const CatalogColumn &column : table.columns)
					AddColumn(column, column.name, node);
				break;
			case ShapeItemKind::kColumn:
				AddColumn(RequireColumn(table, item.name, node->path), item.OutputKey(), node);
				break;
			case ShapeItemKind::kEmbedding:
				AddEmbedding(item, table, node);
				break;
			}
		}
		RequireUniqueKeys(table, *node);
	}

	// Errors unless table can be a document's root or embedded object: an ordinary or partitioned
	// table, not a partition (its rows belong to its partitioned table's relationships).
	static void
	RequireEmbeddable(const CatalogTable &table, const std::string &path)
	{
		if (table.kind != 'r' && table.kind != 'p')
			throw Error(kWrongObjectType, "relation " + table.SqlName() + " is not a table" + At(path),
			            "Documents are built from ordinary and partitioned tables; views, materialized views and "
			            "foreign tables cannot be embedded.");
		if (table.is_partition)
			throw Error(kFeatureNotSupported, "table " + table.SqlName() + " is a partition" + At(path),
			            "Name its partitioned table instead: its rows include this partition's.");
		// emptied by crash recovery (unlogged) or gone with its session (temporary), without the
		// store's logged documents following
		if (table.persistence != 'p')
			throw Error(kFeatureNotSupported,
			            "table " + table.SqlName() + " is " + (table.persistence == 'u' ? "unlogged" : "temporary") +
			                At(path),
			            "Documents are kept in logged tables: a crash would empty it but not them. Use a "
			            "permanent, logged table (ALTER TABLE ... SET LOGGED).");
	}

private:
	// Appends a column field to node.
	static void
	AddColumn(const CatalogColumn &column, const std::string &key, ResolvedNode *node)
	{
		ResolvedField field;
		field.key = key;
		field.attnum = column.attnum;
		field.sql = column.sql_name;
		node->fields.push_back(std::move(field));
		node->read_columns.push_back(column.attnum);
	}

	// The live column of table named name; 42703 when there is none.
	static const CatalogColumn &
	RequireColumn(const CatalogTable &table, const std::string &name, const std::string &path)
	{
		const CatalogColumn *column = table.Column(name);
		if (column == nullptr)
			throw Error(kUndefinedColumn,
			            "column \"" + name + "\" does not exist in table " + table.SqlName() + At(path),
			            "A shape names columns of the table whose object they are in; * shows all of them.");
		return *column;
	}

	// 22023 when two fields of node render under one key (e.g. a column named again after *).
	static void
	RequireUniqueKeys(const CatalogTable &table, const ResolvedNode &node)
	{
		std::set<std::string> seen;
		for (const ResolvedField &field : node.fields)
			if (!seen.insert(field.key).second)
				throw Error(sqlstate::kInvalidParameterValue,
				            "key \"" + field.key + "\" appears twice in the object of table " + table.SqlName() +
				                At(node.path),
				            "Each key of an object is shown once: give one of them another name (alias:column), "
				            "or list the columns instead of *.");
	}

	// PostgREST's embedding of the row a self-referencing foreign key points to: an item without
	// hint named after the key's one column (`manager:manager_id(name)`), where no table of that
	// name has a relationship with parent (a table created with that name and no foreign key, by
	// anyone who may create tables in the schema, changes nothing). The foreign key, or nullptr.
	const CatalogForeignKey *
	SelfKeyNamed(const ShapeItem &item, const CatalogTable &parent)
	{
		if (!item.hint.empty())
			return nullptr;
		for (const CatalogForeignKey &fk : parent.foreign_keys) {
			const CatalogColumn *column = fk.referencing.size() == 1 ? parent.Column(fk.referencing[0]) : nullptr;
			if (fk.referenced_table == parent.oid && column != nullptr && column->name == item.name) {
				const CatalogTable *named = catalog_.FindTable(root_.schema, item.name);
				return named == nullptr || Candidates(parent, *named).empty() ? &fk : nullptr;
			}
		}
		return nullptr;
	}

	// The embedded table named name, looked up in the root table's schema.
	const CatalogTable &
	FindEmbedded(const std::string &name, const std::string &path)
	{
		const CatalogTable *table = catalog_.FindTable(root_.schema, name);
		if (table == nullptr)
			throw Error(kUndefinedTable,
			            "table \"" + name + "\" does not exist in schema " + root_.sql_schema + At(path),
			            "Embedded tables are looked up in the schema of the root table " + root_.SqlName() +
			                "; names are case-sensitive, as in PostgREST.");
		RequireEmbeddable(*table, path);
		return *table;
	}

	// Every relationship between parent and child, by PostgREST's rules.
	std::vector<Candidate>
	Candidates(const CatalogTable &parent, const CatalogTable &child)
	{
		std::vector<Candidate> found;
		for (const CatalogForeignKey &fk : parent.foreign_keys)
			if (fk.referenced_table == child.oid)
				found.push_back({IsUnique(parent, fk.referencing) ? EdgeKind::kOneToOne : EdgeKind::kManyToOne, false,
				                 &fk, nullptr, nullptr});
		for (const CatalogForeignKey &fk : child.foreign_keys)
			if (fk.referenced_table == parent.oid)
				found.push_back({IsUnique(child, fk.referencing) ? EdgeKind::kOneToOne : EdgeKind::kOneToMany, true,
				                 &fk, nullptr, nullptr});
		for (CatalogOid junction_oid : parent.referenced_by) {
			if (junction_oid == parent.oid || junction_oid == child.oid)
				continue;
			const CatalogTable &junction = catalog_.Table(junction_oid);
			if (junction.primary_key.empty())
				continue;
			for (const CatalogForeignKey &to_parent : junction.foreign_keys) {
				if (to_parent.referenced_table != parent.oid || !Contains(junction.primary_key, to_parent.referencing))
					continue;
				for (const CatalogForeignKey &to_child : junction.foreign_keys)
					if (to_child.referenced_table == child.oid && &to_child != &to_parent &&
					    Contains(junction.primary_key, to_child.referencing))
						found.push_back({EdgeKind::kManyToMany, false, &to_parent, &to_child, &junction});
			}
		}
		return found;
	}

	// The table holding candidate's foreign key (many-to-many: the junction).
	const CatalogTable &
	Holder(const Candidate &candidate, const CatalogTable &parent, const CatalogTable &child)
	{
		if (candidate.junction != nullptr)
			return *candidate.junction;
		return candidate.child_holds_key ? child : parent;
	}

	// True when hint names candidate: its constraint, one of its columns on the side holding it,
	// or (many-to-many) the junction table or its foreign key to the child.
	bool
	Matches(const Candidate &candidate, const CatalogTable &holder, const std::string &hint)
	{
		if (candidate.key->name == hint)
			return true;
		if (candidate.junction != nullptr)
			return candidate.junction->name == hint || candidate.far_key->name == hint;
		return std::any_of(candidate.key->referencing.begin(), candidate.key->referencing.end(), [&](int attnum) {
			const CatalogColumn *column = holder.Column(attnum);
			return column != nullptr && column->name == hint;
		});
	}

	// "holder(columns) -> target(columns)" for a foreign key.
	std::string
	KeyText(const CatalogForeignKey &fk)
	{
		const CatalogTable &holder = catalog_.Table(fk.referencing_table);
		const CatalogTable &target = catalog_.Table(fk.referenced_table);
		return holder.sql_relname + "(" + ColumnList(holder, fk.referencing) + ") -> " + target.sql_relname + "(" +
		       ColumnList(target, fk.referenced) + ")";
	}

	// The edge a candidate makes, for a reader: its join(s).
	std::string
	JoinText(const Candidate &candidate)
	{
		std::string text = KeyText(*candidate.key);
		if (candidate.far_key != nullptr)
			text += ", " + KeyText(*candidate.far_key);
		return text;
	}

	// How a hint selects candidate: table!constraint, table!junction for many-to-many.
	static std::string
	HintText(const Candidate &candidate, const std::string &table_name)
	{
		// (a junction between a table and itself: its foreign key to the embedded rows tells the two apart)
		bool self_junction =
		    candidate.junction != nullptr && candidate.key->referenced_table == candidate.far_key->referenced_table;
		return RenderShapeName(table_name) + "!" +
		       RenderShapeName(self_junction                   ? candidate.far_key->name
		                       : candidate.junction != nullptr ? candidate.junction->name
		                                                       : candidate.key->name);
	}

	// The candidates listed for an error: "table!x (kind: join), ...".
	std::string
	Listing(const std::vector<Candidate> &candidates, const std::string &table_name)
	{
		std::string out;
		for (const Candidate &candidate : candidates)
			out += (out.empty() ? "" : ", ") + HintText(candidate, table_name) + " (" + EdgeKindName(candidate.kind) +
			       ": " + JoinText(candidate) + ")";
		return out;
	}

	// The one relationship item names between parent and child; errors for none or several.
	Candidate
	ChooseRelationship(const ShapeItem &item, const CatalogTable &parent, const CatalogTable &child,
	                   const std::string &path)
	{
		std::vector<Candidate> all = Candidates(parent, child);
		// A table embedded in itself by its name: PostgREST's rule, the rows whose foreign key points
		// to the parent row (one-to-many; the row a key points to is embedded by the key's column).
		if (parent.oid == child.oid)
			all.erase(std::remove_if(all.begin(), all.end(),
			                         [](const Candidate &c) { return c.junction == nullptr && !c.child_holds_key; }),
			          all.end());
		std::vector<Candidate> chosen;
		for (const Candidate &candidate : all)
			if (item.hint.empty() ||
			    (parent.oid == child.oid && candidate.junction != nullptr
			         ? candidate.far_key->name == item.hint || candidate.junction->name == item.hint
			         : Matches(candidate, Holder(candidate, parent, child), item.hint)))
				chosen.push_back(candidate);
		std::string between = "table " + parent.SqlName() + " and table " + child.SqlName();
		if (chosen.empty() && all.empty())
			throw Error(kUndefinedObject, "no relationship between " + between + At(path),
			            "Embedding needs a foreign key between the two tables, or a junction table whose primary key "
			            "holds foreign keys to both.");
		if (chosen.empty())
			throw Error(kUndefinedObject,
			            "no relationship between " + between + " matches hint \"" + item.hint + "\"" + At(path),
			            "A hint names a foreign key constraint, one of its columns, or a junction table; the "
			            "relationships are: " +
			                Listing(all, item.name) + ".");
		if (chosen.size() > 1)
			throw Error(kAmbiguousAlias, "more than one relationship between " + between + At(path),
			            "Choose one with a hint: " + Listing(chosen, item.name) + ".");
		return chosen.front();
	}

	// Fills the edge of node from the chosen relationship.
	void
	SetEdge(const Candidate &candidate, const CatalogTable &parent, const CatalogTable &child, ResolvedNode *node)
	{
		node->kind = candidate.kind;
		node->child_holds_key = candidate.child_holds_key;
		const CatalogTable &holder = Holder(candidate, parent, child);
		const CatalogTable &key_target = candidate.junction != nullptr || candidate.child_holds_key ? parent : child;
		node->join = {*candidate.key, SqlNames(holder, candidate.key->referencing),
		              SqlNames(key_target, candidate.key->referenced)};
		node->index_ok = HasLeadingIndex(holder, candidate.key->referencing);
		node->join_text = JoinText(candidate);
		if (candidate.child_holds_key)
			node->read_columns.insert(node->read_columns.end(), candidate.key->referencing.begin(),
			                          candidate.key->referencing.end());
		else if (candidate.junction == nullptr)
			node->read_columns.insert(node->read_columns.end(), candidate.key->referenced.begin(),
			                          candidate.key->referenced.end());
		if (candidate.junction != nullptr) {
			const CatalogTable &junction = *candidate.junction;
			node->junction = junction.oid;
			node->junction_sql = junction.SqlName();
			node->junction_rows = junction.RowsSql();
			node->far_join = {*candidate.far_key, SqlNames(junction, candidate.far_key->referencing),
			                  SqlNames(child, candidate.far_key->referenced)};
			node->index_ok = node->index_ok && HasLeadingIndex(junction, candidate.far_key->referencing);
			node->junction_order_sql = SqlNames(junction, junction.primary_key);
			node->junction_read_columns = junction.primary_key;
			node->read_columns.insert(node->read_columns.end(), candidate.far_key->referenced.begin(),
			                          candidate.far_key->referenced.end());
		}
		if (node->IsArray()) {
			if (child.primary_key.empty())
				throw Error(kObjectNotInPrerequisiteState,
				            "table " + child.SqlName() + " has no primary key" + At(node->path),
				            "Arrays of embedded rows are ordered by their table's primary key, so that a document "
				            "renders the same every time: add one.");
			node->order_sql = SqlNames(child, child.primary_key);
			node->read_columns.insert(node->read_columns.end(), child.primary_key.begin(), child.primary_key.end());
		}
	}

	// Appends the embedding item of parent's object to node, resolved.
	void
	AddEmbedding(const ShapeItem &item, const CatalogTable &parent, ResolvedNode *node)
	{
		ResolvedNode child_node;
		child_node.path = node->path.empty() ? item.OutputKey() : node->path + "." + item.OutputKey();
		const CatalogForeignKey *self_key = SelfKeyNamed(item, parent);
		const CatalogTable &child = self_key != nullptr ? parent : FindEmbedded(item.name, child_node.path);
		child_node.table = child.oid;
		child_node.parent = parent.oid;
		child_node.table_sql = child.SqlName();
		child_node.table_rows = child.RowsSql();
		SetEdge(self_key != nullptr
		            ? Candidate{IsUnique(parent, self_key->referencing) ? EdgeKind::kOneToOne : EdgeKind::kManyToOne,
		                        false, self_key, nullptr, nullptr}
		            : ChooseRelationship(item, parent, child, child_node.path),
		        parent, child, &child_node);
		ResolveObject(item.children, child, &child_node);
		std::sort(child_node.read_columns.begin(), child_node.read_columns.end());
		child_node.read_columns.erase(std::unique(child_node.read_columns.begin(), child_node.read_columns.end()),
		                              child_node.read_columns.end());
		// The parent reads the columns its side of the join compares.
		if (!child_node.child_holds_key && child_node.junction == 0)
			node->read_columns.insert(node->read_columns.end(), child_node.join.fk.referencing.begin(),
			                          child_node.join.fk.referencing.end());
		else
			node->read_columns.insert(node->read_columns.end(), child_node.join.fk.referenced.begin(),
			                          child_node.join.fk.referenced.end());
		ResolvedField field;
		field.key = item.OutputKey();
		field.child = (int)node->children.size();
		node->fields.push_back(std::move(field));
		node->children.push_back(std::move(child_node));
	}

	Catalog &catalog_;
	const CatalogTable &root_;
};

// Builds the SQL of resolved nodes, numbering their aliases.
class QueryWriter {
public:
	explicit QueryWriter(const std::string &root_alias) : root_alias_(root_alias) {}

	// The json object of node's row named alias (a quoted alias).
	std::string
	Object(const ResolvedNode &node, const std::string &alias)
	{
		std::vector<std::string> calls;
		std::string pairs;
		std::size_t count = 0;
		for (const ResolvedField &field : node.fields) {
			std::string value =
			    field.child < 0 ? alias + "." + field.sql : Embedded(node.children[(std::size_t)field.child], alias);
			pairs += (count % kPairsPerCall == 0 ? "" : ", ") + Literal(field.key) + "::pg_catalog.text, " + value;
			if (++count % kPairsPerCall == 0) {
				calls.push_back("pg_catalog.json_build_object(" + pairs + ")");
				pairs.clear();
			}
		}
		if (count % kPairsPerCall != 0 || count == 0)
			calls.push_back("pg_catalog.json_build_object(" + pairs + ")");
		return Joined(calls);
	}

private:
	// One json object from several json_build_object calls of at most kPairsPerCall pairs each,
	// spliced as one call would have written it: "{a, b}" + "{c}" = "{a, b, c}".
	static std::string
	Joined(const std::vector<std::string> &calls)
	{
		if (calls.size() == 1)
			return calls.front();
		std::string text;
		for (std::size_t i = 0; i < calls.size(); i++) {
			std::string part = calls[i] + "::pg_catalog.text";
			if (i > 0)
				part = "pg_catalog.substr(" + part + ", 2)";
			if (i + 1 < calls.size())
				part = "pg_catalog.\"left\"(" + part + ", -1)";
			text += (i == 0 ? "" : " OPERATOR(pg_catalog.||) E', ' OPERATOR(pg_catalog.||) ") + part;
		}
		return "(" + text + ")::pg_catalog.json";
	}

	// The conditions "left OP right AND ..." of a join: target_alias's referenced columns compared
	// with holder_alias's referencing ones, by the foreign key's operators.
	static std::string
	Conditions(const ResolvedJoin &join, const std::string &holder_alias, const std::string &target_alias)
	{
		std::string out;
		for (std::size_t i = 0; i < join.referencing_sql.size(); i++)
			out += (i == 0 ? "" : " AND ") + target_alias + "." + join.referenced_sql[i] + " " + join.fk.operators[i] +
			       " " + holder_alias + "." + join.referencing_sql[i];
		return out;
	}

	// "ORDER BY a.x, a.y, j.z" for an array's rows.
	static std::string
	OrderBy(const ResolvedNode &node, const std::string &alias, const std::string &junction_alias)
	{
		std::string out;
		for (const std::string &column : node.order_sql)
			out += (out.empty() ? " ORDER BY " : ", ") + alias + "." + column;
		for (const std::string &column : node.junction_order_sql)
			out += ", " + junction_alias + "." + column;
		return out;
	}

	// The scalar subquery rendering node (an object, null, or an array) for its parent row (ONLY
	// the ordinary tables, as a flat key reads ONLY its table: see CatalogTable::RowsSql).
	std::string
	Embedded(const ResolvedNode &node, const std::string &parent_alias)
	{
		std::string number = std::to_string(++aliases_);
		std::string alias = Quoted(root_alias_ + "#" + number);
		std::string junction_alias = Quoted(root_alias_ + "#" + number + "j");
		std::string object = Object(node, alias);
		switch (node.kind) {
		case EdgeKind::kManyToMany:
			return "(SELECT COALESCE(pg_catalog.json_agg(" + object + OrderBy(node, alias, junction_alias) +
			       "), '[]'::pg_catalog.json) FROM " + node.junction_rows + " AS " + junction_alias + " JOIN " +
			       node.table_rows + " AS " + alias + " ON " + Conditions(node.far_join, junction_alias, alias) +
			       " WHERE " + Conditions(node.join, junction_alias, parent_alias) + ")";
		case EdgeKind::kOneToMany:
			return "(SELECT COALESCE(pg_catalog.json_agg(" + object + OrderBy(node, alias, junction_alias) +
			       "), '[]'::pg_catalog.json) FROM " + node.table_rows + " AS " + alias + " WHERE " +
			       Conditions(node.join, alias, parent_alias) + ")";
		default:
			return "(SELECT " + object + " FROM " + node.table_rows + " AS " + alias + " WHERE " +
			       (node.child_holds_key ? Conditions(node.join, alias, parent_alias)
			                             : Conditions(node.join, parent_alias, alias)) +
			       ")";
		}
	}

	std::string root_alias_;
	int aliases_ = 0;
};

// Appends node and its descendants to nodes, depth first.
void
Collect(const ResolvedNode &node, std::vector<const ResolvedNode *> *nodes)
{
	nodes->push_back(&node);
	for (const ResolvedField &field : node.fields)
		if (field.child >= 0)
			Collect(node.children[(std::size_t)field.child], nodes);
}

} // namespace

const CatalogColumn *
CatalogTable::Column(int attnum) const
{
	for (const CatalogColumn &column : columns)
		if (column.attnum == attnum)
			return &column;
	return nullptr;
}

const CatalogColumn *
CatalogTable::Column(const std::string &column_name) const
{
	for (const CatalogColumn &column : columns)
		if (column.name == column_name)
			return &column;
	return nullptr;
}

const char *
EdgeKindName(EdgeKind kind)
{
	switch (kind) {
	case EdgeKind::kRoot:
		return "root";
	case EdgeKind::kManyToOne:
		return "many-to-one";
	case EdgeKind::kOneToMany:
		return "one-to-many";
	case EdgeKind::kOneToOne:
		return "one-to-one";
	case EdgeKind::kManyToMany:
		return "many-to-many";
	}
	return "?";
}

ResolvedShape
ResolveShape(const Shape &shape, CatalogOid root, Catalog &catalog)
{
	const CatalogTable &table = catalog.Table(root);
	Resolver::RequireEmbeddable(table, "");
	ResolvedShape resolved;
	resolved.root.table = table.oid;
	resolved.root.table_sql = table.SqlName();
	Resolver(catalog, table).ResolveObject(shape.items, table, &resolved.root);
	std::sort(resolved.root.read_columns.begin(), resolved.root.read_columns.end());
	resolved.root.read_columns.erase(std::unique(resolved.root.read_columns.begin(), resolved.root.read_columns.end()),
	                                 resolved.root.read_columns.end());
	return resolved;
}

std::vector<const ResolvedNode *>
ResolvedNodes(const ResolvedShape &shape)
{
	std::vector<const ResolvedNode *> nodes;
	Collect(shape.root, &nodes);
	return nodes;
}

std::string
ShapeQuery(const ResolvedShape &shape, const std::string &root_alias)
{
	if (root_alias.empty() || root_alias.size() > kMaxRootAlias)
		throw Error(sqlstate::kInvalidParameterValue,
		            "the root alias of a shape query must have 1 to " + std::to_string(kMaxRootAlias) + " bytes");
	return QueryWriter(root_alias).Object(shape.root, Quoted(root_alias));
}

const CatalogTable &
CatalogBeforeRename::Table(CatalogOid oid)
{
	auto found = before_.find(oid);
	if (found != before_.end())
		return found->second;
	const CatalogTable &now = now_.Table(oid);
	bool changed = false;
	CatalogTable before = now;
	switch (rename_.kind) {
	case CatalogRename::Kind::kColumn:
		if (oid != rename_.table)
			return now;
		for (CatalogColumn &column : before.columns)
			if (column.attnum == rename_.attnum) {
				column.name = rename_.old_name;
				column.sql_name = Quoted(rename_.old_name);
				changed = true;
			}
		break;
	case CatalogRename::Kind::kTable:
		if (oid != rename_.table)
			return now;
		before.name = rename_.old_name;
		before.sql_relname = Quoted(rename_.old_name);
		changed = true;
		break;
	case CatalogRename::Kind::kConstraint:
		for (CatalogForeignKey &fk : before.foreign_keys)
			if (fk.oid == rename_.constraint) {
				fk.name = rename_.old_name;
				changed = true;
			}
		break;
	}
	if (!changed)
		return now;
	return before_.emplace(oid, std::move(before)).first->second;
}

const CatalogTable *
CatalogBeforeRename::FindTable(const std::string &schema, const std::string &name)
{
	const CatalogTable *now = now_.FindTable(schema, name);
	if (rename_.kind != CatalogRename::Kind::kTable)
		return now == nullptr ? nullptr : &Table(now->oid);
	const CatalogTable &renamed = Table(rename_.table);
	if (renamed.schema != schema)
		return now == nullptr ? nullptr : &Table(now->oid);
	if (name == rename_.old_name)
		return &renamed;
	return name == rename_.new_name ? nullptr : now == nullptr ? nullptr : &Table(now->oid);
}

namespace {

// True when fk is held by the renamed column's table and compares that column.
bool
HoldsRenamedColumn(const CatalogForeignKey &fk, const CatalogRename &rename)
{
	return fk.oid != 0 && fk.referencing_table == rename.table &&
	       std::find(fk.referencing.begin(), fk.referencing.end(), rename.attnum) != fk.referencing.end();
}

// True when the hint of an embedding resolved as node named the renamed object.
bool
HintNamesRenamed(const ResolvedNode &node, const CatalogRename &rename)
{
	switch (rename.kind) {
	case CatalogRename::Kind::kColumn:
		return node.junction == 0 && HoldsRenamedColumn(node.join.fk, rename);
	case CatalogRename::Kind::kTable:
		return node.junction != 0 && node.junction == rename.table;
	case CatalogRename::Kind::kConstraint:
		return node.join.fk.oid == rename.constraint ||
		       (node.junction != 0 && node.far_join.fk.oid == rename.constraint);
	}
	return false;
}

// Gives item the name new_name (dropping an alias that equals it).
void
Rename(ShapeItem *item, const std::string &new_name)
{
	item->name = new_name;
	if (item->alias == new_name)
		item->alias.clear();
}

// Renames, in the items of node's object, what rename renamed (see RenameInShape).
void
RenameInItems(std::vector<ShapeItem> *items, const ResolvedNode &node, const CatalogRename &rename)
{
	std::size_t child = 0;
	for (ShapeItem &item : *items) {
		if (item.kind == ShapeItemKind::kColumn) {
			if (rename.kind == CatalogRename::Kind::kColumn && node.table == rename.table &&
			    item.name == rename.old_name)
				Rename(&item, rename.new_name);
			continue;
		}
		if (item.kind != ShapeItemKind::kEmbedding || child >= node.children.size())
			continue;
		const ResolvedNode &embedded = node.children[child++];
		// (the row a self-referencing foreign key points to is named by the key's column)
		bool by_column = embedded.table == node.table && !embedded.child_holds_key && embedded.junction == 0;
		if (rename.kind == CatalogRename::Kind::kTable && !by_column && embedded.table == rename.table &&
		    item.name == rename.old_name)
			Rename(&item, rename.new_name);
		if (rename.kind == CatalogRename::Kind::kColumn && by_column && item.name == rename.old_name &&
		    HoldsRenamedColumn(embedded.join.fk, rename))
			Rename(&item, rename.new_name);
		if (item.hint == rename.old_name && HintNamesRenamed(embedded, rename))
			item.hint = rename.new_name;
		RenameInItems(&item.children, embedded, rename);
	}
}

} // namespace

Shape
RenameInShape(const Shape &shape, const ResolvedShape &resolved, const CatalogRename &rename)
{
	Shape renamed = shape;
	RenameInItems(&renamed.items, resolved.root, rename);
	return renamed;
}

} // namespace store::core
